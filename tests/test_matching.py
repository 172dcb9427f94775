"""The free-text decision: answer, ask back, or admit there is no answer."""
from bot import matching
from bot.knowledge import default_kb

KB = default_kb()


def r(*pairs):
    return [{"name": n, "confidence": c} for n, c in pairs]


def test_clear_winner_is_answered():
    d = matching.decide(KB, r(("ask_mes_fonctionnalites", 0.9), ("ask_mes_donnees_disponibles", 0.05)))
    assert d.kind == "answer" and d.answer_ids == ("mes_fonctionnalites",)


def test_winner_too_close_to_second_is_a_question_back():
    d = matching.decide(KB, r(("ask_mes_fonctionnalites", 0.62), ("ask_mes_donnees_disponibles", 0.5)))
    assert d.kind == "suggest" and d.answer_ids == ("mes_fonctionnalites", "mes_donnees_disponibles")


def test_fallback_intent_first_still_uses_the_faq_ranking():
    d = matching.decide(KB, r(("nlu_fallback", 0.3), ("ask_qhn_cout_certification", 0.25), ("greet", 0.2)))
    assert d.kind == "suggest" and d.answer_ids == ("qhn_cout_certification",)


def test_confident_out_of_scope_suggests_nothing():
    d = matching.decide(KB, r(("out_of_scope", 0.7), ("ask_qhn_cout_certification", 0.2)))
    assert d.kind == "none"


def test_weak_everything_is_none():
    d = matching.decide(KB, r(("greet", 0.5), ("ask_qhn_cout_certification", 0.04)))
    assert d.kind == "none"


def test_garbage_ranking_is_tolerated():
    assert matching.decide(KB, [None, {"name": None}, {"confidence": "x"}]).kind == "none"
    assert matching.decide(KB, [{"name": "ask_unknown", "confidence": 0.99}]).kind == "none"
