"""Rasa's socket.io channel, restricted to the web page's own origins.

Rasa creates its socket.io server with origin checks off, so any web site could open a
conversation from a visitor's browser. This channel refuses a socket.io connection whose
`Origin` header is not in the allowed list (a request without one, from a server-side
client or a same-origin page, is not a cross-site request and passes, as in engine.io). The list comes from the `FAQ_WEB_ORIGINS`
environment variable (comma-separated; `bot.tools.serve` sets it), else from
`allowed_origins` in credentials.yml. CORS headers for the polling transport stay with
Rasa's `--cors` option (same list), so each response carries them once.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from bot import channel_guard, input_guard

logger = logging.getLogger(__name__)

ORIGINS_ENV = "FAQ_WEB_ORIGINS"
DEFAULT_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")


def parse_origins(value: Any) -> List[str]:
    """`"a, b"` or `["a", "b"]` -> `["a", "b"]`, without trailing slashes (browsers send none)."""
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else (value or [])
    return [str(item).strip().rstrip("/") for item in items if str(item).strip()]


def allowed_origins(credentials: Optional[Dict[Text, Any]] = None) -> List[str]:
    from_env = parse_origins(os.environ.get(ORIGINS_ENV, ""))
    if from_env:
        return from_env
    return parse_origins((credentials or {}).get("allowed_origins")) or list(DEFAULT_ORIGINS)


class RestrictedSocketIOInput(SocketIOInput):
    """socket.io input that accepts connections only from the allowed origins."""

    allowed_origins: List[str] = list(DEFAULT_ORIGINS)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        channel = super().from_credentials(credentials)
        channel.allowed_origins = allowed_origins(credentials)
        logger.info("socket.io: origins allowed: %s", ", ".join(channel.allowed_origins))
        return channel

    def origin_allowed(self, environ: Dict[Text, Any]) -> bool:
        origin = environ.get("HTTP_ORIGIN")
        return not origin or origin.rstrip("/") in self.allowed_origins

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        intents = input_guard.domain_intents()

        async def guarded(message: UserMessage) -> None:
            # same screening and "indisponible" fallback as the REST channel
            await channel_guard.handle(message, on_new_message, intents)

        webhook = super().blueprint(guarded)
        sio = self.sio
        namespace = self.namespace or "/"
        rasa_connect = sio.handlers[namespace]["connect"]

        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            if not self.origin_allowed(environ):
                logger.warning("socket.io: connection refused from origin %r", environ.get("HTTP_ORIGIN"))
                return False
            return await rasa_connect(sid, environ, auth)

        sio.on("connect", connect, namespace=self.namespace)
        return webhook
