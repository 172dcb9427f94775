"""`rasa train` timed, with its peak memory, into a temp folder (models/faq.tar.gz is never touched)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List

from bench.common import PYTHON, env


@dataclass
class Training:
    model: Path
    seconds: float
    peak_rss_mb: float


def train(cwd: Path, args: List[str], out: Path, name: str, cache: Path, log_path: Path, cli: str = "rasa") -> Training:
    """`rasa train ARGS --out OUT --fixed-model-name NAME` with an empty training cache of its own
    (RASA_CACHE_DIRECTORY), so every component is really trained. `cli`: the module run with
    `python -m`, Rasa's own or `addons.cli` (ours: Rasa with our patches, as `make train` runs it)."""
    out.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    command = [PYTHON, "-m", cli, "train", *args, "--out", str(out), "--fixed-model-name", name]
    with open(log_path, "w") as handle:
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=cwd, env=env(RASA_CACHE_DIRECTORY=str(cache)), stdout=handle, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    model = out / f"{name}.tar.gz"
    if process.returncode != 0 or not model.exists():
        raise RuntimeError(f"rasa train failed (exit {process.returncode}): see {log_path}")
    return Training(model, seconds, usage.ru_maxrss * 1024 / 1e6)  # ru_maxrss is in KiB
