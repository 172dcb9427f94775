"""bot/wording.py: a question whose words the assistant knows, but never with the chosen answer."""

from bot import matching
from bot.knowledge import default_kb
from bot.wording import Wording, default_wording, parse_examples, stems

KB = default_kb()
WORDS = default_wording(KB)


def _ranking(answer_id: str, confidence: float = 0.99):
    intent = KB.answer(answer_id).intent
    rest = [a.intent for a in KB.answers if a.id != answer_id][:2]
    return [{"name": intent, "confidence": confidence}] + [{"name": i, "confidence": 0.001} for i in rest]


def test_stems_fold_accents_case_and_cut_words():
    assert stems("Référencement RÉFÉRENCER") == {"refer"}
    assert stems("le de la MES") == frozenset()  # short words are left to the facets


def test_an_answer_knows_its_own_words():
    answer = KB.answer("convergence_types_comptes")
    assert not WORDS.unknown_to(answer, answer.title)


def test_a_question_on_another_matter_of_the_same_product_is_not_answered_straight_away():
    answer = KB.answer("convergence_types_comptes")
    question = "mot de passe oublié sur Convergence, comment le réinitialiser ?"
    # ("passe" is known: "les comptes salariés convergence passent-ils par...", cut at five letters)
    assert {"oubli", "reini"} <= WORDS.unknown_to(answer, question)
    # the fitted answer model (bot/data/answer_model.json) weighs them against the NLU's confidence:
    # where the NLU is fairly sure, the answer's own wording is answered and this question is not
    flips = []
    for confidence in (0.99, 0.97, 0.95, 0.93, 0.9, 0.85, 0.8, 0.7):
        decision = matching.decide(KB, _ranking(answer.id, confidence), question)
        own = matching.decide(KB, _ranking(answer.id, confidence), answer.title)
        assert own.kind is matching.DecisionKind.ANSWER or decision.kind is not matching.DecisionKind.ANSWER
        if own.kind is matching.DecisionKind.ANSWER and decision.kind is not matching.DecisionKind.ANSWER:
            assert own.answer_ids == (answer.id,)
            flips.append(confidence)
    assert flips and max(flips) >= 0.85, flips


def test_words_never_seen_do_not_count():
    answer = KB.answer("convergence_types_comptes")
    assert not WORDS.unknown_to(answer, "zorglubs wxqyvz convergence")


def test_wording_comes_from_the_examples_given():
    examples = parse_examples("version: '3.1'\nnlu:\n- intent: greet\n  examples: |\n    - bonjour\n")
    assert examples == {"greet": ["bonjour"]}
    answer = KB.answers[0]
    alone = Wording.build(KB, {})
    trained = Wording.build(KB, {answer.intent: ["cornichons marinés"], "out_of_scope": ["cornichons"]})
    assert "corni" not in alone.known
    assert "corni" not in trained.unknown_to(answer, "cornichons")  # seen with this answer
    assert "corni" in trained.unknown_to(KB.answers[1], "cornichons")  # known, but not with that one


def test_a_typo_of_the_answers_own_word_is_no_stray():
    answer = KB.answer("qhn_cout_certification")
    trained = Wording.build(
        KB, {answer.intent: ["combien coute la certification"], "out_of_scope": ["certfication hds"]}
    )
    assert "certf" in trained.known  # a typo seen elsewhere in the training data...
    assert not trained.unknown_to(answer, "combien coute une certfication QHN ?")  # ...is still this answer's word
    assert "hds" not in trained.unknown_to(answer, "certification hds")  # (too short to count: left to the facets)
    assert trained.unknown_to(
        KB.answer("mes_fonctionnalites"), "certfication"
    )  # a stray for an answer without the word


def test_an_answer_says_what_a_subject_is_when_its_examples_only_ask_that():
    catalogue = KB.answer("mes_catalogue_definition")
    accounts = KB.answer("convergence_types_comptes")
    words = Wording.build(
        KB,
        {
            catalogue.intent: ["le catalogue de services de MES c'est quoi", "combien de services au catalogue ?"],
            accounts.intent: ["une question sur Convergence", "Convergence : quels comptes ?"],
        },
    )
    assert words.defines[catalogue.id] == {("offre", "mes"), ("produit", "mes_catalogue")}
    assert words.says_what_it_is(catalogue, frozenset({("produit", "mes_catalogue")}))
    assert not words.defines[accounts.id]  # its examples name Convergence, none asks what it is
    assert not words.says_what_it_is(accounts, frozenset({("offre", "convergence")}))
    assert not words.says_what_it_is(catalogue, frozenset())  # nothing named, nothing said
