"""Shared fixtures: the real Rasa server and action server, started once per test run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Tuple

import pytest

from ops import serve
from ops.environment import python_env
from ops.processes import Child, free_port, spawn
from ops.rest_client import first_reply

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "faq.tar.gz"


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


def start_bot(
    log_path: Path,
    env: Optional[dict] = None,
    web_port: Optional[int] = None,
    port: Optional[int] = None,
    actions_port: Optional[int] = None,
) -> Tuple[Child, str]:
    """`ops.serve` on free ports (or those given), its full log in `log_path`; (process, base URL)
    once a first reply came back."""
    port, actions_port, web_port = port or free_port(), actions_port or free_port(), web_port or free_port()
    command = serve.command(port, actions_port, web_port, log=log_path)
    child = spawn("assistant", command, log_path, python_env(**(env or {})), ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        # the first message also warms the model up
        assert first_reply(url, 360, child, pause=1), f"the Rasa server did not start: see {log_path}"
    except BaseException:
        stop_bot(child)
        raise
    return child, url


def stop_bot(child: Child) -> None:
    child.stop(30)


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


@pytest.fixture
def sure_at_80(monkeypatch):
    """The decision's answer model replaced by one that is sure when the best FAQ candidate has 0.80
    or more: for tests of what happens around the decision, with hand-made rankings, independent of
    the weights fitted in bot/data/answer_model.json (tested in tests/test_matching.py)."""
    from bot import matching

    model = matching.AnswerModel(tuple(1.0 if s == "best" else 0.0 for s in matching.SIGNALS), 0.0, 0.80)
    monkeypatch.setattr(matching, "default_answer_model", lambda: model)
    return model
