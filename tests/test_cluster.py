"""Cluster mode for real: PostgreSQL, Redis, nginx, two Rasa replicas and two action servers
started by ops.cluster.run; every message goes through nginx.

What a busy site needs from it: conversations spread over the replicas; a conversation keeps its
state whichever replica answers each message; one conversation is never handled by two replicas
at once; socket.io sessions stay on their replica; a replica killed mid-way loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import pytest
import sqlalchemy as sa

from addons import lock_store
from bot import store as store_module
from bot import texts
from ops.cluster import nginx
from ops.cluster.run import ENDPOINTS, Cluster, Settings
from ops.processes import free_port
from ops.rest_client import WEBHOOK, exchange, post
from tests.conftest import MODEL, ROOT

GUIDED_COST = '/ask_qhn_cout_certification{"via":"guide"}'


# --- a REST client that also reads which replica answered ---------------------------------


def post_message(base_url: str, sender: str, message: str, timeout: float = 60) -> Tuple[List[dict], str]:
    """(replies, replica address) for one message through nginx."""
    replies, headers = exchange(base_url, sender, message, timeout)
    # after a failover nginx lists every replica it tried: the last one answered
    return replies, headers["X-Upstream"].split(",")[-1].strip()


class Conversation:
    """One user through nginx: what was sent, and which replica answered each message."""

    def __init__(self, base_url: str, seed: int):
        self.base_url, self.sender, self.rng = base_url, uuid.uuid4().hex, random.Random(seed)
        self.sent: List[str] = []
        self.upstreams: List[str] = []
        self.answer_id: Optional[str] = None

    def say(self, message: str) -> List[dict]:
        replies, upstream = post_message(self.base_url, self.sender, message)
        self.sent.append(message)
        self.upstreams.append(upstream)
        assert replies, f"no reply to {message!r}"
        return replies

    def walk_to_an_answer(self) -> List[dict]:
        """Bonjour, then random buttons (never "Recommencer") until an answer is shown."""
        replies = self.say("Bonjour")
        for _ in range(8):
            if replies[-1].get("text") == texts.FEEDBACK_QUESTION:
                yes = next(b for b in replies[-1]["buttons"] if b["title"] == "Oui")
                self.answer_id = json.loads(yes["payload"][len("/affirm") :])["answer_id"]
                return replies
            choices = [b for b in replies[-1].get("buttons") or [] if b["title"] != texts.RESTART_LABEL]
            assert choices, f"no way forward in {replies}"
            replies = self.say(self.rng.choice(choices)["payload"])
        raise AssertionError(f"no answer after 8 clicks: {self.sent}")


# --- the cluster ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(output_dir):
    assert MODEL.exists(), "no trained model: run the tests through `make test`"
    folder = Path(tempfile.mkdtemp(prefix="faq-cluster-test-"))
    # the tests play a trusted proxy in front (their X-Forwarded-For picks the client address) and
    # read which replica answered
    running = Cluster(
        Settings(
            replicas=2,
            action_servers=2,
            workers=1,
            port=0,
            folder=folder,
            model=MODEL,
            replica_header=True,
            trusted_proxies=["127.0.0.1"],
        )
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
        logs = output_dir / "cluster-logs"
        shutil.rmtree(logs, ignore_errors=True)
        if running.logs.exists():
            shutil.copytree(running.logs, logs)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def database(cluster):
    engine = sa.create_engine(cluster.store_url, future=True)
    yield engine
    engine.dispose()


def rows(engine, table: sa.Table, sender: str) -> List[dict]:
    with engine.connect() as connection:
        query = sa.select(table).where(table.c.conversation_id == sender).order_by(table.c.id)
        return [dict(r._mapping) for r in connection.execute(query)]


def events(engine, sender: str) -> List[Tuple[str, dict]]:
    """Rasa's conversation in PostgreSQL: (event type, event data) in order."""
    with engine.connect() as connection:
        result = connection.execute(
            sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        )
        return [(type_name, json.loads(data)) for type_name, data in result]


def user_texts(engine, sender: str) -> List[str]:
    return [data.get("text") for kind, data in events(engine, sender) if kind == "user"]


def replica_addresses(cluster) -> List[str]:
    return [f"127.0.0.1:{r.port}" for r in cluster.replicas]


# --- configuration (no server) --------------------------------------------------------


def test_endpoints_template_reads_every_setting_from_the_environment(monkeypatch):
    from rasa.core.utils import number_of_sanic_workers
    from rasa.utils.endpoints import read_endpoint_config

    text = ENDPOINTS.read_text(encoding="utf-8")
    assert "password: ${FAQ_PG_PASSWORD}" in text and "password: ${FAQ_REDIS_PASSWORD}" in text
    values = {
        "FAQ_ACTION_SERVER_URL": "http://actions.test/webhook",
        "FAQ_PG_HOST": "db.test",
        "FAQ_PG_PORT": "5433",
        "FAQ_PG_DB": "faq",
        "FAQ_PG_USER": "faq",
        "FAQ_PG_PASSWORD": "pg-secret",
        "FAQ_REDIS_HOST": "redis.test",
        "FAQ_REDIS_PORT": "6380",
        "FAQ_REDIS_PASSWORD": "redis-secret",
        "FAQ_REDIS_DB": "1",
        "SANIC_WORKERS": "3",
        "FAQ_ACTION_TOKEN": "action-secret-0123456789",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    tracker = read_endpoint_config(str(ENDPOINTS), "tracker_store")
    assert (tracker.type, tracker.url, tracker.kwargs["dialect"], tracker.kwargs["password"]) == (
        "SQL",
        "db.test",
        "postgresql",
        "pg-secret",
    )
    lock = read_endpoint_config(str(ENDPOINTS), "lock_store")
    assert (lock.type, lock.url, lock.kwargs["port"], lock.kwargs["password"]) == (
        "addons.lock_store.AtomicRedisLockStore",
        "redis.test",
        "6380",
        "redis-secret",
    )
    actions = read_endpoint_config(str(ENDPOINTS), "action_endpoint")
    assert (actions.url, actions.token) == ("http://actions.test/webhook", "action-secret-0123456789")
    # Rasa starts several Sanic workers only with this lock store; the single-machine default keeps one
    assert number_of_sanic_workers(lock) == 3
    assert number_of_sanic_workers(read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store")) == 1


def test_lock_store_lets_one_holder_in_at_a_time(cluster):
    """8 processes' worth of lock stores (one Redis connection each) asking for one conversation's
    lock at the same moment: one holder at a time, every ticket served once, nothing left behind.
    (Rasa's own RedisLockStore, in the same race, hands out the same ticket twice.)"""
    conversation = uuid.uuid4().hex
    stores = [
        lock_store.AtomicRedisLockStore(
            host="127.0.0.1", port=cluster.redis.port, db=1, password=cluster.redis.password, key_prefix="test"
        )
        for _ in range(8)
    ]
    start, guard = threading.Barrier(len(stores)), threading.Lock()
    inside, most_inside, served = [0], [0], []

    async def hold(store) -> None:
        async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.05) as lock:
            with guard:
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
                served.append(lock.now_serving)
            await asyncio.sleep(0.05)
            with guard:
                inside[0] -= 1

    def run(store) -> None:
        start.wait()
        asyncio.run(hold(store))

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(run, stores))
    assert most_inside[0] == 1
    assert sorted(served) == list(range(len(stores)))
    assert stores[0].get_lock(conversation) is None


def test_nginx_configuration_is_accepted_by_nginx(tmp_path):
    balancer = nginx.Nginx(tmp_path, 18080, 18081, [15001, 15002], [15051], 18082)
    assert "syntax is ok" in balancer.check()
    text = (tmp_path / "nginx.conf").read_text()

    def block(name: str) -> str:
        start = text.index(f"upstream {name} {{")
        return text[start : text.index("}", start)]

    rest, sticky = block("faq_rasa"), block("faq_rasa_sticky")
    for block in (rest, sticky):
        assert "127.0.0.1:15001" in block and "127.0.0.1:15002" in block
    assert "hash $remote_addr consistent;" in sticky and "hash" not in rest  # REST: round-robin
    assert "X-Upstream" not in text and "set_real_ip_from" not in text  # off unless asked for
    limited = nginx.Nginx(
        tmp_path / "limited",
        18080,
        18081,
        [15001],
        [15051],
        18082,
        rate_per_address=30,
        trusted_proxies=("10.0.0.0/8",),
    )
    assert "syntax is ok" in limited.check()


class Upstream:
    """A stand-in replica: answers every request with its own port and the X-Forwarded-For it got."""

    def __init__(self):
        import http.server

        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                body = json.dumps({"port": upstream.port, "xff": self.headers.get("X-Forwarded-For")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _reply

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_nginx_defaults_hide_replicas_ignore_forged_addresses_and_limit_rates(tmp_path):
    """The load balancer as configured by default (real nginx, stand-in replicas): no internal
    address in the responses, the sticky replica and the rate limit key on the TCP peer whatever
    X-Forwarded-For a client writes, and the (N+1)th message of a minute gets 429 in French."""
    replicas = [Upstream() for _ in range(4)]
    balancer = nginx.Nginx(
        tmp_path,
        free_port(),
        free_port(),
        [r.port for r in replicas],
        [replicas[0].port],
        replicas[0].port,
        rate_per_address=6,
    )
    child = balancer.start(tmp_path / "nginx.log")
    try:

        def call(path, forged, body=None):
            method = "GET" if body is None else "POST"
            headers = {"X-Forwarded-For": forged}
            response = post(
                f"http://127.0.0.1:{balancer.port}", body, headers=headers, path=path, timeout=10, method=method
            )
            return response.status, dict(response.headers), response.body

        sticky = [call("/socket.io/?EIO=4", f"203.0.113.{n}") for n in range(1, 13)]
        assert all(status == 200 for status, _, _ in sticky)
        assert len({body["port"] for _, _, body in sticky}) == 1  # forged addresses do not pick the replica
        assert {body["xff"] for _, _, body in sticky} == {"127.0.0.1"}  # replicas see the real peer only
        assert not any("X-Upstream" in headers for _, headers, _ in sticky)
        statuses = [call(WEBHOOK, f"198.51.100.{n}", b"{}") for n in range(1, 9)]
        assert [s for s, _, _ in statuses[:6]] == [200] * 6
        status, headers, body = statuses[6]
        assert status == 429 and "patienter" in body["error"] and "X-Upstream" not in headers
    finally:
        child.stop()
        for replica in replicas:
            replica.stop()


# --- the running cluster --------------------------------------------------------------


def test_conversations_spread_over_replicas_and_keep_their_state(cluster, database):
    """16 conversations, 8 at a time: guided clicks, then "oui" typed, which only the
    conversation's history (in PostgreSQL) can tie to the answer shown."""

    def one(seed: int) -> Tuple[Conversation, List[dict]]:
        talk = Conversation(cluster.url, seed)
        talk.walk_to_an_answer()
        return talk, talk.say("oui")

    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(one, range(16)))

    replicas = replica_addresses(cluster)
    per_replica = Counter(u for talk, _ in done for u in talk.upstreams)
    assert set(per_replica) == set(replicas), per_replica
    total = sum(per_replica.values())
    assert all(per_replica[r] >= 0.25 * total for r in replicas), per_replica
    both = [talk for talk, _ in done if len(set(talk.upstreams)) == 2]
    assert len(both) >= len(done) // 2, "most conversations should be answered by both replicas"
    for talk, thanks in done:
        assert thanks[0]["text"] == texts.THANKS_YES, (talk.sent, talk.upstreams)
        feedback = [
            (r["answer_id"], r["helpful"], r["via"]) for r in rows(database, store_module.feedback, talk.sender)
        ]
        assert feedback == [(talk.answer_id, True, "guide")]
        assert user_texts(database, talk.sender) == talk.sent


def test_one_conversation_is_never_handled_by_two_replicas_at_once(cluster, database):
    """5 messages of one conversation sent at the same moment, spread over both replicas: the
    Redis lock store queues them, so each is handled whole before the next one starts."""
    sender = uuid.uuid4().hex
    messages = [f"bonjour {n}" for n in range(5)]
    start = threading.Barrier(len(messages))

    def send(message: str) -> Tuple[List[dict], str]:
        start.wait()
        return post_message(cluster.url, sender, message)

    with ThreadPoolExecutor(len(messages)) as pool:
        answered = list(pool.map(send, messages))
    assert {upstream for _, upstream in answered} == set(replica_addresses(cluster))
    assert all(replies and replies[0].get("text") != texts.UNAVAILABLE for replies, _ in answered)

    history = events(database, sender)
    assert sorted(user_texts(database, sender)) == sorted(messages)  # none lost, none twice
    # each message's turn ends (action_listen) before the next message comes in
    turns, current = [], None
    for kind, data in history:
        if kind == "user":
            assert current is None or current[-1] == "action_listen", f"a turn was interleaved: {current}"
            current = []
            turns.append(current)
        elif kind == "action" and current is not None:
            current.append(data.get("name"))
    assert len(turns) == len(messages) and all(turn and turn[-1] == "action_listen" for turn in turns), turns


class Widget:
    """A web widget's socket.io session, over engine.io polling (the transport it starts with),
    from one client address; `session_id` is the conversation id the widget keeps across reloads."""

    def __init__(self, base_url: str, client: str, session_id: Optional[str] = None):
        self.base_url, self.client = base_url, client
        self.session_id = session_id or uuid.uuid4().hex
        self.sid: Optional[str] = None
        self.upstreams: List[str] = []

    def _call(self, body: Optional[str] = None) -> str:
        query = "EIO=4&transport=polling" + (f"&sid={self.sid}" if self.sid else "") + f"&t={uuid.uuid4().hex[:8]}"
        request = urllib.request.Request(
            f"{self.base_url}/socket.io/?{query}",
            data=body.encode() if body else None,
            headers={"X-Forwarded-For": self.client, "Content-Type": "text/plain;charset=UTF-8"},
        )
        with urllib.request.urlopen(request, timeout=40) as response:
            self.upstreams.append(response.headers["X-Upstream"].split(",")[-1].strip())  # after a failover: the last
            return response.read().decode("utf-8")

    def connect(self) -> "Widget":
        opening = self._call()
        self.sid = json.loads(opening[opening.index("{") :])["sid"]
        self._call("40")  # the default namespace
        assert self._call().startswith("40")
        self._call("42" + json.dumps(["session_request", {"session_id": self.session_id}]))
        return self

    def say(self, message: str, until: Callable[[List[dict]], bool]) -> List[dict]:
        """Send a message as the widget does; the bot's messages until `until(messages)` holds."""
        self._call("42" + json.dumps(["user_uttered", {"message": message, "session_id": self.session_id}]))
        received: List[dict] = []
        deadline = time.monotonic() + 60
        while not until(received):
            assert time.monotonic() < deadline, f"no complete reply to {message!r}: {received}"
            for packet in self._call().split("\x1e"):
                if packet.startswith("42"):
                    name, *data = json.loads(packet[2:])
                    if name == "bot_uttered":
                        received.append(data[0])
        return received


def _has_buttons(messages: List[dict]) -> bool:
    return any(m.get("quick_replies") or m.get("buttons") for m in messages)


def _asks_feedback(messages: List[dict]) -> bool:
    return any(m.get("text") == texts.FEEDBACK_QUESTION for m in messages)


def test_action_servers_answer_only_the_replicas(cluster):
    """On loopback, behind nginx's internal port, and only with the secret the replicas carry."""
    from tests.test_security_e2e import forged_call, listening_addresses

    for port in cluster.action_ports:
        assert listening_addresses(port) == {"127.0.0.1"}
    for port in (*cluster.action_ports, cluster.actions_lb_port):
        forged = post(f"http://127.0.0.1:{port}", forged_call(uuid.uuid4().hex), path="/webhook")
        assert forged.status == 401
    # the replicas have it: a conversation through nginx reaches an answer
    talk = Conversation(cluster.url, 3)
    assert talk.walk_to_an_answer()[-1]["text"] == texts.FEEDBACK_QUESTION and talk.answer_id


def test_socketio_sessions_stick_to_their_replica(cluster):
    """Without stickiness a session's next request meets a replica that never heard of it."""

    def session(client: str) -> Tuple[Widget, List[dict]]:
        widget = Widget(cluster.url, client).connect()
        return widget, widget.say("Bonjour", _has_buttons)

    with ThreadPoolExecutor(6) as pool:
        sessions = list(pool.map(session, [f"203.0.113.{n}" for n in range(1, 13)]))
    for widget, welcome in sessions:
        assert len(set(widget.upstreams)) == 1, widget.upstreams
        assert welcome[0]["text"].startswith(texts.WELCOME[:30])
    assert {widget.upstreams[0] for widget, _ in sessions} == set(replica_addresses(cluster))


def test_a_replica_killed_mid_way_loses_no_conversation_and_no_feedback(cluster, database):
    """12 REST conversations and 2 widget sessions reach an answer; one replica is killed (SIGKILL);
    they go on through the other: "oui" typed still rates the answer shown before the crash, a new
    answer and its "non" follow, and PostgreSQL has every row and every message."""
    count = 12
    crashed, resume = threading.Barrier(count + 1), threading.Barrier(count + 1)
    victim, survivor = cluster.replicas
    victim_address, survivor_address = f"127.0.0.1:{victim.port}", f"127.0.0.1:{survivor.port}"
    # two widget sessions held by the replica that will die, at an answer
    widgets = []
    for n in range(1, 41):
        widget = Widget(cluster.url, f"198.51.100.{n}").connect()
        if widget.upstreams[0] == victim_address:
            assert _asks_feedback(widget.say(GUIDED_COST, _asks_feedback))
            widgets.append(widget)
            if len(widgets) == 2:
                break
    assert len(widgets) == 2, "no client address hashed to the first replica"

    def one(seed: int) -> Tuple[Conversation, int, List[List[dict]]]:
        talk = Conversation(cluster.url, 1000 + seed)
        try:
            talk.walk_to_an_answer()
        finally:
            crashed.wait(timeout=600)
        resume.wait(timeout=120)
        before = len(talk.upstreams)
        replies = [talk.say("oui"), talk.say(GUIDED_COST), talk.say("non")]
        return talk, before, replies

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(one, seed) for seed in range(count)]
        crashed.wait(timeout=600)
        victim.child.kill()
        assert not victim.child.alive()
        resume.wait(timeout=120)
        done = [future.result(timeout=600) for future in futures]

    assert victim_address in {u for talk, before, _ in done for u in talk.upstreams[:before]}
    for talk, before, (thanks, cost, thanks_no) in done:
        assert set(talk.upstreams[before:]) == {survivor_address}, talk.upstreams
        assert thanks[0]["text"] == texts.THANKS_YES, "the answer shown before the crash was forgotten"
        assert cost[-1]["text"] == texts.FEEDBACK_QUESTION
        assert thanks_no[0]["text"] == texts.THANKS_NO
        feedback = [(r["answer_id"], r["helpful"]) for r in rows(database, store_module.feedback, talk.sender)]
        assert feedback == [(talk.answer_id, True), ("qhn_cout_certification", False)]
        shown = [r["answer_id"] for r in rows(database, store_module.answers_shown, talk.sender)]
        assert shown == [talk.answer_id, "qhn_cout_certification"]
        assert user_texts(database, talk.sender) == talk.sent
    # the widgets reconnect (to the survivor) with their conversation id: "oui" rates their answer
    for before in widgets:
        widget = Widget(cluster.url, before.client, before.session_id).connect()
        assert widget.say("oui", bool)[0]["text"] == texts.THANKS_YES
        assert set(widget.upstreams) == {survivor_address}
        feedback = [(r["answer_id"], r["helpful"]) for r in rows(database, store_module.feedback, widget.session_id)]
        assert feedback == [("qhn_cout_certification", True)]
    # the survivor alone still serves new conversations
    fresh = Conversation(cluster.url, 7)
    fresh.walk_to_an_answer()
    assert set(fresh.upstreams) == {survivor_address}
