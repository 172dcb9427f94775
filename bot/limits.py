"""Every limit on what clients may send, in one place (values: bot/settings.py).

The assistant faces the public web: one client or one conversation must not be able to take the
single Rasa event loop for itself. Plain Python (no Rasa): the channels (addons/rest_channel.py,
addons/socketio_channel.py) call these checks before anything is parsed or handed to Rasa. docs/security.md
lists the settings and what each limit answers.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from typing import Optional

from bot.settings import Settings


class RateLimiter:
    """Token buckets: `per_minute` messages a minute per key, up to `per_minute` at once.

    A burst is allowed (a user clicking fast through the tree), a steady flood is not. Keys are
    bounded (least recently seen forgotten first), so the limiter itself cannot grow without end.
    """

    def __init__(self, per_minute: int, max_keys: int = 100_000, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: "OrderedDict[str, tuple]" = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.capacity <= 0:
            return True
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return allowed


class Gate:
    """Per-address then per-conversation rate limits of one channel."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.by_address = RateLimiter(settings.per_address)
        self.by_conversation = RateLimiter(settings.per_conversation)

    def address_allowed(self, address: Optional[str]) -> bool:
        return self.by_address.allow(address or "?")

    def conversation_allowed(self, conversation_id: str) -> bool:
        return self.by_conversation.allow(conversation_id)


_BRACKETS = re.compile(rb"[\[\]{}]")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)


def json_too_deep(body: bytes, limit: int) -> bool:
    """True when `body` nests arrays/objects deeper than `limit` (checked before json.loads,
    whose recursion would otherwise fail on a few KB of `[`)."""
    depth = 0
    for match in _BRACKETS.finditer(_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def small_metadata(value, limit: int) -> Optional[dict]:
    """Message metadata kept with every user event of the conversation: a JSON object of at most
    `limit` bytes (JSON text is accepted too, as Rasa's socket.io channel does), else nothing."""
    if isinstance(value, str):
        if len(value) > limit:
            return None
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return None
    if not isinstance(value, dict) or not value:
        return None
    try:
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError, RecursionError):
        return None
    return value if size <= limit else None


def client_address(peer: Optional[str], forwarded_for: Optional[str], trusted_proxies: int) -> Optional[str]:
    """The client's address: the TCP peer, or, behind `trusted_proxies` proxies that each append
    to X-Forwarded-For, the entry the outermost trusted one wrote (what a client writes itself
    sits further left and is never taken)."""
    if trusted_proxies <= 0 or not forwarded_for:
        return peer
    entries = [item.strip() for item in forwarded_for.split(",") if item.strip()]
    if len(entries) < trusted_proxies:
        return peer
    return entries[-trusted_proxies]
