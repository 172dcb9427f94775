"""What `make run` and `make shell` show in the terminal, and the full log beside it.

Rasa, the action server and the web page print dozens of lines at start-up: third-party
deprecation warnings (Sanic turns them back on whatever PYTHONWARNINGS says), INFO records,
request logs. Every line of every server goes to the full log (var/serve.log by default); the
terminal gets the launcher's own steps and, from the servers, only what may need a person:
WARNING and ERROR records, tracebacks, warnings that are not deprecations, and any line it does
not recognise.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path
from typing import IO, Callable, List

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "2026-11-27 03:21:03 INFO     rasa.core.processor  - ..." (Rasa, rasa_sdk) or "[date] [pid] [INFO] ..." (Sanic)
RECORD = re.compile(
    r"^(?:\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\S*\s+|\[[^\]]+\] \[\d+\] \[)(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b"
)
# "/path/module.py:39: DeprecationWarning: message" (warnings.formatwarning)
WARNING = re.compile(r"^\S.*?:\d+: ([A-Za-z_][\w.]*): ")
DEPRECATION = re.compile(r"(DeprecationWarning|MovedIn\d+Warning|RemovedIn\d+Warning)$")
# start-up lines of Rasa that the launcher says in its own words
CHATTER = re.compile(r"^(Starting Rasa server on |Rasa server is up and running)")
# the web page's request log for what went well ("web: 127.0.0.1 - - [...] "GET / HTTP/1.1" 200 -")
PAGE_SERVED = re.compile(r'^web: \S+ - - \[[^\]]*\] "[^"]*" [23]\d\d ')
MAX_MESSAGE_LINES = 3  # lines a warning's message may run over before its source line


class LineFilter:
    """Decides, line after line of one server's output, whether the terminal shows it."""

    def __init__(self) -> None:
        self.hidden_warning_lines = 0  # lines read of a hidden warning; 0 outside one

    def shows(self, line: str) -> bool:
        plain = ANSI.sub("", line)
        if self.hidden_warning_lines and not self._starts_something(plain):
            return self._rest_of_warning(plain)
        self.hidden_warning_lines = 0
        if "\r" in plain or not plain.strip():
            return False  # progress bars, blank lines
        warning = WARNING.match(plain)
        if warning and DEPRECATION.search(warning.group(1)):
            self.hidden_warning_lines = 1
            return False
        record = RECORD.match(plain)
        if record:
            return record.group(1) not in ("DEBUG", "INFO")
        return not (CHATTER.match(plain) or PAGE_SERVED.match(plain))

    def _rest_of_warning(self, plain: str) -> bool:
        """Hidden: the warning's source line ("  code") ends it; its message may run over a few lines."""
        if plain.startswith("  ") or self.hidden_warning_lines >= MAX_MESSAGE_LINES:
            self.hidden_warning_lines = 0
        else:
            self.hidden_warning_lines += 1
        return False

    @staticmethod
    def _starts_something(plain: str) -> bool:
        return bool(RECORD.match(plain) or WARNING.match(plain) or plain.startswith("Traceback "))


def without_password(url: str) -> str:
    """A database URL as the terminal may show it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _distinct(streams: List[IO]) -> List[IO]:
    """`streams` without those that are the same file as one before (the tests send both to one)."""
    kept: List[IO] = []
    for stream in streams:
        if not any(_same_file(stream, other) for other in kept):
            kept.append(stream)
    return kept


def _same_file(a: IO, b: IO) -> bool:
    try:
        first, second = os.fstat(a.fileno()), os.fstat(b.fileno())
    except (OSError, ValueError, AttributeError):
        return a is b
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


class Console:
    """The launcher's terminal and the full log; a line goes once to each file."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._log = open(self.log_path, "a", encoding="utf-8", errors="replace")
        if not any(_same_file(self._log, stream) for stream in (sys.stdout, sys.stderr)):
            self._log.truncate(0)  # a log of its own: the last run only
        self._steps = _distinct([sys.stdout, self._log])
        self._errors = _distinct([sys.stderr, self._log])
        self._shown = _distinct([self._log, sys.stderr])

    def _write(self, streams: List[IO], text: str) -> None:
        with self._lock:
            for stream in streams:
                try:
                    stream.write(text + "\n")
                    stream.flush()
                except (OSError, ValueError):  # a terminal gone, the log closed at exit: the others still get it
                    pass

    def say(self, text: str) -> None:
        """A step of the launcher: terminal (stdout) and log."""
        self._write(self._steps, text)

    def error(self, text: str) -> None:
        self._write(self._errors, text)

    def relay(self) -> Callable[[str], None]:
        """A line handler for one server's output (see ops.processes.spawn): every line to the log,
        those a person needs to the terminal (stderr)."""
        line_filter = LineFilter()

        def relay(line: str) -> None:
            self._write(self._shown if line_filter.shows(line) else [self._log], line)

        return relay

    def close(self) -> None:
        with self._lock:
            self._log.close()
