"""The content and the training data: verbatim answers, valid facets, files in step."""

import hashlib
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.knowledge import KnowledgeBaseError, _parse, default_kb
from bot.normalise import near_duplicates
from maintenance import sync

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "000_248e320b8c664f17.txt"
SEED_COPY = ROOT / "tests" / "data" / "seed.txt"
KB = default_kb()
FEEDBACK_LINE = "Cette réponse vous a-t-elle été utile ?"


def seed_text() -> str:
    """The seed as published (the shared copy when present, else the one kept with the tests)."""
    path = SEED if SEED.exists() else SEED_COPY
    return path.read_text(encoding="utf-8")


def seed_parts():
    lines = seed_text().split("\n")
    questions = lines[:5]
    answers = [p.strip("\n") for p in "\n".join(lines[5:]).split(FEEDBACK_LINE) if p.strip()]
    return questions, answers


def test_the_kept_seed_copy_is_the_seed():
    if SEED.exists():
        assert SEED_COPY.read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")


def test_every_seed_answer_is_present_verbatim_once():
    _, answers = seed_parts()
    assert len(answers) == 20
    assert sorted(a.text for a in KB.answers) == sorted(answers)


def test_facet_questions_are_the_seed_headings_in_order():
    questions, _ = seed_parts()
    assert [f.question for f in KB.facets] == questions
    assert [f.id for f in KB.facets] == ["offre", "couloir", "dispositif", "produit", "thematique"]


def test_ans_titles_are_verbatim_and_marked():
    ans_titles = {a.title for a in KB.answers if a.title_source == "ans"}
    assert ans_titles == {
        "Quel est le coût d'une certification ?",
        "Faut-il être certifié ISO 9001 et/ou 13485 pour pouvoir être certifié Qualité Hôpital numérique?",
        "Est-il possible d'être certifié Qualité Hôpital numérique lorsqu'un ou plusieurs processus du "
        "périmètre de la certification Qualité Hôpital numérique fait intervenir des tiers extérieurs à "
        "l'organisation ?",
    }
    assert all(a.title_source == "ours" for a in KB.answers if a.title not in ans_titles)


def test_every_answer_has_id_title_link_and_an_offer():
    for answer in KB.answers:
        assert re.fullmatch(r"[a-z0-9_]+", answer.id)
        assert answer.title.strip()
        assert answer.url.startswith("https://") and "esante.gouv.fr" in answer.url
        assert answer.values("offre"), f"{answer.id} has no type d'offre"
    assert len({a.title for a in KB.answers}) == len(KB.answers)


def test_unknown_facet_values_are_refused():
    doc = yaml.safe_load((ROOT / "bot" / "data" / "faq.yml").read_text(encoding="utf-8"))
    doc["answers"][0]["facets"]["offre"] = ["nope"]
    with pytest.raises(KnowledgeBaseError):
        _parse(doc)


def test_domain_and_rules_in_step_with_the_faq():
    assert sync.stale_files() == {}, "run `make sync`"


def test_sync_detects_a_new_answer():
    text = (ROOT / "domain.yml").read_text(encoding="utf-8")
    rewritten = sync.rewrite(text, "- {intent}", KB.intents + ["ask_new_question"])
    assert "- ask_new_question" in rewritten and rewritten != text


def _nlu_examples():
    doc = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))
    return {
        item["intent"]: [line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")]
        for item in doc["nlu"]
    }


def test_nlu_has_each_faq_intent_with_ten_examples_and_no_stray_intent():
    examples = _nlu_examples()
    faq_intents = {i for i in examples if i.startswith("ask_")}
    assert faq_intents == set(KB.intents)
    for intent in KB.intents:
        assert len(examples[intent]) >= 10, intent
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(examples) == set(domain["intents"])
    assert len(examples["out_of_scope"]) >= 30


def test_training_examples_do_not_copy_the_answers():
    answers = " ".join(a.text.lower() for a in KB.answers)
    for intent, items in _nlu_examples().items():
        for example in items:
            if len(example) > 60:
                assert example.lower() not in answers, example


EVALUATION_SETS = (ROOT / "tests" / "data" / "heldout.yml", ROOT / "bench" / "data" / "evaluation.yml")
# bench/data/evaluation.yml is frozen: nothing is tuned on it, and it changes only by a decision
# recorded in an issue (then this hash changes with it, in the same commit).
EVALUATION_SHA256 = "8c5156cb815da66af1890e61e4dcf1ea4afed712023fab196b6bb1f8a897d3fd"


def test_near_duplicates_are_found_whatever_the_case_accents_and_punctuation():
    training = ["Quelles données trouve-t-on dans Mon espace santé ?"]
    assert near_duplicates(["quelles donnees trouve t on dans mon espace sante"], training)
    assert near_duplicates(["QUELLES DONNÉES TROUVE-T-ON DANS MON ESPACE SANTÉ"], training)
    assert not near_duplicates(["Le Ségur finance-t-il la formation des utilisateurs ?"], training)


@pytest.mark.parametrize("path", EVALUATION_SETS, ids=lambda p: p.name)
def test_evaluation_questions_are_not_near_duplicates_of_training_examples(path):
    training = [e for items in _nlu_examples().values() for e in items]
    questions = [q["text"] for q in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]]
    assert near_duplicates(questions, training) == []


def test_the_evaluation_set_is_frozen():
    digest = hashlib.sha256((ROOT / "bench" / "data" / "evaluation.yml").read_bytes()).hexdigest()
    assert digest == EVALUATION_SHA256, "bench/data/evaluation.yml is frozen: never tune on it, never edit it"


def test_heldout_covers_every_answer_and_out_of_scope():
    heldout = yaml.safe_load((ROOT / "tests" / "data" / "heldout.yml").read_text(encoding="utf-8"))["questions"]
    per_answer = Counter(q["expected"] for q in heldout)
    assert all(per_answer[a.id] >= 5 for a in KB.answers)
    assert per_answer[None] >= 30


def test_rasa_data_validate_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "UserWarning" not in output and "ERROR" not in output, output[-3000:]


def test_faq_yml_has_no_yaml_anchors():
    """An anchor (&id001 / *id001) makes two answers share one list: editing one would change both."""

    def anchors(text):
        return [e.anchor for e in yaml.parse(text) if getattr(e, "anchor", None)]

    assert anchors((ROOT / "bot" / "data" / "faq.yml").read_text(encoding="utf-8")) == []
    assert anchors("a: &x [1]\nb: *x\n") == ["x", "x"]  # the check itself sees them
