"""Grouping of unanswered questions and their verdicts, on a synthetic log and the shipped data."""

from datetime import datetime, timedelta

import pytest

from maintenance import decisions, grouping
from maintenance.grouping import NEAR_MISS, NEW_TOPIC, NOISE, Question

T = datetime(2026, 11, 2, 10, 0, 0)

# One new topic the FAQ does not cover, asked three ways (no word in common but "HDS" and a form
# of "certifier"), with the weak candidates the NLU gives such questions.
HDS = [
    Question(
        "comment obtenir la certification HDS pour notre hébergeur ?", "none", (("qhn_cout_certification", 0.06),), T
    ),
    Question("certification hébergeur de données de santé (HDS) : quelles étapes ?", "none", (), T),
    Question(
        "nous voulons être certifiés HDS comme hébergeur, par où commencer ?",
        "none",
        (("mes_calendrier_referencement", 0.04),),
        T,
    ),
]
# A near miss: the NLU put the right answer (the cost of a certification) first, clearly but not
# surely enough to answer straight away.
NEAR = [
    Question(
        "la certification QHN coûte combien ?",
        "suggest",
        (("qhn_cout_certification", 0.58), ("qhn_iso_9001_13485", 0.21), ("qhn_processus_tiers", 0.08)),
        T,
    ),
    Question(
        "quel budget prévoir pour être certifié QHN",
        "suggest",
        (("qhn_cout_certification", 0.52), ("qhn_processus_tiers", 0.24)),
        T,
    ),
]
GIBBERISH = [
    Question("qsdkjqsd lkjqsdlkj", "none", (), T),
    Question("mlkjhgfd", "none", (), T),
    Question("azertyuiop", "none", (), T),
]
CHATTER = [
    Question("quel temps fera-t-il demain à Lille ?", "none", (), T),
    Question("t'es complètement nul", "none", (), T),
    Question("bonjour ça va ?", "none", (), T),
]


@pytest.fixture(scope="module")
def grouper():
    return grouping.default_grouper()


def _group_of(groups, text):
    return next(g for g in groups if grouping.normalise(text) in g.keys)


def test_three_paraphrases_form_one_new_topic_group(grouper):
    groups = grouper.group(HDS + NEAR + GIBBERISH + CHATTER)
    hds = _group_of(groups, HDS[0].text)
    assert sorted(hds.keys) == sorted(grouping.normalise(q.text) for q in HDS)
    assert (hds.verdict, hds.size, hds.answer_id, hds.no_candidate) == (NEW_TOPIC, 3, None, 3)
    # the largest group that is not noise comes first; noise comes last
    assert groups[0] is hds
    assert [g.verdict for g in groups].index(NOISE) > groups.index(_group_of(groups, NEAR[0].text))


def test_near_miss_when_the_nlu_proposed_the_answer(grouper):
    groups = grouper.group(HDS + NEAR + GIBBERISH + CHATTER)
    near = _group_of(groups, NEAR[0].text)
    assert sorted(near.keys) == sorted(grouping.normalise(q.text) for q in NEAR)
    assert (near.verdict, near.answer_id, near.suggested) == (NEAR_MISS, "qhn_cout_certification", 2)
    assert near.closest[0].answer_id == "qhn_cout_certification"
    assert near.closest[0].nlu == pytest.approx((0.58 + 0.52) / 2, abs=1e-3)


def test_without_the_nlu_word_only_a_near_repeat_of_an_example_is_proposed(grouper):
    # The right answer only second and weak: the text alone proposes it only when the question nearly
    # repeats one of its examples (bench/grouping.py: text-only proposals were wrong too often below).
    weak = (("qhn_iso_9001_13485", 0.38), ("qhn_cout_certification", 0.31))
    texts = [q.text for q in NEAR] + ["pour QHN, il faut prévoir quel budget au total chez l'auditeur ?"]
    outcomes = []
    for text in texts:
        (group,) = grouper.group([Question(text, "suggest", weak, T)])
        best = group.closest[0]
        assert best.answer_id == "qhn_cout_certification", (text, group.closest)
        proposed = best.text >= grouper.rule.strong_text
        expected = (NEAR_MISS, "qhn_cout_certification") if proposed else (NEW_TOPIC, None)
        assert (group.verdict, group.answer_id) == expected, (text, best)
        outcomes.append(proposed)
    assert True in outcomes and False in outcomes
    assert grouper.rule.min_nlu > 0.38


def test_a_known_out_of_scope_question_is_said_to_read_like_them(grouper):
    # Questions the maintainers already classed out of scope (examples of data/nlu.yml), however far
    # from every answer: the reason says so, so that they are not taken for a new subject.
    known = [
        "où consulter la liste officielle des hébergeurs certifiés HDS ?",
        "scopes OIDC pro sante connect",
    ]
    assert set(known) <= set(grouping.read_examples(grouping.NLU_FILE)["out_of_scope"])
    for text in known:
        (group,) = grouper.group([Question(text, "none", (), T)])
        assert max(c.text for c in group.closest) < grouping.ALIKE_TEXT, group.closest
        assert (group.verdict, group.reason) == (NEW_TOPIC, grouping.LIKE_KNOWN_OUT_OF_SCOPE)
    fresh = "notre logiciel de kinésithérapie peut-il importer des bilans posturaux ?"
    assert grouper.out_of_scope_closeness([grouping.normalise(fresh)], [1]) < grouping.ALIKE_TEXT
    (group,) = grouper.group([Question(fresh, "none", (), T)])
    assert (group.verdict, group.reason) == (NEW_TOPIC, grouping.NO_CLOSE_ANSWER)


def test_gibberish_and_chatter_are_noise_never_a_topic(grouper):
    groups = grouper.group(HDS + NEAR + GIBBERISH + CHATTER)
    for question in GIBBERISH + CHATTER:
        group = _group_of(groups, question.text)
        assert group.verdict == NOISE, (question.text, group.reason)
        assert not set(group.keys) & {grouping.normalise(q.text) for q in HDS + NEAR}
    assert _group_of(groups, "qsdkjqsd lkjqsdlkj").reason == "charabia"
    assert grouper.is_gibberish("qsdkjqsd lkjqsdlkj") and not grouper.is_gibberish("certification HDS")


def test_a_sector_word_is_never_noise(grouper):
    # short, badly spelt, but about the sector
    groups = grouper.group([Question("dmp ???", "none", (), T), Question("tarif hds", "none", (), T)])
    assert all(g.verdict != NOISE for g in groups)


def test_spellings_of_one_question_count_together(grouper):
    log = [
        Question("Combien coûte le DMP ?", "none", (), T),
        Question("combien coute le dmp", "none", (), T),
        Question("COMBIEN   coûte le DMP ?!", "none", (), T - timedelta(days=3)),
    ]
    (group,) = grouper.group(log)
    assert (group.size, group.questions, group.first_seen, group.last_seen) == (
        3,
        [("Combien coûte le DMP ?", 3)],
        T - timedelta(days=3),
        T,
    )
    assert group.id == grouping.key_id("combien coute le dmp")


def test_empty_log_gives_no_group(grouper):
    assert grouper.group([]) == [] and grouper.group([Question("?!", "none", (), T)]) == []


def test_decided_questions_are_left_out_until_asked_again():
    decided = decisions.Decision(
        T,
        "g1",
        "ask_qhn_cout_certification",
        ["la certification QHN coûte combien ?"],
        [grouping.key_hash(grouping.normalise(NEAR[0].text))],
    )
    later = Question(NEAR[0].text, "suggest", NEAR[0].candidates, T + timedelta(days=1))
    kept = decisions.undecided(NEAR + [later], [decided])
    assert kept == [NEAR[1], later]  # settled up to the decision; asked again after it, it counts again


def test_history_file_round_trip(tmp_path):
    path = tmp_path / "history.yml"
    assert decisions.load(path) == []
    first = decisions.Decision(T, "g1", "out_of_scope", ["quel temps fera-t-il"], ["abc"])
    second = decisions.Decision(T + timedelta(hours=1), "g2", decisions.IGNORE, [], ["def"])
    decisions.append([first], path)
    decisions.append([second], path)
    assert decisions.load(path) == [first, second]
    assert path.read_text(encoding="utf-8").startswith("# Décisions de `make review`")


def test_beyond_the_limit_the_least_asked_questions_are_left_out(grouper, monkeypatch):
    monkeypatch.setattr(grouping, "MAX_DISTINCT", 2)
    groups = grouper.group(HDS + [HDS[0], HDS[0], HDS[1]])
    assert sorted(k for g in groups for k in g.keys) == sorted(grouping.normalise(q.text) for q in HDS[:2])
    assert grouper.left_out == 1


def test_a_question_naming_a_thing_the_answer_never_speaks_of_is_no_near_miss(grouper):
    # "combien coûte" reads like the QHN cost answer's questions; the DMP is never asked with it
    dmp = [Question(text, "none", (), T) for text in ("Combien coûte le DMP ?", "combien coute le dmp")]
    assert grouper.foreign_terms("qhn_cout_certification", [q.text for q in dmp]) == {"dmp"}
    assert grouper.foreign_terms("qhn_cout_certification", [NEAR[0].text]) == frozenset()
    group = _group_of(grouper.group(dmp), dmp[0].text)
    assert (group.verdict, group.answer_id) == (NEW_TOPIC, None)
