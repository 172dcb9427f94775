"""bench/grouping.py counts what the maintainers' report would propose, as the report proposes it."""

import pytest

from bench import grouping as bench_grouping
from maintenance import grouping
from maintenance.grouping import NearMissRule, Question


@pytest.fixture(scope="module")
def grouper():
    return grouping.default_grouper()


def test_proposals_count_right_wrong_and_out_of_scope_ones(grouper):
    sure = (("qhn_cout_certification", 0.62), ("qhn_processus_tiers", 0.2))
    asked = [
        (Question("la certification QHN coûte combien ?", "suggest", sure), "qhn_cout_certification"),
        (Question("quel budget pour être certifié QHN", "suggest", sure), "qhn_processus_tiers"),  # wrong answer
        (Question("quel budget pour être certifié QHN ?", "none", ()), "qhn_cout_certification"),  # no NLU word
        (Question("Combien coûte le DMP ?", "suggest", sure), None),  # names what the answer never does
        (Question("la certification QHN coûte combien, et l'audit ?", "suggest", sure), None),
    ]
    fold = bench_grouping.Fold(grouper, [bench_grouping._judged(grouper, q, e) for q, e in asked])
    tally = bench_grouping.proposals([fold], grouping.NEAR_MISS_RULE)
    assert (tally.faq, tally.right, tally.wrong, tally.out_of_scope, tally.out_of_scope_proposed) == (3, 1, 1, 2, 1)
    assert tally.precision == pytest.approx(1 / 3) and tally.recall == pytest.approx(1 / 3)
    # on the text alone (a rule that never asks the NLU), the question without candidates is proposed too
    text_only = bench_grouping.proposals([fold], NearMissRule(min_nlu=2.0, min_text=1.0, strong_text=0.0))
    assert text_only.right == 2


def test_pairs_of_one_answer_are_right_and_pairs_with_out_of_scope_wrong(grouper):
    questions = [
        ("la certification QHN coûte combien ?", "qhn_cout_certification"),
        ("combien coûte la certification QHN", "qhn_cout_certification"),
        ("combien coûte la certification QHN pour un éditeur ?", None),
    ]
    everything = bench_grouping.pairs(grouper, questions, -1.0)  # one group of all
    assert (everything.groups, everything.right, everything.wrong, everything.to_find) == (1, 1, 2, 1)
    nothing = bench_grouping.pairs(grouper, questions, 1.01)  # every question alone
    assert (nothing.groups, nothing.right, nothing.wrong) == (3, 0, 0) and nothing.precision == 1.0
