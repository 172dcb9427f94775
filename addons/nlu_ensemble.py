"""Two intent classifiers on the same features, one ranking: the mean of their confidences.

Rasa keeps only the last classifier's `intent_ranking`. In config.yml, `KeepRanking` after the first
classifier puts its ranking aside, and `MeanRanking` after the second replaces the ranking with the
mean of both. DIET (a neural network, confident and sometimes confidently wrong) and a logistic
regression (calibrated, less sharp) err on different questions: where they disagree, the mean has
no clear winner and the bot asks back instead of answering wrongly. The choice and its figures:
`bench/crossval.py`, bench/RESULTS.md.

Loaded by Rasa from config.yml (module path); the decision itself stays in `bot.matching`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.matching import mean_ranking

KEPT = "faq_first_ranking"  # message property, never part of the parse result


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class KeepRanking(GraphComponent):
    """Puts aside the ranking of the classifier just before it."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "KeepRanking":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            message.set(KEPT, list(message.get(INTENT_RANKING_KEY) or []))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MeanRanking(GraphComponent):
    """Replaces the ranking with the mean of the kept one and the current one."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"ranking_length": 10}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.length = int(config.get("ranking_length", 10))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MeanRanking":
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            kept = message.get(KEPT)
            if not kept:
                continue
            ranking = mean_ranking(kept, message.get(INTENT_RANKING_KEY) or [])
            if not ranking:
                continue
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[: self.length] if self.length > 0 else ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
