"""The guided decision tree, computed from the answers' facets.

A position in the tree is a *path*: the facet values chosen so far, in the order of the
FAQ's five qualifying questions, where "*" means "Je ne sais pas". Buttons carry the whole
path, so a button clicked from an old message still leads to the right place: the tree
keeps no state of its own.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from bot.knowledge import Answer, Facet, KnowledgeBase, Option

SKIP = "*"
MAX_LISTED = 5  # at most this many candidates: list their titles instead of asking more
_PAIR = re.compile(r"^([a-z_]{1,40})=([a-z0-9_*]{1,60})$")

Path = Tuple[Tuple[str, str], ...]


class InvalidPath(ValueError):
    """A path that does not come from our buttons (unknown facet or value, bad order)."""


def parse_path(kb: KnowledgeBase, raw: Optional[str]) -> Path:
    """`"offre=mes;thematique=*"` -> `(("offre", "mes"), ("thematique", "*"))`."""
    if raw is None or raw == "":
        return ()
    if not isinstance(raw, str) or len(raw) > 500:
        raise InvalidPath("not a path")
    pairs = []
    order = [f.id for f in kb.facets]
    last = -1
    for chunk in raw.split(";"):
        match = _PAIR.match(chunk.strip())
        if not match:
            raise InvalidPath(f"bad chunk {chunk!r}")
        facet_id, value = match.groups()
        facet = kb.facet(facet_id)
        if facet is None:
            raise InvalidPath(f"unknown facet {facet_id!r}")
        if value != SKIP and facet.option(value) is None:
            raise InvalidPath(f"unknown value {value!r} for {facet_id}")
        if order.index(facet_id) <= last:
            raise InvalidPath("facets out of order or repeated")
        last = order.index(facet_id)
        pairs.append((facet_id, value))
    return tuple(pairs)


def format_path(path: Path) -> str:
    return ";".join(f"{facet}={value}" for facet, value in path)


def candidates(kb: KnowledgeBase, path: Path) -> List[Answer]:
    """Answers compatible with every value chosen on the path ("*" filters nothing)."""
    return [
        answer for answer in kb.answers if all(value == SKIP or value in answer.values(facet) for facet, value in path)
    ]


@dataclass(frozen=True)
class Question:
    """Ask a facet; `options` are only the values that still lead to an answer."""

    facet: Facet
    options: Tuple[Tuple[Option, int], ...]  # (option, number of answers it leads to)
    path: Path


@dataclass(frozen=True)
class Listing:
    """Few enough candidates remain: show their titles (one answer: show it)."""

    answers: Tuple[Answer, ...]
    path: Path


Step = "Question | Listing"


def _options(facet: Facet, answers: Sequence[Answer]) -> List[Tuple[Option, int]]:
    counted = [(o, sum(1 for a in answers if o.id in a.values(facet.id))) for o in facet.options]
    return [(o, n) for o, n in counted if n]


def _narrows(options: Sequence[Tuple[Option, int]], total: int) -> bool:
    """Worth asking: it applies, and no single value is shared by every candidate."""
    return bool(options) and all(n < total for _, n in options)


def next_step(kb: KnowledgeBase, path: Path = ()):
    """The next qualifying question to ask on `path`, or the listing it arrives at."""
    remaining = candidates(kb, path)
    if path and len(remaining) <= MAX_LISTED:
        return Listing(tuple(remaining), path)
    asked = {facet for facet, _ in path}
    for facet in kb.facets:
        if facet.id in asked:
            continue
        # Facets are asked in the FAQ's order: never go back to one that was passed over.
        if path and kb.facets.index(facet) < max(kb.facets.index(kb.facet(f)) for f in asked):
            continue
        options = _options(facet, remaining)
        if _narrows(options, len(remaining)):
            return Question(facet, tuple(options), path)
    return Listing(tuple(remaining), path)


def extend(path: Path, facet_id: str, value: str) -> Path:
    return path + ((facet_id, value),)


@dataclass(frozen=True)
class Reach:
    """How far the answers sit from the greeting, button by button."""

    clicks: Dict[str, int]  # answer id -> fewest clicks (one answer is shown at once; several: one more)
    longest_list: int  # the longest listing reached with a choice at every question (no "Je ne sais pas")


def reach(kb: KnowledgeBase) -> Reach:
    """Breadth-first over every button from the greeting (the tree's promise: each answer in a few clicks)."""
    best: Dict[str, int] = {}
    longest_list = 0
    queue = deque([((), 0)])
    while queue:
        path, clicks = queue.popleft()
        step = next_step(kb, path)
        if isinstance(step, Listing):
            if all(value != SKIP for _, value in path):
                longest_list = max(longest_list, len(step.answers))
            for answer in step.answers:
                cost = clicks if len(step.answers) == 1 else clicks + 1
                best[answer.id] = min(best.get(answer.id, clicks + 1), cost)
            continue
        for option, _ in step.options:
            queue.append((extend(path, step.facet.id, option.id), clicks + 1))
        queue.append((extend(path, step.facet.id, SKIP), clicks + 1))
    return Reach(best, longest_list)
