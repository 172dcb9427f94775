"""Rasa's REST channel with a checked contract, screened input and a bounded wait.

Same URL as Rasa's own (`/webhooks/rest/webhook`), same reply format. In addition:
- a malformed request (bad JSON, missing or mistyped `sender`/`message`, body too big) gets a
  4xx with a French message instead of Rasa's defaults (a missing sender would otherwise
  land in a shared "default" conversation);
- messages go through `bot.channel_guard.handle`: screened (empty, too long, refused
  payloads), and "service momentanément indisponible" when no reply comes in time.
"""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot import channel_guard, input_guard

MAX_BODY_BYTES = 16 * 1024
DEFAULT_REPLY_TIMEOUT = channel_guard.DEFAULT_REPLY_TIMEOUT


def _error(status: int, message: str) -> response.HTTPResponse:
    return response.json({"error": message}, status=status)


class GuardedRestInput(RestInput):
    """REST input for integrators; see the module docstring."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(self, reply_timeout: float = DEFAULT_REPLY_TIMEOUT) -> None:
        self.reply_timeout = reply_timeout
        self.intents = input_guard.domain_intents()

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> InputChannel:
        return cls(float((credentials or {}).get("reply_timeout", DEFAULT_REPLY_TIMEOUT)))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("guarded_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> response.HTTPResponse:
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return _error(413, f"Requête trop volumineuse (plus de {MAX_BODY_BYTES // 1024} Ko).")
            try:
                data = json.loads(body.decode("utf-8", errors="replace"))
            except ValueError:
                return _error(400, 'Le corps doit être du JSON : {"sender": "...", "message": "..."}.')
            if not isinstance(data, dict):
                return _error(400, 'Le corps doit être un objet JSON : {"sender": "...", "message": "..."}.')
            problem = input_guard.sender_error(data.get("sender")) or input_guard.message_error(data.get("message"))
            if problem:
                return _error(400, problem)
            metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else None
            collector = CollectingOutputChannel()
            message = UserMessage(data["message"], collector, data["sender"], input_channel=self.name(),
                                  metadata=metadata)
            await channel_guard.handle(message, on_new_message, self.intents, self.reply_timeout)
            return response.json(collector.messages)

        return webhook
