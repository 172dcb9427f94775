"""Shared helpers of the benchmark: paths, the evaluation set, peak memory and CPU time, the
machine; servers are started, awaited and stopped through ops.processes, and spoken to through
ops.rest_client (their names stay importable from here: env, free_port, send, texts)."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

# env, free_port, send and texts: the benchmark's modules import them from here
from bot import wording
from ops.environment import python_env as env  # noqa: F401
from ops.processes import Child, free_port, spawn  # noqa: F401
from ops.rest_client import first_reply, send, texts  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
EVALUATION = ROOT / "bench" / "data" / "evaluation.yml"  # the benchmark's own set: never trained or tuned on
HELDOUT = ROOT / "tests" / "data" / "heldout.yml"  # the tests' set: the answer thresholds were chosen on it
NLU_FILE = ROOT / "data" / "nlu.yml"
# The servers the benchmark measures run without the rate limits (docs/security.md): every measured
# conversation comes from this one address, and the long conversation sends 200 messages in a row.
UNLIMITED = {"FAQ_RATE_PER_ADDRESS": "0", "FAQ_RATE_PER_CONVERSATION": "0"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the evaluation set ------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    text: str
    expected: Optional[str]  # an answer id, or None when out of scope


def evaluation_set(
    per_answer: Optional[int] = None, out_of_scope: Optional[int] = None, path: Path = EVALUATION
) -> List[Question]:
    """The questions of `path`; in quick mode a sample (the first N of each answer, of out of scope)."""
    questions = [
        Question(q["text"], q["expected"]) for q in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    ]
    if per_answer is None and out_of_scope is None:
        return questions
    taken: Dict[Optional[str], int] = {}
    sample = []
    for q in questions:
        limit = out_of_scope if q.expected is None else per_answer
        if limit is None or taken.get(q.expected, 0) < limit:
            taken[q.expected] = taken.get(q.expected, 0) + 1
            sample.append(q)
    return sample


def training_examples() -> Dict[str, List[str]]:
    """data/nlu.yml: intent -> examples (the bot's training data)."""
    return wording.read_examples(NLU_FILE)


# --- processes ---------------------------------------------------------------------------


def children(pid: int) -> List[int]:
    """Direct children of a process (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces or parentheses: the ppid follows the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def peak_rss_mb(pid: int) -> Optional[float]:
    """Peak resident memory of a running process so far (VmHWM), in MB (10^6 bytes)."""
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> Optional[float]:
    """User + system CPU time a running process has used so far."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> Dict[str, str]:
    info = {"cores": str(os.cpu_count())}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        info["load"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        pass
    return info


@dataclass
class Server:
    """A started server: its process (group leader), base URL, log and start-up figures."""

    name: str
    child: Child
    url: str
    started_at: float
    first_answer_s: Optional[float] = None
    pids: Dict[str, int] = field(default_factory=dict)  # role -> pid, for peak memory

    @property
    def process(self):
        return self.child.process

    @property
    def log_path(self) -> Path:
        return self.child.log_path

    def cpu(self) -> Dict[str, Optional[float]]:
        return {role: cpu_seconds(pid) for role, pid in self.pids.items()}

    def peaks(self) -> Dict[str, Optional[float]]:
        return {role: peak_rss_mb(pid) for role, pid in self.pids.items()}

    def stop(self) -> None:
        self.child.stop(timeout=40)


def start(
    name: str,
    command: List[str],
    url: str,
    log_path: Path,
    cwd: Path,
    environ: Dict[str, str],
    timeout: float = 400,
    first_message: str = "Bonjour",
) -> Server:
    """Start a server in its own process group and wait for its first non-empty REST reply."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("")
    started = time.monotonic()
    server = Server(name, spawn(name, command, log_path, environ, cwd), url, started)
    if first_reply(url, timeout, server.child, first_message, pause=0.25, request_timeout=30):
        server.first_answer_s = time.monotonic() - started
        return server
    code = server.process.poll()
    server.stop()
    if code is not None:
        raise RuntimeError(f"{name} stopped during start-up (exit {code}): see {log_path}")
    raise RuntimeError(f"{name} gave no answer within {timeout:.0f} s: see {log_path}")
