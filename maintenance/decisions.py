"""The maintainers' review decisions (`make review`), kept so that no question is asked twice.

`bot/data/review_history.yml` holds one entry per decision: when, which group, what was decided
(an intent of data/nlu.yml, `out_of_scope`, or `ignorer`), the examples it added to data/nlu.yml,
and the questions it covers, as hashes of their normalised text (a question that was not added
to the training data is not kept in clear here). A question is settled by a decision for the rows
stored up to the time of that decision: if users keep asking it after the retrained bot is in
service, it comes back in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

import yaml

from maintenance.grouping import Question, key_hash, normalise

ROOT = Path(__file__).resolve().parents[1]
HISTORY_FILE = ROOT / "bot" / "data" / "review_history.yml"
IGNORE = "ignorer"
OUT_OF_SCOPE = "out_of_scope"
HEADER = (
    "# Décisions de `make review` (maintenance/review.py), la plus récente en dernier. Ne pas éditer à la main.\n"
    "# questions : empreintes (sha1) des questions normalisées que la décision règle ;\n"
    "# ajoutees : les exemples ajoutés à data/nlu.yml.\n"
)


@dataclass
class Decision:
    date: datetime
    group: str
    decision: str  # an intent (ask_<id> or out_of_scope) or "ignorer"
    added: List[str] = field(default_factory=list)
    questions: List[str] = field(default_factory=list)  # sha1 of each normalised question

    def as_dict(self) -> dict:
        return {
            "date": self.date.isoformat(timespec="seconds"),
            "groupe": self.group,
            "decision": self.decision,
            "ajoutees": list(self.added),
            "questions": list(self.questions),
        }

    @staticmethod
    def of(item: dict) -> "Decision":
        date = item["date"]
        if not isinstance(date, datetime):
            date = datetime.fromisoformat(str(date))
        return Decision(
            date,
            str(item.get("groupe") or ""),
            str(item["decision"]),
            list(item.get("ajoutees") or []),
            [str(q) for q in item.get("questions") or []],
        )


def load(path: Path = HISTORY_FILE) -> List[Decision]:
    path = Path(path)
    if not path.exists():
        return []
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [Decision.of(item) for item in doc.get("decisions") or []]


def append(new: Sequence[Decision], path: Path = HISTORY_FILE) -> None:
    if not new:
        return
    path = Path(path)
    decisions = load(path) + list(new)
    body = yaml.safe_dump(
        {"decisions": [d.as_dict() for d in decisions]}, allow_unicode=True, sort_keys=False, width=4096
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + body, encoding="utf-8")


def settled_until(decisions: Iterable[Decision]) -> Dict[str, datetime]:
    """question fingerprint (sha1) -> the time of the latest decision about it."""
    out: Dict[str, datetime] = {}
    for d in decisions:
        for q in d.questions:
            if q not in out or d.date > out[q]:
                out[q] = d.date
    return out


def undecided(questions: Iterable[Question], decisions: Iterable[Decision]) -> List[Question]:
    """The questions no decision covers yet (stored after the last decision about them, or never decided)."""
    until = settled_until(decisions)
    kept = []
    for q in questions:
        limit = until.get(key_hash(normalise(q.text)))
        if limit is None or (q.created_at is not None and q.created_at > limit):
            kept.append(q)
    return kept
