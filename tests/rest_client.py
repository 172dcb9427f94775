"""A tiny REST-channel client for the end-to-end tests and the benchmark."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import List


def new_sender() -> str:
    """Random, unguessable conversation id (what every integrator should use)."""
    return uuid.uuid4().hex


def send(base_url: str, sender: str, message: str, timeout: float = 30) -> List[dict]:
    body = json.dumps({"sender": sender, "message": message}).encode("utf-8")
    request = urllib.request.Request(
        f"{base_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def texts(replies: List[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def buttons(replies: List[dict]) -> List[dict]:
    return [b for r in replies for b in r.get("buttons", [])]


def click(base_url: str, sender: str, replies: List[dict], title: str) -> List[dict]:
    """Send the payload of the button titled `title` (as a widget would)."""
    for b in buttons(replies):
        if b["title"] == title:
            return send(base_url, sender, b["payload"])
    raise AssertionError(f"no button {title!r} in {[b['title'] for b in buttons(replies)]}")


def answers_shown(replies: List[dict]) -> List[str]:
    """Ids of the FAQ answers whose full text appears in the replies."""
    from bot.knowledge import default_kb

    shown = texts(replies)
    return [a.id for a in default_kb().answers if a.text in shown]
