"""Rasa's REST channel with a checked contract, screened input and a bounded wait.

Same URL as Rasa's own (`/webhooks/rest/webhook`), same reply format. In addition:
- a malformed request (bad JSON, missing or mistyped `sender`/`message`, body too big) gets a
  4xx with a French message instead of Rasa's defaults (a missing sender would otherwise
  land in a shared "default" conversation);
- messages go through `bot.input_guard.screen` (empty, too long, refused payloads);
- a reply that takes longer than `reply_timeout`, or that comes back empty because the
  action server is down, becomes "service momentanément indisponible".
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Awaitable, Callable, Optional, Text

import rasa.core.actions.action
import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot import input_guard

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
DEFAULT_REPLY_TIMEOUT = float(os.environ.get("FAQ_REPLY_TIMEOUT", "10"))
# Rasa waits 5 minutes for the action server; a vendor on a web page will not.
ACTION_TIMEOUT = int(os.environ.get("FAQ_ACTION_TIMEOUT", "8"))
rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT
rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT


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

    async def reply(self, on_new_message, sender: str, text: str, metadata: Any) -> list:
        collector = CollectingOutputChannel()
        task = asyncio.ensure_future(
            on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
        )
        try:
            # shield: a slow reply goes on in the background and releases the conversation
            await asyncio.wait_for(asyncio.shield(task), self.reply_timeout)
        except asyncio.TimeoutError:
            logger.warning("rest: no reply within %ss for conversation %s", self.reply_timeout, sender)
            return [{"recipient_id": sender, **input_guard.unavailable_reply()}]
        except Exception:  # noqa: BLE001 - the user gets a message, the log gets the details
            logger.exception("rest: failure for conversation %s", sender)
            return [{"recipient_id": sender, **input_guard.unavailable_reply()}]
        return collector.messages or [{"recipient_id": sender, **input_guard.unavailable_reply()}]

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
            sender = data["sender"]
            metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else None
            verdict = input_guard.screen(data["message"], self.intents)
            if verdict.replies:
                return response.json([{"recipient_id": sender, **r} for r in verdict.replies])
            return response.json(await self.reply(on_new_message, sender, verdict.text, metadata))

        return webhook
