"""DIET with a budget of example passes (addons/diet.py): the epochs it trains, and that today's FAQ
keeps config.yml's epochs (hence the very model that was cross-validated)."""

import logging

import pytest
import yaml

from addons.diet import MAX_EXAMPLE_PASSES, epochs_for
from bench.common import ROOT, training_examples


@pytest.mark.parametrize(
    "epochs, examples, budget, expected",
    [
        (60, 1284, 180_000, 60),  # today's FAQ: under the budget
        (60, 3000, 180_000, 60),
        (60, 3030, 180_000, 60),  # ceil(59.4)
        (60, 3100, 180_000, 59),
        (60, 10_244, 180_000, 18),  # 300 answers
        (60, 500_000, 180_000, 1),  # at least one
        (60, 10_244, None, 60),  # no budget: Rasa's DIET
        (60, 0, 180_000, 60),
    ],
)
def test_epochs_for(epochs, examples, budget, expected):
    assert epochs_for(epochs, examples, budget) == expected


def _diet():
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    return next(c for c in config["pipeline"] if c["name"] == "addons.diet.BudgetedDIETClassifier")


def test_todays_faq_trains_the_configured_epochs():
    diet = _diet()
    examples = sum(len(texts) for texts in training_examples().values())
    assert epochs_for(diet["epochs"], examples, diet[MAX_EXAMPLE_PASSES]) == diet["epochs"] == 45


def test_a_training_past_the_budget_runs_fewer_epochs(tmp_path, caplog, monkeypatch):
    """A real Rasa training: 24 examples, 50 epochs configured, a budget of 60 passes: 3 epochs."""
    from rasa.model_training import train_nlu

    nlu = {
        "version": "3.1",
        "nlu": [
            {"intent": "ask_cost", "examples": "".join(f"- combien coute la certification {i}\n" for i in range(12))},
            {"intent": "ask_date", "examples": "".join(f"- quand ouvre le guichet {i}\n" for i in range(12))},
        ],
    }
    (tmp_path / "nlu.yml").write_text(yaml.safe_dump(nlu, allow_unicode=True), encoding="utf-8")
    config = {
        "language": "fr",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "addons.diet.BudgetedDIETClassifier", "epochs": 50, MAX_EXAMPLE_PASSES: 60},
        ],
    }
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))  # trained here, not found in a cache
    with caplog.at_level(logging.INFO, logger="addons.diet"):
        model = train_nlu(str(tmp_path / "config.yml"), str(tmp_path / "nlu.yml"), str(tmp_path / "models"))
    assert model
    assert "DIET: 3 epochs instead of 50 for 24 examples" in caplog.text
