"""bench/growth.py builds valid knowledge bases of any size, and its tree figures match tests/test_tree.py."""

import random

import yaml

from bench import growth
from bot.knowledge import FAQ_FILE, _parse, default_kb


def _seed():
    return yaml.safe_load(FAQ_FILE.read_text(encoding="utf-8"))


def test_synthetic_knowledge_base_is_valid_and_sized():
    doc, examples = growth.synthetic_kb(_seed(), 300, random.Random(300))
    kb = _parse(doc)
    assert len(kb.answers) == 300
    assert set(default_kb().intents) <= set(kb.intents)  # the seed's answers are kept
    synthetic = [a for a in kb.answers if a.id.startswith("synth_")]
    assert len(synthetic) == 280 and len(examples) == 280
    assert all(len(lines) == growth.EXAMPLES_PER_ANSWER for lines in examples.values())
    assert len({e for lines in examples.values() for e in lines}) == 280 * growth.EXAMPLES_PER_ANSWER
    assert len({a.title for a in synthetic}) == 280


def test_tree_figures_of_the_seed(tmp_path):
    figures = growth.tree_depth(FAQ_FILE)
    assert figures["reached"] == figures["answers"] == len(default_kb().answers)
    assert figures["deepest_clicks"] <= 6


def test_copied_project_is_synced(tmp_path):
    doc, examples = growth.synthetic_kb(_seed(), 25, random.Random(1))
    folder = growth.copy_project(tmp_path / "faq-25", doc, examples)
    domain = (folder / "domain.yml").read_text(encoding="utf-8")
    rules = (folder / "data" / "rules.yml").read_text(encoding="utf-8")
    assert "ask_synth_005" in domain and "intent: ask_synth_005" in rules
    nlu = yaml.safe_load((folder / "data" / "nlu.yml").read_text(encoding="utf-8"))
    intents = {block.get("intent") for block in nlu["nlu"]}
    assert {f"ask_synth_{i:03d}" for i in range(1, 6)} <= intents
    assert growth.tree_depth(folder / "bot" / "data" / "faq.yml")["answers"] == 25


def test_length_figures():
    result = growth.LengthResult("ours", [0.02] * 9 + [0.03] + [0.01] * 180 + [0.025] * 10, ["question"] * 200)
    f = result.figures()
    assert f["messages"] == 200 and round(f["p50_first_10_ms"]) == 20 and round(f["last_ms"]) == 25
    assert round(f["p50_last_10_ms"]) == 25
    assert growth.length_markdown({"ours": result})[2].startswith("| (c) our bot | 200 |")
