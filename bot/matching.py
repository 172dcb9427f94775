"""What to do with a free-text question, given the NLU's intent ranking and the question's words.

A wrong answer costs the user more than a question back: the ANS's text is official, and a
vendor trusts it. So an answer is given straight away only when three signals agree:
- the NLU has a clear winner (confidence and lead over the second FAQ candidate);
- the winner's facets do not contradict what the question names (a DMN question never gets a
  QHN-only answer: `bot.mentions`);
- the winner speaks of what the question asks about (a question on how long an audit lasts
  never gets the answer on what it costs: `bot.aspects`).
Otherwise: "Vouliez-vous dire… ?" with the candidates that fit the question's words, or an honest
"the FAQ does not say" with the guided tree opened where the question points.

The thresholds are chosen by cross-validation on the training data alone (`bench/crossval.py`,
figures in bench/RESULTS.md), never on an evaluation set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Iterable, List, Optional, Tuple

from bot import aspects, mentions
from bot.knowledge import Answer, KnowledgeBase
from bot.vocabulary import TextEnum
from bot.wording import Wording, default_wording

OUT_OF_SCOPE_INTENT = "out_of_scope"
SUGGESTIONS = 3


@dataclass(frozen=True)
class Thresholds:
    # Chosen by `python -m bench.crossval` (5 folds of data/nlu.yml, config.yml's classifier): the most
    # right answers with at most 0.5 % wrong and 97 % of out-of-scope examples without an answer.
    answer: float = 0.80  # the winner's confidence...
    margin: float = 0.40  # ...and its lead over the second FAQ candidate
    # The answers of a crowded product (`crowded` or more neighbours, KnowledgeBase.neighbours: the
    # nine of the Mon espace santé catalogue, the three of QHN, the three of DMN) are asked with the
    # same words and confused with one another; an answer with fewer neighbours is rarely confused,
    # and needs less confidence (chosen second, with `answer` and `margin` fixed, by the same rule).
    answer_distinct: float = 0.55
    crowded: int = 2
    suggest: float = 0.10  # a candidate this weak is not worth a button...
    suggest_named: float = 0.0  # ...unless the winner was set aside for the product the user named
    out_of_scope_wins: float = 0.50  # an out-of-scope ranking this sure suppresses suggestions
    # A clear winner is only suggested when more than `stray_words` of the question's words, or more
    # than `stray_share` of them, are known to the assistant but never used with it (bot/wording.py).
    stray_words: int = 2
    stray_share: float = 0.34


THRESHOLDS = Thresholds()


class DecisionKind(TextEnum):
    """Stored as text with the unanswered questions (bot/store.py): the values never change."""

    ANSWER = "answer"
    SUGGEST = "suggest"  # "Vouliez-vous dire… ?"
    NONE = "none"  # the FAQ does not say; the tree, opened where the question points
    BROWSE = "browse"  # a message that only names a subject: the tree, opened there


class Reason(str, Enum):
    """Why a free-text question was not answered straight away (for the record and the tests)."""

    CLEAR = "clear"
    UNSURE = "unsure"  # no clear winner
    CONTRADICTS = "contradicts"  # the winner's facets contradict what the question names
    OFF_SUBJECT = "off_subject"  # the winner does not speak of what the question asks, or shares no word with it
    OUT_OF_SCOPE = "out_of_scope"
    VAGUE = "vague"


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    answer_ids: Tuple[str, ...] = ()
    scores: Tuple[Tuple[str, float], ...] = ()  # FAQ candidates as ranked, for the record
    reason: Reason = Reason.CLEAR
    path: Tuple[Tuple[str, str], ...] = ()  # where to open the tree (values the question named)


def _confidence(entry: Mapping) -> float:
    try:
        return float(entry.get("confidence") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def faq_candidates(kb: KnowledgeBase, ranking: Iterable[Mapping]) -> List[Tuple[Answer, float]]:
    """The FAQ answers of Rasa's `intent_ranking`, best first."""
    ranked = sorted(
        ((r.get("name"), _confidence(r)) for r in ranking if isinstance(r, Mapping)), key=lambda item: -item[1]
    )
    return [(kb.answer_for_intent(name), conf) for name, conf in ranked if kb.answer_for_intent(name)]


def _out_of_scope(ranking: Iterable[Mapping]) -> float:
    return max(
        (_confidence(r) for r in ranking if isinstance(r, Mapping) and r.get("name") == OUT_OF_SCOPE_INTENT),
        default=0.0,
    )


def decide(
    kb: KnowledgeBase,
    ranking: Iterable[Mapping],
    text: str = "",
    thresholds: Optional[Thresholds] = None,
    words: Optional[Wording] = None,
) -> Decision:
    """`ranking` is Rasa's `intent_ranking`: [{"name": ..., "confidence": ...}, ...]; `text` the question;
    `words` what each answer is asked with (default: bot/data/faq.yml and data/nlu.yml)."""
    t = thresholds or THRESHOLDS
    text = text if isinstance(text, str) else ""
    ranking = [r for r in (ranking or []) if isinstance(r, Mapping)]
    faq = faq_candidates(kb, ranking)
    scores = tuple((a.id, round(conf, 4)) for a, conf in faq[:SUGGESTIONS])
    named = mentions.find(kb, text)
    path = mentions.tree_path(kb, named)
    out_of_scope = _out_of_scope(ranking)

    if path and mentions.is_vague(kb, text):
        return Decision(DecisionKind.BROWSE, (), scores, Reason.VAGUE, path)

    def fits(answer: Answer) -> bool:
        return (
            not mentions.contradicts(answer, named)
            and not aspects.missing(answer, text)
            and aspects.shares_subject(aspects.subject_words(answer, mentions.facet_words(kb, answer)), text)
        )

    reason = Reason.UNSURE
    if faq:
        best, best_conf = faq[0]
        second = faq[1][1] if len(faq) > 1 else 0.0
        needed = t.answer if kb.neighbours(best) >= t.crowded else min(t.answer, t.answer_distinct)
        clear = best_conf >= needed and best_conf - second >= t.margin and best_conf > out_of_scope
        if clear and fits(best):
            words = words or default_wording(kb)
            if not text or not words.strays(best, text, t.stray_words, t.stray_share):
                return Decision(DecisionKind.ANSWER, (best.id,), scores)
        if mentions.contradicts(best, named):
            reason = Reason.CONTRADICTS
        elif clear:
            reason = Reason.OFF_SUBJECT
    if out_of_scope >= t.out_of_scope_wins:
        return Decision(DecisionKind.NONE, (), scores, Reason.OUT_OF_SCOPE, path)
    # When the winner contradicts what the question names, the candidates that agree with it come
    # first even if the NLU ranks them low: "Combien coûte la certification DMN ?" gets the DMN answers.
    floor = t.suggest_named if reason == Reason.CONTRADICTS else t.suggest
    suggested = tuple(a.id for a, conf in faq if conf >= floor and fits(a))[:SUGGESTIONS]
    if suggested:
        return Decision(DecisionKind.SUGGEST, suggested, scores, reason, path)
    return Decision(DecisionKind.NONE, (), scores, reason, path)
