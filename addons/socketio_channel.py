"""Rasa's socket.io channel (the web widget's), restricted and made safe for the public web.

- Origins: Rasa creates its socket.io server with origin checks off, so any web site could open
  a conversation from a visitor's browser. A connection whose `Origin` header is not in the
  allowed list is refused (a request without one, from a server-side client or a same-origin
  page, is not a cross-site request and passes, as in engine.io). The list comes from the
  `FAQ_WEB_ORIGINS` environment variable (comma-separated; `ops.serve` sets it), else from
  `allowed_origins` in credentials.yml. CORS headers for the polling transport stay with Rasa's
  `--cors` option (same list), so each response carries them once.
- Conversation ids: Rasa joins whatever `session_id` a client sends and takes the conversation of
  each message from the message itself, so whoever presents someone's id reads and writes that
  conversation. Here the server issues the ids (UUID4) and binds each to one live socket: a
  socket that presents an id held by another live socket gets a new conversation; once the
  holder is gone (a page reload), the page's new socket takes its conversation back. Whether the
  holder is still there is asked, not guessed: it gets an engine.io ping, and one that does not
  answer within FAQ_SESSION_TAKEOVER_WAIT seconds is closed (a page that went away without
  closing its connection, as a reloaded page on the polling transport does, would otherwise hold
  the id until engine.io's own timeout, 45 s). Messages go to the conversation of the socket,
  whatever id they carry.
- Limits (bot/limits.py): rate per conversation and per client address, socket.io payloads
  capped, metadata (`customData`) kept only when small, a message that is not text answered
  politely instead of failing in Rasa's handler.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import engineio.packet
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from addons import guard
from bot import limits, screening, texts
from bot import settings as bot_settings

logger = logging.getLogger(__name__)

DEFAULT_ORIGINS = tuple(bot_settings.origins_for(bot_settings.DEFAULT_WEB_PORT))
_UUID4_HEX = re.compile(r"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$")


def allowed_origins(credentials: Optional[Dict[Text, Any]] = None) -> List[str]:
    """FAQ_WEB_ORIGINS, else `allowed_origins` of credentials.yml, else the page's own on port 8080."""
    configured = bot_settings.current().web_origins or bot_settings.parse_list(
        (credentials or {}).get("allowed_origins")
    )
    return list(configured) or list(DEFAULT_ORIGINS)


def is_session_id(value: Any) -> bool:
    """An id as this server issues them: uuid4().hex."""
    return isinstance(value, str) and bool(_UUID4_HEX.match(value))


class Sessions:
    """Which live socket holds which conversation id (one socket per id, one id per socket)."""

    def __init__(self) -> None:
        self.holder: Dict[str, str] = {}  # conversation id -> socket id
        self.session: Dict[str, str] = {}  # socket id -> conversation id

    def of(self, sid: str) -> Optional[str]:
        return self.session.get(sid)

    def free(self, session_id: Any, sid: str, alive: Callable[[str], bool]) -> bool:
        holder = self.holder.get(session_id)
        if holder is not None and holder != sid and not alive(holder):
            self.release(holder)
            holder = None
        return holder in (None, sid)

    def bind(self, sid: str, session_id: str) -> Optional[str]:
        """Give `session_id` to `sid`; returns the id the socket held before, if another."""
        previous = self.session.get(sid)
        if previous and previous != session_id:
            self.holder.pop(previous, None)
        self.holder[session_id] = sid
        self.session[sid] = session_id
        return previous if previous != session_id else None

    def release(self, sid: str) -> None:
        session_id = self.session.pop(sid, None)
        if session_id is not None and self.holder.get(session_id) == sid:
            del self.holder[session_id]


class RestrictedSocketIOInput(SocketIOInput):
    """socket.io input for the widget; see the module docstring."""

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
        intents = screening.domain_intents()
        settings = bot_settings.current()
        takeover_wait = settings.session_takeover_wait
        gate = limits.Gate(settings)
        sessions = Sessions()
        addresses: Dict[str, Optional[str]] = {}

        webhook = super().blueprint(on_new_message)
        guard.limit_request_size(webhook, settings)
        sio = self.sio
        sio.eio.max_http_buffer_size = settings.max_body_bytes
        namespace = self.namespace or "/"
        rasa_connect = sio.handlers[namespace]["connect"]

        def alive(sid: str) -> bool:
            return sio.manager.is_connected(sid, namespace)

        async def answers_ping(sid: str) -> bool:
            """Send the socket an engine.io PING; True if its PONG comes within FAQ_SESSION_TAKEOVER_WAIT seconds.

            engine.io clears `last_ping` when a PONG arrives (and schedules its next ping)."""
            try:
                socket = sio.eio.sockets[sio.manager.eio_sid_from_sid(sid, namespace)]
            except (KeyError, TypeError):
                return False
            socket.last_ping = time.time()
            await socket.send(engineio.packet.Packet(engineio.packet.PING))
            deadline = asyncio.get_running_loop().time() + takeover_wait
            while asyncio.get_running_loop().time() < deadline:
                if socket.closed or not alive(sid):
                    return False
                if socket.last_ping is None:
                    return True
                await asyncio.sleep(0.05)
            return False

        async def reply(room: str, text: str) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=room)

        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            if not self.origin_allowed(environ):
                logger.warning("socket.io: connection refused from origin %r", environ.get("HTTP_ORIGIN"))
                return False
            request = environ.get("sanic.request")
            addresses[sid] = limits.client_address(
                request.ip if request is not None else None,
                environ.get("HTTP_X_FORWARDED_FOR"),
                settings.trusted_proxies,
            )
            return await rasa_connect(sid, environ, auth)

        async def disconnect(sid: Text) -> None:
            sessions.release(sid)
            addresses.pop(sid, None)

        async def session_request(sid: Text, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            granted = None
            if is_session_id(requested):
                holder = sessions.holder.get(requested)
                if holder not in (None, sid) and alive(holder) and not await answers_ping(holder):
                    logger.info("socket.io: a socket that no longer answers gives its conversation back")
                    sessions.release(holder)
                    await sio.disconnect(holder, namespace=namespace)
                if sessions.free(requested, sid, alive):
                    granted = requested
            if granted is None:
                granted = uuid.uuid4().hex
                if requested:
                    logger.info("socket.io: a new conversation instead of a held or invalid id")
            if not alive(sid):
                return
            previous = sessions.bind(sid, granted)
            if previous:
                sio.leave_room(sid, previous, namespace=namespace)
            sio.enter_room(sid, granted, namespace=namespace)
            await sio.emit("session_confirm", granted, room=sid)

        async def handle_message(sid: Text, data: Any) -> None:
            session_id = sessions.of(sid)
            if session_id is None:
                logger.warning("socket.io: a message before any session_request was ignored")
                return
            data = data if isinstance(data, dict) else {}
            if not gate.address_allowed(addresses.get(sid)) or not gate.conversation_allowed(session_id):
                await reply(session_id, texts.RATE_LIMITED)
                return
            text = data.get("message")
            if not isinstance(text, str):
                await reply(session_id, texts.NOT_TEXT)
                return
            metadata = limits.small_metadata(data.get(self.metadata_key), settings.max_metadata_bytes)
            message = UserMessage(
                text,
                SocketIOOutput(sio, self.bot_message_evt),
                session_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            # same screening and "indisponible" fallback as the REST channel
            await guard.handle(message, on_new_message, intents)

        sio.on("connect", connect, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return webhook
