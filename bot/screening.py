"""Screening of what users and integrators send, before it reaches the NLU.

The assistant faces the public web: a message may be empty, huge, full of control
characters or broken Unicode, or a hand-typed payload such as `/restart` or
`/browse{"facet_path": 42}` (Rasa parses those like button clicks, at confidence 1.0).
`screen()` decides, in plain Python, what Rasa gets to see and what is answered at once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional

import yaml

from bot import conversation, texts

MAX_MESSAGE_CHARS = 1000
MAX_SENDER_CHARS = 128
PAYLOAD_ENTITIES = frozenset({"facet_path", "answer_id", "via"})
MAX_ENTITY_CHARS = 500
DOMAIN_FILE = Path(__file__).resolve().parents[1] / "domain.yml"

# A payload we refuse becomes an invalid tree choice: the bot says so and restarts the tree.
REFUSED_PAYLOAD = conversation.payload("browse", facet_path="invalide")

_PAYLOAD = re.compile(r"^/([A-Za-z0-9_]+)(.*)$", re.S)
_SENDER = re.compile(r"^[A-Za-z0-9_.:@-]+$")


@dataclass
class Verdict:
    """Either `text` goes to Rasa, or `replies` are sent back at once."""

    text: Optional[str] = None
    replies: List[Dict] = field(default_factory=list)


def domain_intents(path: Path = DOMAIN_FILE) -> FrozenSet[str]:
    """The intents a payload may name: ours, not Rasa's built-ins (restart, session_start...)."""
    with open(path, encoding="utf-8") as handle:
        return frozenset(yaml.safe_load(handle)["intents"])


def clean_text(text: str) -> str:
    """NFC, no control characters, no lone surrogates, ’ as ' (spaCy splits elisions on ')."""
    text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in "\n\t" else ch for ch in text
    )
    return text.replace("\u2019", "'").strip()


def payload_is_valid(text: str, intents: FrozenSet[str]) -> bool:
    match = _PAYLOAD.match(text)
    if not match or match.group(1) not in intents:
        return False
    rest = match.group(2).strip()
    if not rest:
        return True
    try:
        entities = json.loads(rest)
    except ValueError:
        return False
    return isinstance(entities, dict) and all(
        key in PAYLOAD_ENTITIES and isinstance(value, str) and len(value) <= MAX_ENTITY_CHARS
        for key, value in entities.items()
    )


def _message(message: "conversation.Message") -> Dict:
    out: Dict = {"text": message.text}
    if message.buttons:
        out["buttons"] = message.buttons
    return out


def screen(raw: str, intents: FrozenSet[str]) -> Verdict:
    text = clean_text(raw)
    if not text:
        return Verdict(replies=[_message(conversation.Message(texts.EMPTY, [conversation.BROWSE_BUTTON]))])
    if len(text) > MAX_MESSAGE_CHARS:
        return Verdict(replies=[_message(conversation.Message(texts.too_long(MAX_MESSAGE_CHARS)))])
    if text.startswith("/") and not payload_is_valid(text, intents):
        return Verdict(text=REFUSED_PAYLOAD)
    return Verdict(text=text)


def unavailable_reply() -> Dict:
    return {"text": texts.UNAVAILABLE}


def sender_error(sender) -> Optional[str]:
    """Why a REST `sender` is refused (French, for the 400 reply), or None."""
    if sender is None:
        return texts.SENDER_MISSING
    if not isinstance(sender, str):
        return texts.SENDER_NOT_TEXT
    if not 1 <= len(sender) <= MAX_SENDER_CHARS or not _SENDER.match(sender):
        return texts.sender_malformed(MAX_SENDER_CHARS)
    return None


def message_error(message) -> Optional[str]:
    if message is None:
        return texts.MESSAGE_MISSING
    if not isinstance(message, str):
        return texts.MESSAGE_NOT_TEXT
    return None
