"""What to do with a free-text question, given the NLU's intent ranking.

A wrong answer costs the user more than a question back, so answering needs a clear winner;
close candidates get "Vouliez-vous dire… ?"; weak ones get an honest "je ne sais pas".
The thresholds are measured on the held-out questions (tests/data/heldout.yml).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Mapping, Tuple

from bot.knowledge import KnowledgeBase

ANSWER_MIN_CONFIDENCE = 0.50
ANSWER_MIN_MARGIN = 0.20  # over the second FAQ candidate
SUGGEST_MIN_CONFIDENCE = 0.10
SUGGESTIONS = 3
OUT_OF_SCOPE_INTENT = "out_of_scope"
OUT_OF_SCOPE_WINS = 0.50  # an out-of-scope ranking this sure suppresses suggestions


@dataclass(frozen=True)
class Decision:
    kind: str  # "answer" | "suggest" | "none"
    answer_ids: Tuple[str, ...] = ()
    scores: Tuple[Tuple[str, float], ...] = ()  # FAQ candidates as ranked, for the record


def _confidence(entry: Mapping) -> float:
    try:
        return float(entry.get("confidence") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def decide(kb: KnowledgeBase, ranking: Iterable[Mapping]) -> Decision:
    """`ranking` is Rasa's `intent_ranking`: [{"name": ..., "confidence": ...}, ...]."""
    ranked = sorted(
        ((r.get("name"), _confidence(r)) for r in ranking if isinstance(r, Mapping)),
        key=lambda item: -item[1],
    )
    faq: List[Tuple[str, float]] = [
        (kb.answer_for_intent(name).id, conf) for name, conf in ranked if kb.answer_for_intent(name)
    ]
    scores = tuple((aid, round(conf, 4)) for aid, conf in faq[:SUGGESTIONS])
    out_of_scope = max((conf for name, conf in ranked if name == OUT_OF_SCOPE_INTENT), default=0.0)
    if faq:
        best_id, best = faq[0]
        second = faq[1][1] if len(faq) > 1 else 0.0
        if best >= ANSWER_MIN_CONFIDENCE and best - second >= ANSWER_MIN_MARGIN and best > out_of_scope:
            return Decision("answer", (best_id,), scores)
    if out_of_scope >= OUT_OF_SCOPE_WINS:
        return Decision("none", (), scores)
    suggested = tuple(aid for aid, conf in faq[:SUGGESTIONS] if conf >= SUGGEST_MIN_CONFIDENCE)
    if suggested:
        return Decision("suggest", suggested, scores)
    return Decision("none", (), scores)
