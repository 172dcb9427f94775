"""Rasa's REST channel with a checked contract, screened input, bounded wait and rate limits.

Same URL as Rasa's own (`/webhooks/rest/webhook`), same reply format. In addition:
- limits come before parsing (bot/limits.py): a Content-Type other than JSON gets 415 (so a
  cross-site "simple" form or text/plain POST is never handled), a body over the size limit
  413 before it is read, a body nested too deep 400;
- a malformed request (bad JSON, missing or mistyped `sender`/`message`) gets a 4xx with a
  French message instead of Rasa's defaults (a missing sender would otherwise land in a shared
  "default" conversation);
- too many messages from one client address or in one conversation get 429 with a French message;
- messages go through `addons.guard.handle`: screened (empty, too long, refused
  payloads), and "service momentanément indisponible" when no reply comes in time.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from addons import guard
from bot import limits, screening, texts
from bot import settings as bot_settings

DEFAULT_REPLY_TIMEOUT = guard.DEFAULT_REPLY_TIMEOUT
DRAIN_BYTES = 1024 * 1024


def _error(status: int, message: str) -> response.HTTPResponse:
    return response.json({"error": message}, status=status)


def _too_big(settings: bot_settings.Settings) -> response.HTTPResponse:
    return _error(413, texts.body_too_large(settings.max_body_bytes // 1024))


def is_json(content_type: Optional[str]) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == "application/json"


class GuardedRestInput(RestInput):
    """REST input for integrators; see the module docstring."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(
        self, reply_timeout: float = DEFAULT_REPLY_TIMEOUT, settings: Optional[bot_settings.Settings] = None
    ) -> None:
        self.reply_timeout = reply_timeout
        self.intents = screening.domain_intents()
        self.settings = settings or bot_settings.current()
        self.gate = limits.Gate(self.settings)

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> InputChannel:
        return cls(float((credentials or {}).get("reply_timeout", DEFAULT_REPLY_TIMEOUT)))

    async def _body(self, request: Request) -> Optional[bytes]:
        """The body if it fits the limit, else None. Never more than the limit is kept in memory:
        a bigger body is read and dropped (so that the client can read the 413) up to
        DRAIN_BYTES, and beyond that the connection is closed unread."""
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > DRAIN_BYTES:
            return None
        request.stream.request_max_size = DRAIN_BYTES  # Sanic lifts it for streamed routes
        chunks, size = [], 0
        try:
            async for chunk in request.stream:
                size += len(chunk)
                if size <= limit:
                    chunks.append(chunk)
                else:
                    chunks.clear()
        except PayloadTooLarge:
            return None
        return b"".join(chunks) if size <= limit else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("guarded_rest_webhook", __name__)
        guard.limit_request_size(webhook, self.settings)
        settings = self.settings

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> response.HTTPResponse:
            address = limits.client_address(
                request.ip, request.headers.get("x-forwarded-for"), settings.trusted_proxies
            )
            if not self.gate.address_allowed(address):
                return _error(429, texts.RATE_LIMITED)
            if not is_json(request.headers.get("content-type")):
                return _error(415, texts.JSON_ONLY)
            body = await self._body(request)
            if body is None:
                return _too_big(settings)
            if limits.json_too_deep(body, settings.max_json_depth):
                return _error(400, texts.json_too_deep(settings.max_json_depth))
            try:
                data = json.loads(body.decode("utf-8", errors="replace"))
            except (ValueError, RecursionError):
                return _error(400, texts.JSON_INVALID)
            if not isinstance(data, dict):
                return _error(400, texts.JSON_NOT_OBJECT)
            problem = screening.sender_error(data.get("sender")) or screening.message_error(data.get("message"))
            if problem:
                return _error(400, problem)
            if not self.gate.conversation_allowed(data["sender"]):
                return _error(429, texts.RATE_LIMITED)
            metadata = limits.small_metadata(data.get("metadata"), settings.max_metadata_bytes)
            collector = CollectingOutputChannel()
            message = UserMessage(
                data["message"], collector, data["sender"], input_channel=self.name(), metadata=metadata
            )
            await guard.handle(message, on_new_message, self.intents, self.reply_timeout)
            return response.json(collector.messages)

        return webhook
