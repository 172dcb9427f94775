"""The decision tree as plain Python: skipping, narrowing, listing, restarting."""

from collections import deque

import pytest

from bot.knowledge import default_kb
from bot.tree import (
    MAX_LISTED,
    SKIP,
    InvalidPath,
    Listing,
    Question,
    candidates,
    extend,
    format_path,
    next_step,
    parse_path,
    reach,
)

KB = default_kb()
FACET_ORDER = [f.id for f in KB.facets]


def test_first_question_is_type_of_offer_with_every_offer():
    step = next_step(KB, ())
    assert isinstance(step, Question)
    assert step.facet.id == "offre"
    assert step.facet.question == "Votre question concerne quel type d'offre ?"
    assert {o.id for o, _ in step.options} == {o.id for o in KB.facet("offre").options}


def test_options_only_lead_to_answers():
    for path in _all_question_paths():
        step = next_step(KB, path)
        before = candidates(KB, path)
        for option, count in step.options:
            after = candidates(KB, extend(path, step.facet.id, option.id))
            assert len(after) == count > 0
            assert len(after) < len(before), "an offered value must narrow the candidates"


def test_segur_couloir_not_asked_for_mon_espace_sante():
    step = next_step(KB, (("offre", "mes"),))
    assert isinstance(step, Question)
    assert step.facet.id not in ("couloir", "dispositif")
    # and no Mon espace santé answer carries a Ségur couloir at all
    assert all(not a.values("couloir") for a in candidates(KB, (("offre", "mes"),)))


def test_question_not_asked_when_every_candidate_shares_its_value():
    # All Mon espace santé answers are about the catalogue: the product question is pointless.
    step = next_step(KB, (("offre", "mes"),))
    assert step.facet.id == "thematique"


def test_few_candidates_are_listed():
    step = next_step(KB, (("offre", "convergence"),))
    assert isinstance(step, Listing)
    assert 1 < len(step.answers) <= MAX_LISTED
    assert {a.id for a in step.answers} == {a.id for a in candidates(KB, (("offre", "convergence"),))}


def test_skip_keeps_every_candidate_and_moves_on():
    path = (("offre", SKIP),)
    assert len(candidates(KB, path)) == len(KB.answers)
    step = next_step(KB, path)
    assert isinstance(step, Question)
    assert FACET_ORDER.index(step.facet.id) > 0


def test_questions_follow_the_faq_order():
    for path in _all_question_paths():
        step = next_step(KB, path)
        asked = [FACET_ORDER.index(f) for f, _ in path]
        assert asked == sorted(asked)
        if asked:
            assert FACET_ORDER.index(step.facet.id) > asked[-1]


def test_restart_is_the_empty_path():
    assert parse_path(KB, "") == () == parse_path(KB, None)
    assert next_step(KB, parse_path(KB, "")) == next_step(KB, ())


def test_path_round_trip():
    path = (("offre", "certifications"), ("produit", "qhn"))
    assert parse_path(KB, format_path(path)) == path


@pytest.mark.parametrize(
    "raw",
    [
        "offre=nope",
        "nope=mes",
        "offre",
        "produit=qhn;offre=certifications",
        "offre=mes;offre=mes",
        "offre=mes;;",
        "x" * 600,
        "offre=MES",
        "offre=mes'--",
    ],
)
def test_invalid_paths_are_refused(raw):
    with pytest.raises(InvalidPath):
        parse_path(KB, raw)


def _clicks_to_every_answer():
    """Breadth-first over the buttons, from the greeting: fewest clicks to each answer."""
    return reach(KB).clicks


def _all_question_paths():
    queue, seen = deque([()]), []
    while queue:
        path = queue.popleft()
        step = next_step(KB, path)
        if isinstance(step, Question):
            seen.append(path)
            for option, _ in step.options:
                queue.append(extend(path, step.facet.id, option.id))
            queue.append(extend(path, step.facet.id, SKIP))
    return seen


def test_every_answer_reachable_by_buttons_in_at_most_six_clicks():
    best = _clicks_to_every_answer()
    assert set(best) == {a.id for a in KB.answers}
    assert max(best.values()) <= 6, best


def test_every_leaf_lists_something():
    for path in _all_question_paths():
        step = next_step(KB, path)
        for option, _ in step.options:
            leaf = next_step(KB, extend(path, step.facet.id, option.id))
            assert isinstance(leaf, Question) or leaf.answers
