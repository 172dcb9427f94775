"""The values a conversation hands to the maintainers' database, named once.

Here rather than in bot/conversation.py, which produces them, because the store (bot/store.py),
the report (maintenance/report.py) and the Rasa actions name them too: one small module they all
import, rather than the database depending on how replies are built. Like
`bot.matching.DecisionKind` (the other value the store keeps, with the unanswered questions), they
are str-valued enums: a member equals its string, so button payloads, slots and database rows
keep the same text ("guide", "free_text"...), and a string read back compares equal to a member.
"""

from __future__ import annotations

from enum import Enum


class TextEnum(str, Enum):
    """str() and "%s" give the value, as format() does (Python 3.10 would give "Via.GUIDE")."""

    def __str__(self) -> str:
        return self.value


class Via(TextEnum):
    """How the user reached an answer: a button's `via` entity, a slot, and a column of the
    store's `feedback` and `answers_shown` tables (the values never change)."""

    GUIDE = "guide"  # the guided tree's listing
    FREE_TEXT = "free_text"  # a typed question answered straight away
    SUGGESTION = "suggestion"  # a "Vouliez-vous dire… ?" button


class RecordKind(TextEnum):
    """What a `conversation.Record` states, hence which `Store.record_*` writes it."""

    ANSWER_SHOWN = "answer_shown"
    FEEDBACK = "feedback"
    UNANSWERED = "unanswered"
