"""Shared fixtures: the real Rasa server and action server, started once per test run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ops.serve import wait_http
from tests.rest_client import new_sender, send

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "faq.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def tmp_databases(tmp_path_factory):
    """Every test (and the servers it starts) writes to temporary SQLite files, never to var/."""
    folder = tmp_path_factory.mktemp("databases")
    urls = {
        "FAQ_STORE_URL": f"sqlite:///{folder / 'faq.db'}",
        "FAQ_TRACKER_STORE_URL": f"sqlite:///{folder / 'tracker.db'}",
        # the whole suite talks from 127.0.0.1: no per-address limit (tests/test_security_e2e.py sets one)
        "FAQ_RATE_PER_ADDRESS": "0",
    }
    saved = {name: os.environ.get(name) for name in urls}
    os.environ.update(urls)
    yield urls
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def start_bot(log_path: Path, env: dict = None, web_port: int = None):
    """`ops.serve` on free ports; returns (process, base URL) once a first reply came back."""
    port, actions_port, web_port = free_port(), free_port(), web_port or free_port()
    log = open(log_path, "a")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops.serve",
            "--port",
            str(port),
            "--actions-port",
            str(actions_port),
            "--web-port",
            str(web_port),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_http(url + "/", 300, process), f"the Rasa server did not start: see {log_path}"
        # the first message warms the model up
        deadline = time.monotonic() + 60
        while True:
            try:
                send(url, new_sender(), "bonjour")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
    except BaseException:
        stop_bot(process)
        raise
    return process, url


def stop_bot(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    folder = ROOT / "test-output"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def web_port() -> int:
    """Port of the web page served beside the bot_url server (see tests/test_web.py)."""
    return free_port()


@pytest.fixture(scope="session")
def bot_url(output_dir, tmp_databases, web_port):
    """Base URL of a running `rasa run` + action server on free ports (model from `make train`)."""
    assert MODEL.exists(), "no trained model: run the tests through `make test`"
    log_path = output_dir / "server.log"
    log_path.write_text("")
    process, url = start_bot(log_path, web_port=web_port)
    try:
        yield url
    finally:
        stop_bot(process)
