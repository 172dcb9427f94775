"""Where a reply's time goes: py-spy samples the servers while a load runs.

`py-spy record --format raw` writes collapsed stacks ("frame;frame;... count", a frame being
"function (file:line)"). Samples whose innermost frame is the event loop waiting for work are
idle and left out; every other sample goes to the first part of PARTS that one of its frames
matches (the list runs from the most specific part to the most general).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from bench.common import PYTHON

PY_SPY = (
    str(Path(PYTHON).parent / "py-spy")
    if (Path(PYTHON).parent / "py-spy").exists()
    else (shutil.which("py-spy") or "py-spy")
)
RATE = 100  # samples per second

PARTS: List[Tuple[str, str]] = [
    ("Rasa validates the action server's answer (jsonschema)", r"\(jsonschema/"),
    ("FAQ store writes (bot/store.py)", r"\(bot/store\.py"),
    ("tracker store (SQL)", r"\(rasa/core/tracker_store\.py"),
    ("dialogue policies", r"\(rasa/core/policies/"),
    ("NLU: spaCy", r"\((spacy|thinc)/|spacy_utils\.py|spacy_tokenizer\.py|spacy_featurizer\.py"),
    ("NLU: DIET (TensorFlow)", r"diet_classifier\.py|\((tensorflow|keras)/"),
    (
        "NLU: featurizers",
        r"count_vectors_featurizer\.py|lexical_syntactic_featurizer\.py|regex_featurizer\.py|\((sklearn|scipy)/",
    ),
    ("NLU: other (graph runner, tokenizer, fallback)", r"\(rasa/(nlu|engine)/|\(dask/"),
    ("call to the action server (HTTP client)", r"\(aiohttp/|\(rasa/utils/endpoints\.py"),
    ("our actions and replies (actions/, bot/)", r"\((actions|bot)/"),
    ("action server framework (rasa_sdk)", r"\(rasa_sdk/"),
    ("HTTP server, JSON, event loop", r"\((sanic|sanic_cors|sanic_routing|asyncio|json|ujson|http)/|\(ujson"),
]
IDLE_LEAF = re.compile(
    r"^(serve \(sanic/server/runners\.py|run_forever \(asyncio|_run_once \(asyncio|select \(selectors"
    r"|wait \(threading|_worker \(concurrent)"
)

# addons.cli starts Rasa: its frames sit at the bottom of every stack of the Rasa server
LAUNCHER = re.compile(r"^(main|<module>) \(addons/cli\.py")


@dataclass
class Profile:
    role: str
    busy_samples: int = 0
    messages: int = 0
    parts: Dict[str, int] = field(default_factory=dict)
    own_frames: List[Tuple[str, int]] = field(default_factory=list)  # our functions, inclusive samples
    error: str = ""

    def ms_per_message(self, samples: int) -> float:
        return samples / RATE * 1000 / self.messages if self.messages else float("nan")


def summarise(role: str, path: Path, messages: int) -> Profile:
    patterns = [(name, re.compile(pattern)) for name, pattern in PARTS]
    own_re = re.compile(r"\((actions|bot)/")
    parts: Counter = Counter()
    own: Counter = Counter()
    busy = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, count = [f for f in stack.split(";") if not LAUNCHER.match(f)], int(count)
        if not frames or IDLE_LEAF.match(frames[-1]):
            continue
        busy += count
        part = next((name for name, pattern in patterns if any(pattern.search(f) for f in frames)), "other")
        parts[part] += count
        for frame in dict.fromkeys(re.sub(r":\d+\)$", ")", f) for f in frames if own_re.search(f)):
            own[frame] += count
    return Profile(role, busy, messages, dict(parts.most_common()), own.most_common(6))


def profile_while(
    pids: Dict[str, int], seconds: int, folder: Path, run_load: Callable[[float], int]
) -> Dict[str, Profile]:
    """py-spy on each process of `pids` (role -> pid) for `seconds`, while `run_load(seconds)` sends
    messages (it returns how many); returns one summary per role."""
    folder.mkdir(parents=True, exist_ok=True)
    running = {}
    for role, pid in pids.items():
        out = folder / f"{role}.raw.txt"
        running[role] = (
            subprocess.Popen(
                [
                    PY_SPY,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(seconds),
                    "--rate",
                    str(RATE),
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                    "--nonblocking",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
            out,
        )
    time.sleep(1)  # py-spy attaches
    messages = run_load(seconds - 1)
    profiles = {}
    for role, (process, out) in running.items():
        try:
            output, _ = process.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        if process.returncode != 0 or not out.exists():
            last = (output or "").strip().splitlines()
            profiles[role] = Profile(role, error=last[-1] if last else f"py-spy exit {process.returncode}")
        else:
            profiles[role] = summarise(role, out, messages)
    return profiles
