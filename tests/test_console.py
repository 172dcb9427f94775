"""What `make run` shows in the terminal (ops/console.py): the servers' real problems, not their chatter."""

from __future__ import annotations

import sys

from ops.console import Console, LineFilter

START_UP = """\
/venv/lib/python3.10/site-packages/sanic_cors/extension.py:39: DeprecationWarning: distutils Version classes are deprecated.
  SANIC_VERSION = LooseVersion(sanic_version)
2026-11-27 03:20:50 INFO     rasa_sdk.endpoint  - Action endpoint is up and running on http://127.0.0.1:5155
/venv/lib/python3.10/site-packages/rasa/core/tracker_store.py:1044: MovedIn20Warning: \x1b[31mDeprecated API features\x1b[0m
  Base: DeclarativeMeta = declarative_base()
/venv/lib/python3.10/site-packages/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call to `declare_namespace('ruamel')`.
Implementing implicit namespace packages (as specified in PEP 420) is preferred to `pkg_resources.declare_namespace`.
  declare_namespace(pkg)
/venv/lib/python3.10/site-packages/matplotlib/fontconfig_pattern.py:66: PyparsingDeprecationWarning: 'setParseAction' deprecated
  ).setParseAction(self._family)
Starting Rasa server on http://127.0.0.1:5105
2026-11-27 03:21:03 INFO     rasa.core.processor  - Loading model /work/main/models/faq.tar.gz...
Rasa server is up and running.
web: 127.0.0.1 - - [27/Nov/2026 03:21:03] "GET / HTTP/1.1" 200 -
"""

PROBLEMS = """\
2026-11-27 03:21:03 WARNING  addons.rest_channel  - no reply in time for conversation 1234
2026-11-27 03:21:04 ERROR    rasa.core.processor  - Encountered an exception while running action
Traceback (most recent call last):
  File "/venv/lib/python3.10/site-packages/rasa/core/processor.py", line 10, in run
OSError: [Errno 98] address already in use
/venv/lib/python3.10/site-packages/rasa/shared/utils/io.py:99: UserWarning: Slot 'x' is not used in any story
web: code 404, message rasa-webchat absent : lancez `make setup` (npm ci)
"""


def test_start_up_chatter_stays_out_of_the_terminal():
    line_filter = LineFilter()
    assert [line for line in START_UP.splitlines() if line_filter.shows(line)] == []


def test_real_problems_reach_the_terminal_even_after_a_hidden_warning():
    line_filter = LineFilter()
    lines = START_UP.splitlines()[:2] + PROBLEMS.splitlines()
    assert [line for line in lines if line_filter.shows(line)] == PROBLEMS.splitlines()


def test_every_line_goes_once_to_the_log_even_when_the_terminal_is_the_log(tmp_path, monkeypatch):
    log = tmp_path / "serve.log"
    with open(log, "a") as terminal:
        monkeypatch.setattr(sys, "stdout", terminal)
        monkeypatch.setattr(sys, "stderr", terminal)
        console = Console(log)
        console.say("Assistant prêt")
        relay = console.relay()
        for line in START_UP.splitlines()[:3] + PROBLEMS.splitlines()[:1]:
            relay(line)
        console.close()
    text = log.read_text()
    assert text.count("Assistant prêt") == 1 and text.count("no reply in time") == 1
    assert "Action endpoint is up and running" in text  # hidden from a terminal, kept in the log


def test_a_log_of_its_own_keeps_the_last_run_only(tmp_path, capsys):
    log = tmp_path / "serve.log"
    log.write_text("previous run\n")
    console = Console(log)
    console.relay()("2026-11-27 03:21:03 INFO     rasa.core.processor  - Loading model")
    console.say("Assistant prêt")
    console.close()
    assert log.read_text().splitlines() == [
        "2026-11-27 03:21:03 INFO     rasa.core.processor  - Loading model",
        "Assistant prêt",
    ]
    shown = capsys.readouterr()
    assert shown.out == "Assistant prêt\n" and shown.err == ""
