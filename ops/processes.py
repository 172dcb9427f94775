"""Starting, waiting for and stopping servers, for every launcher of the project.

`make run` (ops.serve), the cluster (ops.cluster), the benchmark (bench.common) and the tests
(tests/conftest.py) all start their servers with `spawn` and stop them with `Child.stop` or
`stop_all`: a child dies with its launcher, even when the launcher is killed, and is stopped by
its own clean-shutdown signal, then killed with whatever it forked if it does not stop in time.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Dict, List, Optional, Sequence

PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port free on loopback now (for servers started on the side: tests, benchmark, cluster)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(name: str, folders: Sequence[str] = ()) -> str:
    """`name` in `folders` first (Debian keeps PostgreSQL's server binaries off the PATH), then on the PATH."""
    for folder in folders:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        raise RuntimeError(f"{name} est introuvable : installez le paquet Debian correspondant (voir README).")
    return found


def _die_with_parent(signum: int) -> Callable[[], None]:
    """In the child: receive `signum` when the launcher dies, even by SIGKILL (no orphan server).
    (Linux sends it when the launcher's *thread* that spawned the child ends: spawn from the main thread.)"""

    def set_signal() -> None:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signum)

    return set_signal


@dataclass
class Child:
    """One server process; `stop_signal` is the one it shuts down cleanly on."""

    name: str
    process: subprocess.Popen
    log_path: Optional[Path]
    stop_signal: int = signal.SIGTERM
    own_group: bool = True  # in a session of its own: Ctrl-C reaches the launcher only, `kill` takes its forks
    readers: List[threading.Thread] = field(default_factory=list)  # threads relaying its output, if any

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the process and whatever it forked (Sanic workers): a crash, for the tests."""
        try:
            if self.own_group:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        if self.alive():
            self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def drain(self, timeout: float = 3) -> None:
        """Wait (a little) until the relay has passed on the last lines of a child that ended."""
        for reader in self.readers:
            reader.join(timeout)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, AttributeError):
            return ""


def _relay_lines(stream: IO[bytes], relay: Callable[[str], None]) -> None:
    """Until the child closes its output; a failing relay loses a line, never blocks the child."""
    with stream:
        for raw in iter(stream.readline, b""):
            try:
                relay(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            except Exception:  # noqa: BLE001
                pass


def spawn(
    name: str,
    command: List[str],
    log_path: Optional[Path],
    env: Optional[Dict[str, str]] = None,
    cwd: Optional[Path] = None,
    user: Optional[int] = None,
    group: Optional[int] = None,
    stop_signal: int = signal.SIGTERM,
    relay: Optional[Callable[[str], None]] = None,
    interactive: bool = False,
    stdin: int = subprocess.DEVNULL,
) -> Child:
    """Start `command` in the background. Its output (stdout and stderr) is appended to `log_path`,
    or, with `relay`, handed line by line to `relay` (which keeps it where it wants).
    `interactive`: stdin and stdout stay the launcher's terminal (a shell), only stderr is relayed,
    and the child stays in the terminal's process group. Otherwise stdin is `stdin` (none by default)."""
    extra = {"user": user, "group": group, "extra_groups": []} if user is not None else {}
    options = dict(
        env=env,
        cwd=cwd,
        preexec_fn=_die_with_parent(stop_signal),
        start_new_session=not interactive,  # Ctrl-C reaches the launcher only, which stops all in order
        **extra,
    )
    if relay is None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=stdin, **options)
        return Child(name, process, log_path, stop_signal)
    if interactive:
        process = subprocess.Popen(command, stderr=subprocess.PIPE, **options)
        stream = process.stderr
    else:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=stdin, **options)
        stream = process.stdout
    reader = threading.Thread(target=_relay_lines, args=(stream, relay), name=f"relay-{name}", daemon=True)
    reader.start()
    return Child(name, process, log_path, stop_signal, own_group=not interactive, readers=[reader])


def stop_all(children: List[Child], timeout: float = 30) -> None:
    """Signal every child at once, then wait for each (a stuck one is killed)."""
    for child in children:
        if child.alive():
            child.process.send_signal(child.stop_signal)
    for child in children:
        child.stop(timeout)


def wait_until(check: Callable[[], bool], timeout: float, child: Optional[Child] = None, pause: float = 0.5) -> bool:
    """True once `check()` is true; False on timeout or when `child` died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            return False
        try:
            if check():
                return True
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(pause)
    return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status < 500
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def wait_http(url: str, timeout: float, child: Optional[Child] = None) -> bool:
    """True once `url` answers (2xx or 3xx); False on timeout or when `child` died first."""
    return wait_until(lambda: http_ok(url), timeout, child)


def tcp_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False
