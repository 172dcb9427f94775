"""One way for every channel to hand a user message to Rasa: screened, and never silent.

The REST and socket.io channels both call `handle()`: the message goes through
`bot.screening.screen`; a reply that does not come within the timeout, or no reply at all
(the action server is down), becomes "service momentanément indisponible". A slow reply keeps
running in the background, so the conversation is released and goes on afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, FrozenSet

from bot import screening, settings

logger = logging.getLogger(__name__)

DEFAULT_REPLY_TIMEOUT = settings.current().reply_timeout


async def handle(
    message: Any,
    on_new_message: Callable[[Any], Awaitable[Any]],
    intents: FrozenSet[str],
    timeout: float = DEFAULT_REPLY_TIMEOUT,
) -> None:
    """Screen `message` (a Rasa UserMessage), run it, and make sure the user hears back."""
    output = message.output_channel
    send = output.send_response
    verdict = screening.screen(message.text or "", intents)
    if verdict.replies:
        for reply in verdict.replies:
            await send(message.sender_id, reply)
        return
    message.text = verdict.text
    sent = []

    async def counted(recipient_id, reply):
        sent.append(reply)
        await send(recipient_id, reply)

    output.send_response = counted
    task = asyncio.ensure_future(on_new_message(message))
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except asyncio.TimeoutError:
        logger.warning("no reply within %ss for conversation %s", timeout, message.sender_id)
        await send(message.sender_id, screening.unavailable_reply())
        return
    except Exception:  # noqa: BLE001 - the user gets a message, the log gets the details
        logger.exception("failure for conversation %s", message.sender_id)
    if not sent:
        await send(message.sender_id, screening.unavailable_reply())


def limit_request_size(blueprint: Any, config: "settings.Settings") -> None:
    """Sanic reads up to 100 MB of any request before a handler sees it: bring that down to the
    body limit for the whole server (socket.io polling included) when it starts."""

    @blueprint.listener("before_server_start")
    async def _limit(app, _loop) -> None:
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, config.max_body_bytes)
        app.config.WEBSOCKET_MAX_SIZE = min(app.config.WEBSOCKET_MAX_SIZE, config.max_body_bytes)
