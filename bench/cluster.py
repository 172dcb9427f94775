"""Cluster mode under load: 1 vs 2 Rasa replicas (and Sanic workers) at 32 concurrent conversations.

    python -m bench.cluster            # full: 256 conversations per configuration -> bench/CLUSTER.md
    python -m bench.cluster --quick    # 32 conversations -> test-output/bench/CLUSTER.md

Each configuration is a real cluster started by ops.cluster.run (PostgreSQL, Redis, nginx, two
action servers) on this machine; `make run` (one Rasa process, SQLite, no nginx) is the reference.
All run side by side and take the load in turns, round after round (bench.load's conversation mix,
through nginx): whatever else the shared machine does meanwhile falls on every configuration alike.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple
from unittest import mock

from bench import load
from bench.common import PYTHON, ROOT, UNLIMITED, env, evaluation_set, free_port, log, machine, start
from ops.cluster.run import Cluster, Settings

CONCURRENCY = 32
CONFIGS: Tuple[Tuple[int, int], ...] = ((1, 1), (2, 1), (1, 2))  # (replicas, Sanic workers each)
MODEL = ROOT / "models" / "faq.tar.gz"


@dataclass
class Row:
    label: str
    replicas: int
    workers: int
    figures: Dict[str, float] = field(default_factory=dict)
    spread: Dict[str, int] = field(default_factory=dict)  # replica -> REST messages it answered


@dataclass
class Target:
    """A running configuration: where to send the load, how to read its spread, how to stop it."""

    row: Row
    url: str
    stop: Callable[[], None]
    access_log: Optional[Path] = None
    offset: int = 0
    samples: List[load.Sample] = field(default_factory=list)
    wall_s: float = 0.0
    conversations: int = 0


def _spread(access_log: Path, offset: int) -> Dict[str, int]:
    """REST messages answered per replica, from nginx's access log (lines after `offset`)."""
    with open(access_log, "rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode(errors="replace").splitlines()
    answered: Counter = Counter()
    for line in lines:
        found = re.search(r" /webhooks/rest/webhook \d+ upstream=(.+?) upstream_status=", line)
        if found:
            answered[found.group(1).split(",")[-1].strip()] += 1
    return dict(answered)


def start_single(work: Path) -> Target:
    port, actions, web = free_port(), free_port(), free_port()
    folder = work / "single"
    folder.mkdir(parents=True, exist_ok=True)
    environ = env(
        FAQ_STORE_URL=f"sqlite:///{folder / 'faq.db'}", FAQ_TRACKER_STORE_URL=f"sqlite:///{folder / 'tracker.db'}"
    )
    log("`make run` (one Rasa process, SQLite): starting")
    server = start(
        "single",
        [
            PYTHON,
            "-m",
            "ops.serve",
            "--model",
            str(MODEL),
            "--port",
            str(port),
            "--actions-port",
            str(actions),
            "--web-port",
            str(web),
        ],
        f"http://127.0.0.1:{port}",
        folder / "server.log",
        ROOT,
        environ,
    )
    return Target(Row("`make run`: 1 Rasa process, SQLite, no nginx", 1, 1), server.url, server.stop)


def start_cluster(work: Path, replicas: int, workers: int) -> Target:
    label = f"cluster: {replicas} replica{'s' * (replicas > 1)} × {workers} worker{'s' * (workers > 1)}"
    log(f"{label} (PostgreSQL, Redis, nginx, 2 action servers): starting")
    cluster = Cluster(
        Settings(
            replicas=replicas,
            action_servers=2,
            workers=workers,
            port=0,
            folder=work / f"cluster-{replicas}x{workers}",
            model=MODEL,
        )
    ).start()
    return Target(
        Row(label, replicas, workers), cluster.url, cluster.stop, cluster.nginx.folder / "logs" / "access.log"
    )


def measure(targets: List[Target], rounds: int, per_round: int, warmup: int) -> List[str]:
    """Warm every target up, then `rounds` rounds in which each takes `per_round` conversations,
    in an order that turns round by round. Returns the load average before each round."""
    questions = [q.text for q in evaluation_set()]
    for target in targets:
        load.run_live(target.row.label, target.url, CONCURRENCY, warmup, questions, seed=990)
        if target.access_log:
            target.offset = target.access_log.stat().st_size
    loads = []
    for number in range(rounds):
        loads.append(machine().get("load", ""))
        order = targets[number % len(targets) :] + targets[: number % len(targets)]
        for target in order:
            result = load.run_live(
                target.row.label, target.url, CONCURRENCY, per_round, questions, seed=CONCURRENCY * 1000 + number
            )
            target.samples += result.samples
            target.wall_s += result.wall_s
            target.conversations += result.conversations
            log(
                f"  round {number + 1}/{rounds} {target.row.label}: {result.throughput:.1f} msg/s, "
                f"p95 {result.percentile(95) * 1000:.0f} ms, {len(result.errors)} errors"
            )
    time.sleep(1)  # nginx writes a line once the response is sent
    for target in targets:
        merged = load.LoadResult(target.row.label, CONCURRENCY, target.conversations, target.wall_s, target.samples)
        target.row.figures = merged.figures()
        if target.access_log:
            target.row.spread = _spread(target.access_log, target.offset)
    return loads


# --- the report --------------------------------------------------------------------------


def _num(value: Optional[float], digits: int = 0, unit: str = "") -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.{digits}f}{unit}"


def _ratio(value: float, reference: float) -> str:
    if not reference or math.isnan(reference) or math.isnan(value):
        return "n/a"
    return f"× {value / reference:.2f}"


def render(
    rows: List[Row], quick: bool, info: Dict[str, str], started: str, seconds: float, rounds: int, loads: List[str]
) -> str:
    base = next(r for r in rows if r.label.startswith("cluster: 1 replica × 1 worker"))
    lines = [
        "# Cluster mode: 1 vs 2 replicas at 32 concurrent conversations",
        "",
        f"Measured by `{'python -m bench.cluster --quick' if quick else 'make bench-cluster'}` on {started}, "
        f"in {seconds / 60:.0f} min, on {info.get('cores')} cores ({info.get('cpu', '?')}), "
        f"{info.get('memory', '?')} of memory.",
        "",
        "Every configuration is a real cluster started by `ops.cluster.run` (PostgreSQL, Redis, nginx, "
        "2 action servers; see README, \"Beyond one machine\"), loaded through nginx with bench/load.py's "
        f"conversation mix (greeting, 1-2 button clicks, a free question, \"Oui\"), {CONCURRENCY} conversations "
        "at a time, each sending its next message when the previous reply arrived; `make run` is loaded the "
        f"same way, directly. All configurations run side by side and take the load in turns: {rounds} rounds, "
        "each configuration once per round, in an order that turns every round, so that what else the machine "
        "does falls on all of them alike. The load generator, nginx, PostgreSQL, Redis and the action servers "
        "share the same cores as the Rasa processes.",
        "",
        "| Configuration | Rasa processes | Messages | Errors | Throughput | vs 1 replica | p50 | p95 | p95 vs 1 replica "
        "| Share per replica |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        f = row.figures
        total = sum(row.spread.values())
        shares = ", ".join(f"{count / total * 100:.0f} %" for _, count in sorted(row.spread.items())) if total else "—"
        lines.append(
            f"| {row.label} | {row.replicas * row.workers} | {int(f['messages'])} | {int(f['errors'])} "
            f"| {_num(f['msg_per_s'], 1, ' msg/s')} | {_ratio(f['msg_per_s'], base.figures['msg_per_s'])} "
            f"| {_num(f['p50_ms'], 0, ' ms')} | {_num(f['p95_ms'], 0, ' ms')} "
            f"| {_ratio(f['p95_ms'], base.figures['p95_ms'])} | {shares} |"
        )
    lines += [
        "",
        f"Load average of the machine before each round: {'; '.join(loads)}.",
        "",
        "Ratios are against the 1-replica cluster (1 worker). Rasa's SQL tracker store and Redis lock store "
        "make synchronous calls inside each process's event loop: while one message waits for PostgreSQL or "
        "Redis, that process handles nothing else. Every process here shares the machine's 2 cores with nginx, "
        "PostgreSQL, Redis, the action servers, the load generator and whatever else runs; on more cores, or "
        "on several machines, each replica brings its own.",
    ]
    if quick:
        lines += [
            "",
            f"Quick mode: {rows[0].figures['conversations']:.0f} conversations per configuration; "
            "the figures of record come from the full run.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="32 conversations per configuration (a check)")
    parser.add_argument("--out", help="report path (default: bench/CLUSTER.md; test-output/bench/CLUSTER.md if quick)")
    args = parser.parse_args(argv)
    if not MODEL.exists():
        raise SystemExit(f"{MODEL} is missing: run `make train` first")
    rounds, per_round, warmup = (2, 16, 8) if args.quick else (4, 64, 16)
    out = Path(args.out) if args.out else ROOT / ("test-output/bench" if args.quick else "bench") / "CLUSTER.md"
    work = Path(tempfile.mkdtemp(prefix="faq-bench-cluster-"))
    work.chmod(0o711)  # PostgreSQL's data folder lies inside, and runs as another user under root
    started, clock = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), time.monotonic()
    info = machine()
    targets: List[Target] = []
    try:
        with mock.patch.dict(os.environ, UNLIMITED):  # ops.cluster's servers read this process's environment
            targets.append(start_single(work))
            for replicas, workers in CONFIGS:
                targets.append(start_cluster(work, replicas, workers))
        loads = measure(targets, rounds, per_round, warmup)
    except BaseException:
        log(f"failed: logs kept in {work}")
        raise
    finally:
        for target in targets:
            target.stop()
    rows = [t.row for t in targets]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(rows, args.quick, info, started, time.monotonic() - clock, rounds, loads), encoding="utf-8")
    out.with_suffix(".json").write_text(
        json.dumps(
            {
                "mode": "quick" if args.quick else "full",
                "machine": info,
                "rounds": rounds,
                "load_average": loads,
                "rows": [asdict(r) for r in rows],
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    log(f"report written to {out}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
