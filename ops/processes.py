"""Child processes of the cluster: started with their own log, stopped in order, never orphaned."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

PR_SET_PDEATHSIG = 1


def free_port() -> int:
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
    """In the child: receive `signum` when the launcher dies, even by SIGKILL (no orphan server)."""

    def set_signal() -> None:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signum)

    return set_signal


@dataclass
class Child:
    """One server process; `stop_signal` is the one it shuts down cleanly on."""

    name: str
    process: subprocess.Popen
    log_path: Path
    stop_signal: int = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the process and whatever it forked (Sanic workers): a crash, for the tests."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        if self.alive():
            self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(
    name: str,
    command: List[str],
    log_path: Path,
    env: Optional[Dict[str, str]] = None,
    cwd: Optional[Path] = None,
    user: Optional[int] = None,
    group: Optional[int] = None,
    stop_signal: int = signal.SIGTERM,
) -> Child:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        extra = {"user": user, "group": group, "extra_groups": []} if user is not None else {}
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            preexec_fn=_die_with_parent(stop_signal),
            start_new_session=True,  # Ctrl-C reaches the launcher only, which stops all in order
            **extra,
        )
    return Child(name, process, log_path, stop_signal)


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


def tcp_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False
