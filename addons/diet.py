"""Rasa's DIET, whose number of epochs shrinks as the FAQ grows past a budget of example passes.

DIET goes through every training example at each epoch: its training time grows with the number of
examples, hence with the FAQ (60 epochs over the 10,244 examples of a 300-answer FAQ: 8 minutes on
a 2-core machine). The more examples, the more optimisation steps each epoch makes, and the fewer
epochs the network needs. With `max_example_passes`, the epochs are cut to what that budget allows
(`epochs_for`), never above config.yml's `epochs`: the FAQ of today (1,762 examples) keeps its 45
epochs and the very same model; a 300-answer FAQ (about 11,000 examples) trains 15, and its training
stays within 5 minutes. What the fewer epochs cost, measured on the real questions held out inside
a 300-answer FAQ, and why not more: bench/PROFILE.md.

Loaded by Rasa from config.yml (module path).
"""

from __future__ import annotations

import logging
import math
from typing import Any, Dict, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import EPOCHS

logger = logging.getLogger(__name__)

MAX_EXAMPLE_PASSES = "max_example_passes"


def epochs_for(epochs: int, examples: int, max_example_passes: Optional[int]) -> int:
    """The epochs to train: `epochs`, or fewer if `examples` x `epochs` exceeds the budget."""
    if not max_example_passes or examples <= 0:
        return epochs
    return max(1, min(epochs, math.ceil(max_example_passes / examples)))


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class BudgetedDIETClassifier(DIETClassifier):
    """DIET trained for at most `max_example_passes` example passes (None: Rasa's DIET as it is)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DIETClassifier.get_default_config(), MAX_EXAMPLE_PASSES: None}

    def train(self, training_data: TrainingData) -> Resource:
        examples = len(training_data.intent_examples)
        configured = self.component_config[EPOCHS]
        self.component_config[EPOCHS] = epochs_for(configured, examples, self.component_config[MAX_EXAMPLE_PASSES])
        if self.component_config[EPOCHS] != configured:
            logger.info(
                f"DIET: {self.component_config[EPOCHS]} epochs instead of {configured} "
                f"for {examples} examples ({MAX_EXAMPLE_PASSES}={self.component_config[MAX_EXAMPLE_PASSES]})"
            )
        return super().train(training_data)
