"""Every setting of the assistant read from the environment (`FAQ_*`), with its default, in one place.

Plain Python: the channels, the launchers, the store and the cluster all read their settings here,
never `os.environ` directly. docs/operations.md lists them for operators.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping, Optional, Tuple

DEFAULT_WEB_PORT = 8080


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    return (env.get(name) or "").strip() or default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "")
    try:
        return max(0, int(value)) if value.strip() else default
    except ValueError:
        raise ValueError(f"{name} doit être un nombre entier (reçu : {value!r})") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "")
    try:
        return max(0.0, float(value)) if value.strip() else default
    except ValueError:
        raise ValueError(f"{name} doit être un nombre (reçu : {value!r})") from None


def parse_list(value: Any) -> Tuple[str, ...]:
    """`"a, b/"` or `["a", "b"]` -> `("a", "b")`, trailing slashes dropped (browsers send none)."""
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else (value or [])
    return tuple(str(item).strip().rstrip("/") for item in items if str(item).strip())


def origins_for(web_port: int) -> List[str]:
    """The origins of the assistant's own web page on `web_port`."""
    return [f"http://localhost:{web_port}", f"http://127.0.0.1:{web_port}"]


@dataclass(frozen=True)
class Settings:
    """0 turns a rate limit off (e.g. behind a proxy that enforces its own)."""

    # --- storage (bot/store.py) -------------------------------------------------------------
    store_url: str = "sqlite:///var/faq.db"  # FAQ_STORE_URL: feedback, answers shown, unanswered questions
    tracker_store_url: str = ""  # FAQ_TRACKER_STORE_URL: Rasa's conversations; empty = endpoints.yml's entry
    # --- the web page and its socket.io channel ----------------------------------------------
    web_origins: Tuple[str, ...] = ()  # FAQ_WEB_ORIGINS: pages that may open the widget; empty = the page's own
    socket_url: str = ""  # FAQ_SOCKET_URL: where the widget connects; empty = the page's host on the Rasa port
    session_takeover_wait: float = (
        3.0  # FAQ_SESSION_TAKEOVER_WAIT: s a socket has to answer a ping before its id is taken
    )
    # --- waiting ------------------------------------------------------------------------------
    reply_timeout: float = 10.0  # FAQ_REPLY_TIMEOUT: s before a channel says "indisponible"
    action_timeout: int = 8  # FAQ_ACTION_TIMEOUT: s Rasa waits for the action server (its default: 300)
    # --- the action server --------------------------------------------------------------------
    action_token: str = ""  # FAQ_ACTION_TOKEN: secret Rasa sends to the action server; empty = drawn at each start
    action_server_url: str = ""  # ACTION_SERVER_URL: an action server started elsewhere
    # --- limits on what clients send (bot/limits.py, docs/security.md) ---------------------------
    per_conversation: int = 30  # FAQ_RATE_PER_CONVERSATION: messages a minute per conversation (burst: as many)
    per_address: int = 120  # FAQ_RATE_PER_ADDRESS: messages a minute per client address
    max_body_bytes: int = 16 * 1024  # FAQ_MAX_BODY_BYTES: a REST body or socket.io HTTP request, refused unread
    max_json_depth: int = 20  # FAQ_MAX_JSON_DEPTH: nesting of a REST body; ours has 2 levels
    max_metadata_bytes: int = 1024  # FAQ_MAX_METADATA_BYTES: socket.io customData kept with each message
    trusted_proxies: int = 0  # FAQ_TRUSTED_PROXIES: proxies in front that append to X-Forwarded-For
    # --- the cluster (ops/cluster/run.py, docs/operations.md) ----------------------------------
    replicas: int = 2  # FAQ_REPLICAS: Rasa replicas behind nginx
    action_servers: int = 2  # FAQ_ACTION_SERVERS
    workers: int = 1  # FAQ_WORKERS: Sanic workers per replica (more breaks socket.io sessions)
    trusted_proxy_addresses: Tuple[str, ...] = field(default=())  # FAQ_TRUSTED_PROXY_ADDRESSES: proxies before nginx

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        d = cls()
        return cls(
            store_url=_text(env, "FAQ_STORE_URL", d.store_url),
            tracker_store_url=_text(env, "FAQ_TRACKER_STORE_URL"),
            web_origins=parse_list(env.get("FAQ_WEB_ORIGINS", "")),
            socket_url=_text(env, "FAQ_SOCKET_URL"),
            session_takeover_wait=_float(env, "FAQ_SESSION_TAKEOVER_WAIT", d.session_takeover_wait),
            reply_timeout=_float(env, "FAQ_REPLY_TIMEOUT", d.reply_timeout) or d.reply_timeout,
            action_timeout=_int(env, "FAQ_ACTION_TIMEOUT", d.action_timeout) or d.action_timeout,
            action_token=_text(env, "FAQ_ACTION_TOKEN"),
            action_server_url=_text(env, "ACTION_SERVER_URL"),
            per_conversation=_int(env, "FAQ_RATE_PER_CONVERSATION", d.per_conversation),
            per_address=_int(env, "FAQ_RATE_PER_ADDRESS", d.per_address),
            max_body_bytes=_int(env, "FAQ_MAX_BODY_BYTES", d.max_body_bytes) or d.max_body_bytes,
            max_json_depth=_int(env, "FAQ_MAX_JSON_DEPTH", d.max_json_depth) or d.max_json_depth,
            max_metadata_bytes=_int(env, "FAQ_MAX_METADATA_BYTES", d.max_metadata_bytes),
            trusted_proxies=_int(env, "FAQ_TRUSTED_PROXIES", d.trusted_proxies),
            replicas=_int(env, "FAQ_REPLICAS", d.replicas) or d.replicas,
            action_servers=_int(env, "FAQ_ACTION_SERVERS", d.action_servers) or d.action_servers,
            workers=_int(env, "FAQ_WORKERS", d.workers) or d.workers,
            trusted_proxy_addresses=parse_list(env.get("FAQ_TRUSTED_PROXY_ADDRESSES", "")),
        )

    def origins(self, web_port: int = DEFAULT_WEB_PORT) -> List[str]:
        """Origins whose pages may talk to the bot: FAQ_WEB_ORIGINS, else the page's own on `web_port`."""
        return list(self.web_origins) or origins_for(web_port)


def current() -> Settings:
    """The settings of this process's environment now (read anew: tests and launchers change it)."""
    return Settings.from_env()
