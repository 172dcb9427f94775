"""The ensemble's Rasa components (addons/nlu_ensemble.py) on hand-made rankings."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from addons.nlu_ensemble import KeepRanking, MeanRanking, mean_ranking


def test_mean_ranking_averages_and_counts_a_missing_intent_as_zero():
    ranking = mean_ranking(
        [{"name": "a", "confidence": 0.8}, {"name": "b", "confidence": 0.2}],
        [{"name": "b", "confidence": 0.6}, {"name": "c", "confidence": 0.4}],
    )
    assert [r["name"] for r in ranking] == ["a", "b", "c"]
    assert [r["confidence"] for r in ranking] == pytest.approx([0.4, 0.4, 0.2])


def test_the_components_replace_the_last_ranking_with_the_mean():
    message = Message(data={"text": "x"})
    message.set("intent_ranking", [{"name": "ask_a", "confidence": 0.9}, {"name": "greet", "confidence": 0.1}])
    KeepRanking().process([message])
    message.set("intent_ranking", [{"name": "greet", "confidence": 0.7}, {"name": "ask_a", "confidence": 0.3}])
    MeanRanking({"ranking_length": 1}).process([message])
    assert message.get("intent") == {"name": "ask_a", "confidence": pytest.approx(0.6)}
    assert message.get("intent_ranking") == [{"name": "ask_a", "confidence": pytest.approx(0.6)}]
