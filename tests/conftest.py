"""Shared fixtures: the real Rasa server and action server, started once per test run."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.tools.serve import wait_http
from tests.rest_client import new_sender, send

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "faq.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def output_dir() -> Path:
    folder = ROOT / "test-output"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def bot_url(output_dir):
    """Base URL of a running `rasa run` + action server on free ports (model from `make train`)."""
    assert MODEL.exists(), "no trained model: run the tests through `make test`"
    port, actions_port = free_port(), free_port()
    log = open(output_dir / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.tools.serve", "--port", str(port), "--actions-port", str(actions_port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_http(url + "/", 300, process), "the Rasa server did not start: see test-output/server.log"
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
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
