"""The assistant's REST channel seen from outside, as an integrator would call it: one client for
the tests, the benchmark and the cluster's launcher (warm-up)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from email.message import Message
from typing import Any, Dict, List, Optional, Tuple, Union

from ops.processes import Child, wait_until

WEBHOOK = "/webhooks/rest/webhook"
TIMEOUT_S = 60  # a first message may wait for what Rasa loads lazily


def new_sender() -> str:
    """Random, unguessable conversation id (what every integrator should use)."""
    return uuid.uuid4().hex


def _request(base_url: str, body: Union[bytes, dict, None], content_type: str, headers, path: str, method: str):
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return urllib.request.Request(
        base_url + path, data=data, headers={"Content-Type": content_type, **(headers or {})}, method=method
    )


def exchange(
    base_url: str, sender: str, message: str, timeout: float = TIMEOUT_S, headers: Optional[Dict[str, str]] = None
) -> Tuple[List[dict], Message]:
    """The bot's replies to one message, and the response's headers; an HTTP error raises
    urllib.error.HTTPError."""
    request = _request(base_url, {"sender": sender, "message": message}, "application/json", headers, WEBHOOK, "POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8")), response.headers


def send(
    base_url: str, sender: str, message: str, timeout: float = TIMEOUT_S, headers: Optional[Dict[str, str]] = None
) -> List[dict]:
    """The bot's replies to one message; an HTTP error raises urllib.error.HTTPError."""
    return exchange(base_url, sender, message, timeout, headers)[0]


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: Any  # decoded JSON; the text when it is not JSON; None when empty


def post(
    base_url: str,
    body: Union[bytes, dict, None],
    content_type: str = "application/json",
    headers: Optional[Dict[str, str]] = None,
    path: str = WEBHOOK,
    timeout: float = 30,
    method: str = "POST",
) -> Response:
    """Any request to the channel (`body` bytes as they are, or a dict as JSON): what came back,
    refusals included, for the tests of bad input, limits and origins."""
    try:
        with urllib.request.urlopen(
            _request(base_url, body, content_type, headers, path, method), timeout=timeout
        ) as r:
            return Response(r.status, r.headers, _decoded(r.read()))
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, _decoded(error.read()))


def _decoded(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def texts(replies: List[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def buttons(replies: List[dict]) -> List[dict]:
    return [b for r in replies for b in r.get("buttons") or []]


def click(base_url: str, sender: str, replies: List[dict], title: str) -> List[dict]:
    """Send the payload of the button titled `title` (as a widget would)."""
    for b in buttons(replies):
        if b["title"] == title:
            return send(base_url, sender, b["payload"])
    raise AssertionError(f"no button {title!r} in {[b['title'] for b in buttons(replies)]}")


def answers_shown(replies: List[dict]) -> List[str]:
    """Ids of the FAQ answers whose full text appears in the replies (what the user was shown)."""
    from bot.knowledge import default_kb

    shown = texts(replies)
    return [a.id for a in default_kb().answers if a.text in shown]


def answers_offered(replies: List[dict]) -> List[str]:
    """Ids of the FAQ answers offered under "Vouliez-vous dire… ?", in the order of their buttons (the
    user is one click from each)."""
    from bot import texts as bot_texts
    from bot.knowledge import default_kb

    by_title = {a.title: a.id for a in default_kb().answers}
    return [
        by_title[b.get("title")]
        for r in replies
        if r.get("text") == bot_texts.DID_YOU_MEAN
        for b in r.get("buttons") or []
        if b.get("title") in by_title
    ]


def first_reply(
    base_url: str,
    timeout: float,
    child: Optional[Child] = None,
    message: str = "bonjour",
    pause: float = 0.5,
    request_timeout: float = TIMEOUT_S,
) -> bool:
    """True once a fresh conversation got a non-empty reply to `message`: the server is up and has
    loaded what it loads lazily. False on timeout or when `child` died first."""
    return wait_until(lambda: bool(send(base_url, new_sender(), message, request_timeout)), timeout, child, pause)
