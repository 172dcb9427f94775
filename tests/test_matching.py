"""The free-text decision: answer, ask back, or admit there is no answer.

Most tests check the guards and the suggestions given a model that is sure when the best FAQ
candidate has 0.80 or more (the `sure_at_80` fixture); the fitted model of bot/data/answer_model.json is tested
at the end, and on real questions by tests/test_nlu_quality.py and the REST tests."""

import dataclasses
import json

import pytest

from bot import matching
from bot.knowledge import default_kb
from bot.matching import SIGNALS, AnswerModel, DecisionKind

KB = default_kb()


@pytest.fixture(autouse=True)
def sure_at_80_unless_fitted(request):
    if "fitted" not in request.node.name:
        request.getfixturevalue("sure_at_80")  # tests/conftest.py


def r(*pairs):
    return [{"name": n, "confidence": c} for n, c in pairs]


def test_clear_winner_is_answered():
    d = matching.decide(KB, r(("ask_mes_fonctionnalites", 0.9), ("ask_mes_donnees_disponibles", 0.05)))
    assert d.kind == DecisionKind.ANSWER and d.answer_ids == ("mes_fonctionnalites",)


def test_winner_too_close_to_second_is_a_question_back():
    d = matching.decide(KB, r(("ask_mes_fonctionnalites", 0.62), ("ask_mes_donnees_disponibles", 0.5)))
    assert d.kind == DecisionKind.SUGGEST and d.answer_ids == ("mes_fonctionnalites", "mes_donnees_disponibles")


def test_fallback_intent_first_still_uses_the_faq_ranking():
    d = matching.decide(KB, r(("nlu_fallback", 0.3), ("ask_qhn_cout_certification", 0.25), ("greet", 0.2)))
    assert d.kind == DecisionKind.SUGGEST and d.answer_ids == ("qhn_cout_certification",)


def test_confident_out_of_scope_suggests_nothing():
    d = matching.decide(KB, r(("out_of_scope", 0.7), ("ask_qhn_cout_certification", 0.2)))
    assert d.kind == DecisionKind.NONE


def test_weak_everything_is_none():
    d = matching.decide(KB, r(("greet", 0.5), ("ask_qhn_cout_certification", 0.04)))
    assert d.kind == DecisionKind.NONE


def test_garbage_ranking_is_tolerated():
    assert matching.decide(KB, [None, {"name": None}, {"confidence": "x"}]).kind == DecisionKind.NONE
    assert matching.decide(KB, [{"name": "ask_unknown", "confidence": 0.99}]).kind == DecisionKind.NONE


# --- the second signal: what the question names, what it asks about ------------------------


def test_a_dmn_question_never_gets_a_qhn_only_answer():
    ranking = r(
        ("ask_qhn_processus_tiers", 0.9),
        ("ask_dmn_mandat_composants_tiers", 0.05),
        ("ask_qhn_cout_certification", 0.05),
    )
    d = matching.decide(KB, ranking, "Peut-on certifier notre DMN si des sous-traitants développent une partie ?")
    assert d.kind == DecisionKind.SUGGEST and d.reason == matching.Reason.CONTRADICTS
    assert d.answer_ids == ("dmn_mandat_composants_tiers",)


def test_the_same_ranking_without_a_product_named_is_answered():
    ranking = r(("ask_qhn_processus_tiers", 0.9), ("ask_dmn_mandat_composants_tiers", 0.05))
    d = matching.decide(KB, ranking, "Peut-on être certifié si des sous-traitants développent une partie ?")
    assert d.kind == DecisionKind.ANSWER and d.answer_ids == ("qhn_processus_tiers",)
    d = matching.decide(KB, ranking, "certif qualite hopital numerique avec des sous traitants")
    assert d.kind == DecisionKind.ANSWER and d.answer_ids == ("qhn_processus_tiers",)


def test_a_segur_question_never_gets_a_mon_espace_sante_only_answer():
    ranking = r(("ask_mes_referencement_obligatoire", 0.9), ("ask_segur_plateforme_preuves_interop", 0.05))
    d = matching.decide(KB, ranking, "Le référencement Ségur est-il obligatoire pour vendre un DPI ?")
    assert d.kind != "answer" and "mes_referencement_obligatoire" not in d.answer_ids
    assert ("offre", "segur") in d.path
    # named with MES (acronym as written), the same answer is given
    d = matching.decide(KB, ranking, "Le référencement MES est-il obligatoire ?")
    assert d.kind == DecisionKind.ANSWER and d.answer_ids == ("mes_referencement_obligatoire",)


def test_mes_as_a_french_word_names_nothing():
    ranking = r(("ask_segur_plateforme_preuves_interop", 0.9))
    d = matching.decide(KB, ranking, "où déposer mes preuves pour le ségur ?")
    assert d.kind == DecisionKind.ANSWER


def test_a_product_named_with_a_typo_or_without_accents_still_counts():
    ranking = r(("ask_convergence_types_comptes", 0.9))
    assert matching.decide(KB, ranking, "comptes sur convergnece").kind == DecisionKind.ANSWER
    ranking = r(("ask_qhn_cout_certification", 0.9))
    assert matching.decide(KB, ranking, "prix certification DMN").kind != "answer"


def test_a_question_on_how_long_does_not_get_the_answer_on_what_it_costs():
    ranking = r(("ask_qhn_cout_certification", 0.85), ("ask_qhn_iso_9001_13485", 0.05))
    d = matching.decide(KB, ranking, "Combien de temps dure un audit de certification QHN ?")
    assert d.kind == DecisionKind.NONE and d.reason == matching.Reason.OFF_SUBJECT
    assert d.path == (("produit", "qhn"),)
    assert matching.decide(KB, ranking, "Combien coûte un audit de certification QHN ?").kind == DecisionKind.ANSWER


def test_a_question_on_an_obligation_needs_an_answer_that_speaks_of_one():
    ranking = r(("ask_mes_avantages_referencement", 0.85))
    assert matching.decide(KB, ranking, "Le référencement dans Mon espace santé est-il obligatoire ?").kind != "answer"
    ranking = r(("ask_mes_referencement_obligatoire", 0.85))
    assert (
        matching.decide(KB, ranking, "Le référencement dans Mon espace santé est-il obligatoire ?").kind
        == DecisionKind.ANSWER
    )


def test_a_message_that_only_names_a_subject_opens_the_tree_there():
    d = matching.decide(KB, r(("ask_convergence_types_comptes", 0.9)), "j'ai une question sur Convergence")
    assert d.kind == DecisionKind.BROWSE and ("offre", "convergence") in d.path
    d = matching.decide(KB, r(("greet", 0.9)), "Bonjour, une question sur le DMN svp")
    assert d.kind == DecisionKind.BROWSE and d.path == (("produit", "dmn"),)


def test_what_a_subject_is_gets_the_answer_known_to_say_it_else_the_tree():
    words = matching.Wording.build(KB, {"ask_mes_catalogue_definition": ["le catalogue de services de MES c'est quoi"]})
    # the examples say the catalogue's answer tells what the catalogue is
    ranking = r(("ask_mes_catalogue_definition", 0.95))
    d = matching.decide(KB, ranking, "qu'est-ce que le catalogue de services de MES ?", words=words)
    assert d.kind == DecisionKind.ANSWER and d.answer_ids == ("mes_catalogue_definition",)
    # no answer is known to say what Convergence is: the one that names it is not given, the tree opens
    ranking = r(("ask_convergence_types_comptes", 0.95))
    d = matching.decide(KB, ranking, "c'est quoi Convergence ?", words=words)
    assert d.kind == DecisionKind.BROWSE and ("offre", "convergence") in d.path
    # nor is an answer given to a message that only names the subject without asking what it is
    ranking = r(("ask_mes_catalogue_definition", 0.95))
    d = matching.decide(KB, ranking, "une question sur le catalogue de services de MES", words=words)
    assert d.kind == DecisionKind.BROWSE


def test_a_question_sharing_no_word_with_the_answer_is_not_answered():
    ranking = r(("ask_mes_referencement_obligatoire", 0.97))
    d = matching.decide(KB, ranking, "Est-il obligatoire d'avoir un extincteur au bureau ?")
    assert d.kind != "answer" and d.reason == matching.Reason.OFF_SUBJECT
    assert matching.decide(KB, ranking, "Le catalogue de services, c'est obligatoire ?").kind == DecisionKind.ANSWER


def test_what_one_gains_is_only_answered_by_the_answer_on_benefits():
    question = "Qu'est-ce qu'on gagne à être dans le catalogue de services ?"
    assert matching.decide(KB, r(("ask_mes_catalogue_definition", 0.97)), question).kind != "answer"
    assert matching.decide(KB, r(("ask_mes_avantages_referencement", 0.97)), question).kind == DecisionKind.ANSWER


# --- the fitted answer model (bot/data/answer_model.json) ---------------------------------------


def _signals(**values):
    base = {
        "best": 0.9,
        "second": 0.03,
        "third": 0.01,
        "out_of_scope": 0.01,
        "strays": 0,
        "stray_share": 0.0,
        "words": 4,
    }
    base.update(values)
    log_odds = {"best", "second", "third", "out_of_scope"}
    return [matching.log_odds(base[s]) if s in log_odds else float(base[s]) for s in SIGNALS]


def test_the_fitted_model_weighs_the_signals_the_bot_computes():
    doc = json.loads(matching.ANSWER_MODEL_FILE.read_text(encoding="utf-8"))
    model = matching.default_answer_model()
    assert doc["signals"] == list(SIGNALS) and len(model.weights) == len(SIGNALS)
    assert 0.5 <= model.threshold < 1.0
    with pytest.raises(ValueError):
        AnswerModel.from_json({**doc, "signals": doc["signals"][::-1]})


def test_the_fitted_model_is_surer_of_a_surer_ranking_and_less_of_stray_words():
    model = matching.default_answer_model()
    p = model.probability
    assert p(_signals(best=0.98)) > p(_signals(best=0.9)) > p(_signals(best=0.6))
    assert p(_signals(strays=0)) > p(_signals(strays=2, stray_share=0.5))
    assert model.sure(_signals(best=0.995, second=0.001, third=0.001, out_of_scope=0.001))
    assert not model.sure(_signals(best=0.4, second=0.35))


def test_the_fitted_model_decides_on_its_threshold():
    model = dataclasses.replace(matching.default_answer_model(), threshold=1.0)  # never sure
    ranking = r(("ask_qhn_cout_certification", 0.999), ("out_of_scope", 0.0005), ("ask_qhn_iso_9001_13485", 0.0005))
    text = "combien coute la certification QHN"
    assert matching.decide(KB, ranking, text, model=model).kind == DecisionKind.SUGGEST
    assert (
        matching.decide(KB, ranking, text, model=dataclasses.replace(model, threshold=0.0)).kind == DecisionKind.ANSWER
    )
