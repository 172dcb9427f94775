"""The action server down or slow: a quick French message, and the conversation goes on after."""

import http.server
import secrets
import sys
import threading
import time
import urllib.request

import pytest

from bot import texts as bot_texts
from bot.knowledge import default_kb
from ops.environment import python_env
from ops.processes import free_port, spawn, wait_http
from ops.rest_client import new_sender, send, texts
from ops.serve import ACTION_SERVER, TOKEN_ENV
from tests.conftest import ROOT, start_bot, stop_bot

KB = default_kb()


class ActionProxy:
    """Sits between Rasa and the real action server: forwards, stalls, or is switched off."""

    def __init__(self, target: str):
        self.target, self.port, self.mode, self.server = target, free_port(), "forward", None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/webhook"

    def start(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.mode == "slow":
                    time.sleep(30)
                query = self.path.partition("?")[2]  # Rasa's token goes through
                request = urllib.request.Request(
                    proxy.target + (f"?{query}" if query else ""),
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        payload = response.read()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (OSError, ConnectionError):
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def outage_bot(output_dir):
    actions_port, token = free_port(), secrets.token_urlsafe(32)  # an action server started on its own
    actions_log = output_dir / "outage-actions.log"
    actions_log.write_text("")
    actions = spawn(
        "actions",
        [sys.executable, "-m", ACTION_SERVER, "--actions", "actions", "--port", str(actions_port)],
        actions_log,
        python_env(**{TOKEN_ENV: token}),
        ROOT,
    )
    assert wait_http(f"http://127.0.0.1:{actions_port}/health", 120, actions)
    proxy = ActionProxy(f"http://127.0.0.1:{actions_port}/webhook")
    proxy.start()
    log = output_dir / "outage-server.log"
    log.write_text("")
    process, url = start_bot(log, env={"ACTION_SERVER_URL": proxy.url, TOKEN_ENV: token})
    try:
        yield url, proxy
    finally:
        stop_bot(process)
        proxy.stop()
        actions.stop()


def test_action_server_down_then_back(outage_bot):
    url, proxy = outage_bot
    sender = new_sender()
    assert KB.facets[0].question in texts(send(url, sender, "bonjour"))
    proxy.stop()
    started = time.monotonic()
    replies = send(url, sender, '/ask_qhn_cout_certification{"via":"guide"}')
    assert time.monotonic() - started < 5
    assert texts(replies) == bot_texts.UNAVAILABLE
    proxy.start()
    replies = send(url, sender, '/ask_qhn_cout_certification{"via":"guide"}')
    assert KB.answer("qhn_cout_certification").text in texts(replies)
    assert send(url, sender, "oui")[0]["text"].startswith("Merci pour votre retour")


def test_action_server_slow_then_back(outage_bot):
    url, proxy = outage_bot
    sender = new_sender()
    proxy.mode = "slow"
    started = time.monotonic()
    replies = send(url, sender, '/ask_mes_fonctionnalites{"via":"guide"}', timeout=60)
    elapsed = time.monotonic() - started
    assert texts(replies) == bot_texts.UNAVAILABLE and elapsed < 15, elapsed
    proxy.mode = "forward"
    deadline = time.monotonic() + 60
    while True:  # the stalled call ends within Rasa's action timeout, then the conversation is free
        replies = send(url, sender, '/ask_mes_fonctionnalites{"via":"guide"}', timeout=60)
        if KB.answer("mes_fonctionnalites").text in texts(replies) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert KB.answer("mes_fonctionnalites").text in texts(replies)
