"""Answer quality scored as the user sees it, like tests/test_nlu_quality.py.

Each question opens a fresh conversation (a new sender id); its first reply either contains the
expected answer's text verbatim (right), contains another answer's text (wrong), or neither
(asked back: "Vouliez-vous dire… ?", the guided tree, a request to rephrase, "no answer").
An out-of-scope question is handled when the reply contains no FAQ answer at all. Of the questions
asked back, those whose own answer is the first one offered under "Vouliez-vous dire… ?" are one
click from it (counted apart; they stay asked back).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

from bench.common import Question
from ops.rest_client import answers_offered, answers_shown, send, texts


@dataclass
class Outcome:
    question: Question
    shown: List[str]
    reply: str = ""
    offered: List[str] = field(default_factory=list)  # answers offered under "Vouliez-vous dire… ?", in order

    @property
    def verdict(self) -> str:
        if self.question.expected is None:
            return "leaked" if self.shown else "handled"
        if self.shown == [self.question.expected]:
            return "right"
        return "wrong" if self.shown else "asked back"

    @property
    def offered_first(self) -> bool:
        """Asked back, with the question's own answer as the first suggestion."""
        return self.verdict == "asked back" and self.offered[:1] == [self.question.expected]


@dataclass
class Score:
    system: str
    outcomes: List[Outcome] = field(default_factory=list)
    note: str = ""

    def _in(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.question.expected is not None]

    def _out(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.question.expected is None]

    def share(self, verdict: str) -> float:
        pool = self._out() if verdict in ("handled", "leaked") else self._in()
        return sum(o.verdict == verdict for o in pool) / len(pool) if pool else float("nan")

    def share_offered_first(self) -> float:
        """Of the in-scope questions, those asked back with their own answer as the first suggestion."""
        pool = self._in()
        return sum(o.offered_first for o in pool) / len(pool) if pool else float("nan")

    @property
    def counts(self) -> dict:
        return {"in_scope": len(self._in()), "out_of_scope": len(self._out())}

    def figures(self) -> dict:
        return {
            "right": self.share("right"),
            "wrong": self.share("wrong"),
            "asked_back": self.share("asked back"),
            "out_of_scope_handled": self.share("handled"),
            "offered_first": self.share_offered_first(),
            **self.counts,
        }

    def of(self, verdict: str) -> List[Outcome]:
        return [o for o in self.outcomes if o.verdict == verdict]


def score_rest(system: str, base_url: str, questions: Sequence[Question], workers: int = 4) -> Score:
    """First reply of a fresh conversation per question, over the REST channel."""

    def ask(question: Question) -> Outcome:
        replies = send(base_url, f"bench-quality-{uuid.uuid4().hex}", question.text)
        return Outcome(question, answers_shown(replies), texts(replies), answers_offered(replies))

    with ThreadPoolExecutor(workers) as pool:
        return Score(system, list(pool.map(ask, questions)))


def score_local(
    system: str, answer: Callable[[str], Optional[str]], questions: Sequence[Question], note: str = ""
) -> Score:
    """An in-process system that returns an answer id or None."""
    outcomes = []
    for question in questions:
        found = answer(question.text)
        outcomes.append(Outcome(question, [found] if found else []))
    return Score(system, outcomes, note)
