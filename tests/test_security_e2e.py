"""The security review's findings, end to end against the real servers (ops.serve: Rasa,
the action server, the web page) with the default limits: one test (or more) per finding.

The server here trusts one proxy in front (FAQ_TRUSTED_PROXIES=1): each test plays that proxy and
writes its own client address in X-Forwarded-For, so that the per-address limit of one test does
not spill into another.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import List, Optional

import pytest
import socketio

from bot import limits
from bot import store as store_module
from bot import texts as bot_texts
from bot.knowledge import default_kb
from ops import serve
from ops.processes import free_port, spawn
from ops.rest_client import WEBHOOK, post
from tests.conftest import MODEL, ROOT, start_bot, stop_bot

KB = default_kb()
COST = "qhn_cout_certification"
WAIT = 30


class SecureBot:
    """`ops.serve` on known ports, temporary databases, default limits."""

    def __init__(self, folder: Path, log_path: Path):
        self.port, self.actions_port, self.web_port = free_port(), free_port(), free_port()
        self.store_url = f"sqlite:///{folder / 'faq.db'}"
        self.tracker_path = folder / "tracker.db"
        env = {
            store_module.STORE_URL_ENV: self.store_url,
            store_module.TRACKER_URL_ENV: f"sqlite:///{self.tracker_path}",
            "FAQ_RATE_PER_ADDRESS": str(limits.Settings().per_address),
            "FAQ_RATE_PER_CONVERSATION": str(limits.Settings().per_conversation),
            "FAQ_TRUSTED_PROXIES": "1",
        }
        log_path.write_text("")
        self.process, self.url = start_bot(log_path, env, self.web_port, self.port, self.actions_port)
        self.web_url = f"http://localhost:{self.web_port}"

    def post(
        self,
        body,
        content_type: str = "application/json",
        address: str = "192.0.2.250",
        path: str = WEBHOOK,
        timeout: float = 30,
    ):
        """(status, decoded JSON body) of one POST; `body` a dict (JSON) or bytes."""
        response = post(self.url, body, content_type, {"X-Forwarded-For": address}, path, timeout)
        return response.status, response.body

    def say(self, sender: str, message: str, address: str = "192.0.2.250") -> List[dict]:
        status, replies = self.post({"sender": sender, "message": message}, address=address)
        assert status == 200, (status, replies)
        return replies

    def rows(self, table, sender: str) -> List[dict]:
        s = store_module.Store(self.store_url)
        try:
            return [r for r in s.rows(table) if r["conversation_id"] == sender]
        finally:
            s.dispose()

    def events(self, sender: str) -> List[tuple]:
        """(type, data) of Rasa's stored events of a conversation."""
        with sqlite3.connect(self.tracker_path) as connection:
            return connection.execute(
                "SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
            ).fetchall()


@pytest.fixture(scope="module")
def bot(tmp_path_factory, output_dir):
    assert MODEL.exists(), "no trained model: run the tests through `make test`"
    running = SecureBot(tmp_path_factory.mktemp("security"), output_dir / "security-server.log")
    yield running
    stop_bot(running.process)


def button(replies: List[dict], title: str) -> str:
    return next(b["payload"] for r in replies for b in r.get("buttons", []) if b["title"] == title)


def listening_addresses(port: int) -> set:
    """Addresses a local TCP port listens on, from /proc/net/tcp{,6}."""
    found = set()
    for name in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":
                raw = bytes.fromhex(address)
                if name == "tcp":
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


# --- 1. the action server: loopback only, and only for callers with the secret ---------------


def test_every_server_listens_on_loopback_only(bot):
    for port in (bot.port, bot.actions_port, bot.web_port):
        assert listening_addresses(port) == {"127.0.0.1"}, port


def test_make_shell_serves_on_loopback_only(output_dir):
    """`make shell` (ops.serve --shell) used to start its Rasa server on 0.0.0.0:5005."""
    port, actions_port = free_port(), free_port()
    log_path = output_dir / "security-shell.log"
    log_path.write_text("")
    shell = spawn(
        "shell",
        serve.command(port, actions_port, log=log_path, shell=True),
        log_path,
        cwd=ROOT,
        stdin=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while not listening_addresses(port):
            assert shell.alive(), "the shell stopped: see test-output/security-shell.log"
            assert time.monotonic() < deadline, f"nothing listens on port {port}"
            time.sleep(1)
        assert listening_addresses(port) == {"127.0.0.1"}
        assert listening_addresses(actions_port) == {"127.0.0.1"}
    finally:
        stop_bot(shell)


def forged_call(sender: str) -> dict:
    """What anyone reaching the action server could send: a tracker saying "Oui" to an answer."""
    return {
        "next_action": "action_feedback",
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"last_answer_id": COST},
            "events": [],
            "latest_message": {
                "text": "oui",
                "intent": {"name": "affirm", "confidence": 1.0},
                "entities": [{"entity": "answer_id", "value": COST}],
            },
            "latest_action_name": "action_listen",
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_event_time": time.time(),
        },
    }


def test_the_action_server_refuses_calls_without_the_secret(bot):
    sender = uuid.uuid4().hex
    actions = f"http://127.0.0.1:{bot.actions_port}"
    for path in ("/webhook", "/webhook?token=guessed-token-0123456789"):
        assert post(actions, forged_call(sender), path=path).status == 401
    assert bot.rows(store_module.feedback, sender) == []  # nothing written
    # Rasa has the secret: the real conversation goes on
    replies = bot.say(sender, f'/ask_{COST}{{"via":"guide"}}')
    assert KB.answer(COST).text in replies[0]["text"]
    bot.say(sender, button(replies, "Oui"))
    assert [r["helpful"] for r in bot.rows(store_module.feedback, sender)] == [True]


# --- 2. a conversation does not grow with use; rate limits ------------------------------------


def test_each_oui_adds_the_same_few_bytes_to_the_conversation(bot):
    """The `feedback` slot used to store the whole list again at each Oui: quadratic growth."""
    sender, address = uuid.uuid4().hex, "192.0.2.2"
    replies = bot.say(sender, f'/ask_{COST}{{"via":"guide"}}', address)
    yes = button(replies, "Oui")
    sizes = []
    for _ in range(24):
        bot.say(sender, yes, address)
        sizes.append(sum(len(data) for _, data in bot.events(sender)))
    steps = [b - a for a, b in zip(sizes, sizes[1:])]
    first, last = sum(steps[:5]) / 5, sum(steps[-5:]) / 5
    assert last <= first * 1.05, (first, last)


def test_too_many_messages_in_one_conversation_get_429_in_french(bot):
    sender, address = uuid.uuid4().hex, "192.0.2.3"
    statuses = [
        bot.post({"sender": sender, "message": '/browse{"facet_path":"offre=segur"}'}, address=address)
        for _ in range(limits.Settings().per_conversation + 5)
    ]
    codes = [status for status, _ in statuses]
    assert codes[: limits.Settings().per_conversation] == [200] * limits.Settings().per_conversation
    assert 429 in codes
    assert next(body for status, body in statuses if status == 429)["error"] == bot_texts.RATE_LIMITED
    # other conversations from the same address go on
    assert bot.say(uuid.uuid4().hex, "bonjour", address)


def test_too_many_messages_from_one_address_get_429(bot):
    """Every request counts, a refused one too (here: quick ones, refused for their Content-Type)."""
    address, limit = "192.0.2.4", limits.Settings().per_address
    codes = [
        bot.post({"sender": uuid.uuid4().hex, "message": "/browse"}, "text/plain", address)[0]
        for _ in range(limit + 10)
    ]
    assert codes[:limit] == [415] * limit and codes[-1] == 429
    assert bot.post({"sender": uuid.uuid4().hex, "message": "/browse"}, address=address) == (
        429,
        {"error": bot_texts.RATE_LIMITED},
    )
    assert bot.post({"sender": uuid.uuid4().hex, "message": "/browse"}, address="192.0.2.5")[0] == 200


# --- 3. socket.io: conversation ids issued by the server, one live socket each --------------


class Widget:
    """A python-socketio client as the web widget uses the channel (polling transport)."""

    def __init__(self, bot: SecureBot):
        self.client = socketio.Client(reconnection=False)
        self.replies: List[dict] = []
        self.confirmed: List[str] = []
        self.client.on("bot_uttered", lambda data: self.replies.append(data))
        self.client.on("session_confirm", lambda data: self.confirmed.append(data))
        self.client.connect(
            bot.url, headers={"Origin": bot.web_url}, transports=["polling"], socketio_path="socket.io", wait_timeout=20
        )

    def session(self, requested) -> str:
        count = len(self.confirmed)
        self.client.emit("session_request", {"session_id": requested})
        deadline = time.monotonic() + WAIT
        while len(self.confirmed) == count:
            assert time.monotonic() < deadline, "no session_confirm"
            time.sleep(0.05)
        return self.confirmed[-1]

    def say(self, message, count: int = 1, session_id: Optional[str] = None, **extra) -> List[dict]:
        del self.replies[:]
        self.client.emit("user_uttered", {"message": message, "session_id": session_id or self.confirmed[-1], **extra})
        return self.wait(count)

    def wait(self, count: int = 1) -> List[dict]:
        deadline = time.monotonic() + WAIT
        while len(self.replies) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # nothing more should come
        return list(self.replies)

    def close(self):
        self.client.disconnect()


@pytest.fixture
def widgets(bot):
    opened: List[Widget] = []

    def widget() -> Widget:
        opened.append(Widget(bot))
        return opened[-1]

    yield widget
    for w in opened:
        try:
            w.close()
        except Exception:  # noqa: BLE001 - already closed by the test
            pass


def texts(replies: List[dict]) -> List[str]:
    return [r.get("text") for r in replies]


def test_a_second_socket_presenting_a_held_id_gets_its_own_conversation(bot, widgets):
    first, second = widgets(), widgets()
    victim = first.session(None)
    assert len(victim) == 32 and uuid.UUID(victim).version == 4
    assert KB.answer(COST).text in texts(first.say(f'/ask_{COST}{{"via":"guide"}}', 2))[0]
    first.replies.clear()

    other = second.session(victim)  # someone who learnt the id
    assert other != victim
    replies = second.say("bonjour", 2, session_id=victim)  # and writes it in every message
    assert bot_texts.WELCOME in texts(replies)  # a conversation of its own, from its start
    assert first.replies == []  # nothing of it reached the first widget
    said = [json.loads(data).get("text") for kind, data in bot.events(victim) if kind == "user"]
    assert "bonjour" not in said and "bonjour" in [
        json.loads(data).get("text") for kind, data in bot.events(other) if kind == "user"
    ]

    first.replies.clear()
    assert texts(first.say("oui")) == [bot_texts.THANKS_YES]  # the first conversation goes on, its own way
    assert second.replies == [] or all(r.get("text") != bot_texts.THANKS_YES for r in second.replies)


def test_invalid_ids_get_a_new_one(bot, widgets):
    w = widgets()
    for requested in ("", "abc", "../../x", "x" * 10_000, 42, ["a"], uuid.uuid1().hex, str(uuid.uuid4())):
        granted = w.session(requested)
        assert granted != requested and uuid.UUID(granted).version == 4 and len(granted) == 32


def test_after_a_reload_the_page_takes_its_conversation_back(bot, widgets):
    page = widgets()
    session = page.session(None)
    assert KB.answer(COST).text in texts(page.say(f'/ask_{COST}{{"via":"guide"}}', 2))[0]
    page.close()
    reloaded = widgets()
    assert reloaded.session(session) == session
    assert texts(reloaded.say("oui")) == [bot_texts.THANKS_YES]  # the answer shown before the reload


# --- 4, 5, 6. REST and socket.io limits before parsing, never a 5xx ---------------------------


@pytest.mark.parametrize(
    "body,status,words",
    [
        (b"[" * 2000 + b"]" * 2000, 400, "imbriqué"),
        (b'{"sender": "abc", "message": "x", "metadata": ' + b"[" * 2000 + b"]" * 2000 + b"}", 400, "imbriqué"),
        (b'{"sender": "abc", "message": "' + b"[" * 3000 + b'"}', 200, None),  # brackets in a string are text
    ],
)
def test_deeply_nested_json_is_a_400(bot, body, status, words):
    code, payload = bot.post(body, address="192.0.2.6")
    assert code == status, payload
    if words:
        assert words in payload["error"]


def test_a_huge_declared_body_is_refused_before_it_is_sent(bot):
    """Sanic used to wait for (and buffer) up to 100 MB before the size check."""
    with socket.create_connection(("127.0.0.1", bot.port), timeout=10) as connection:
        connection.sendall(
            b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n" + b"{" * 1000
        )
        started = time.monotonic()
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 5
    assert "volumineuse" in answer.decode("utf-8", "replace")


def test_a_socketio_payload_over_the_cap_is_refused(bot):
    """engine.io accepted 1 MB per request, all of it kept in the message's metadata."""

    def call(query: str, body: Optional[bytes] = None) -> tuple:
        request = urllib.request.Request(
            f"{bot.url}/socket.io/?EIO=4&transport=polling&{query}",
            data=body,
            headers={"Content-Type": "text/plain;charset=UTF-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    status, opening = call("t=1")
    sid = json.loads(opening[opening.index("{") :])["sid"]
    assert call(f"sid={sid}", b"40")[0] == 200
    big = "42" + json.dumps(["user_uttered", {"message": "bonjour", "customData": {"x": "y" * 100_000}}])
    assert call(f"sid={sid}", big.encode())[0] == 413


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ],
)
def test_rest_refuses_what_is_not_json_a_cross_site_form_can_send(bot, content_type):
    sender = uuid.uuid4().hex
    code, payload = bot.post({"sender": sender, "message": "bonjour"}, content_type=content_type, address="192.0.2.8")
    assert code == 415 and "application/json" in payload["error"]
    assert bot.events(sender) == []  # never handled


def test_socketio_message_that_is_not_text_is_answered_politely(bot, widgets):
    w = widgets()
    w.session(None)
    for odd in (42, None, ["bonjour"], {"text": "bonjour"}):
        assert texts(w.say(odd)) == [bot_texts.NOT_TEXT]
    assert bot_texts.WELCOME in texts(w.say("bonjour", 2))


def test_socketio_metadata_is_kept_only_when_small(bot, widgets):
    w = widgets()
    session = w.session(None)
    w.say("bonjour", 2, customData={"language": "fr", "padding": "x" * 5000})
    w.say("/browse", 1, customData={"language": "fr"})
    metadata = [json.loads(data).get("metadata") or {} for kind, data in bot.events(session) if kind == "user"]
    assert [(m.get("language"), m.get("padding")) for m in metadata] == [(None, None), ("fr", None)], metadata


def test_socketio_messages_are_rate_limited_too(bot, widgets):
    w = widgets()
    w.session(None)
    limit = limits.Settings().per_conversation
    for _ in range(limit + 15):  # a burst of `limit`, then one every 2 s: the last ones are refused
        w.client.emit("user_uttered", {"message": "/browse"})
        time.sleep(0.02)  # one engine.io request each (engine.io takes 16 packets a request at most)
    deadline = time.monotonic() + WAIT
    while bot_texts.RATE_LIMITED not in texts(w.replies):
        assert time.monotonic() < deadline, "no rate limit over socket.io"
        time.sleep(0.1)


# --- 7. feedback replayed counts once -------------------------------------------------------


def test_old_buttons_and_typed_payloads_replayed_count_once(bot):
    sender, address = uuid.uuid4().hex, "192.0.2.9"
    replies = bot.say(sender, f'/ask_{COST}{{"via":"guide"}}', address)
    yes, no = button(replies, "Oui"), button(replies, "Non")
    for message in (yes, yes, yes, f'/affirm{{"answer_id":"{COST}"}}', no):
        bot.say(sender, message, address)
    bot.say(sender, f'/ask_{COST}{{"via":"guide"}}', address)  # the same answer again
    assert [(r["answer_id"], r["helpful"]) for r in bot.rows(store_module.feedback, sender)] == [(COST, False)]
    assert [r["answer_id"] for r in bot.rows(store_module.answers_shown, sender)] == [COST]
