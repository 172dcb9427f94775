"""Cluster mode under load: 1 vs 2 Rasa replicas (and Sanic workers) at 32 concurrent conversations.

    python -m bench.cluster            # full: 256 conversations per configuration -> bench/CLUSTER.md
    python -m bench.cluster --quick    # 32 conversations -> test-output/bench/CLUSTER.md

Each configuration is a real cluster started by bot.cluster.run (PostgreSQL, Redis, nginx, two
action servers) on this machine; the load is bench.load's conversation mix, sent through nginx.
`make run` (one Rasa process, SQLite, no nginx) is measured the same way, as the reference.
"""
from __future__ import annotations

import argparse
import json
import math
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

from bench import load
from bench.common import PYTHON, ROOT, env, evaluation_set, free_port, log, machine, start
from bot.cluster.run import Cluster, Settings

CONCURRENCY = 32
CONFIGS: Tuple[Tuple[int, int], ...] = ((1, 1), (2, 1), (1, 2), (2, 2))  # (replicas, Sanic workers each)
MODEL = ROOT / "models" / "faq.tar.gz"


@dataclass
class Row:
    label: str
    replicas: int
    workers: int
    figures: Dict[str, float]
    spread: Dict[str, int] = field(default_factory=dict)  # replica -> messages it answered
    load_before: str = ""  # the machine's load average when the measured run started


def _load(label: str, url: str, conversations: int, warmup: int,
          before_run: Optional[Callable[[], None]] = None) -> Dict[str, float]:
    """bench.load's mix at 32 concurrent conversations, after a warm-up that is not counted."""
    questions = [q.text for q in evaluation_set()]
    load.run_live(label, url, CONCURRENCY, warmup, questions, seed=990)
    if before_run:
        before_run()
    result = load.run_live(label, url, CONCURRENCY, conversations, questions, seed=CONCURRENCY)
    log(f"  {label}: {result.throughput:.1f} msg/s, p95 {result.percentile(95) * 1000:.0f} ms, "
        f"{len(result.errors)} errors")
    return result.figures()


def _spread(access_log: Path, offset: int) -> Dict[str, int]:
    """REST messages answered per replica, from nginx's access log (lines after `offset`)."""
    with open(access_log, "rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode(errors="replace").splitlines()
    answered = Counter()
    for line in lines:
        found = re.search(r" /webhooks/rest/webhook \d+ upstream=(.+?) upstream_status=", line)
        if found:
            answered[found.group(1).split(",")[-1].strip()] += 1
    return dict(answered)


def measure_single(work: Path, conversations: int, warmup: int) -> Row:
    port, actions, web = free_port(), free_port(), free_port()
    folder = work / "single"
    folder.mkdir(parents=True, exist_ok=True)
    environ = env(FAQ_STORE_URL=f"sqlite:///{folder / 'faq.db'}", FAQ_TRACKER_STORE_URL=f"sqlite:///{folder / 'tracker.db'}")
    log("`make run` (one Rasa process, SQLite): starting")
    server = start("single", [PYTHON, "-m", "bot.tools.serve", "--model", str(MODEL), "--port", str(port),
                              "--actions-port", str(actions), "--web-port", str(web)],
                   f"http://127.0.0.1:{port}", folder / "server.log", ROOT, environ)
    row = Row("`make run`: 1 Rasa process, SQLite, no nginx", 1, 1, {})
    try:
        row.figures = _load("single", server.url, conversations, warmup,
                            lambda: setattr(row, "load_before", machine().get("load", "")))
    finally:
        server.stop()
    return row


def measure_cluster(work: Path, replicas: int, workers: int, conversations: int, warmup: int) -> Row:
    label = f"cluster: {replicas} replica{'s' * (replicas > 1)} × {workers} worker{'s' * (workers > 1)}"
    log(f"{label} (PostgreSQL, Redis, nginx, 2 action servers): starting")
    settings = Settings(replicas=replicas, action_servers=2, workers=workers, port=0,
                        folder=work / f"cluster-{replicas}x{workers}", model=MODEL)
    row = Row(label, replicas, workers, {})
    with Cluster(settings) as cluster:
        access_log = cluster.nginx.folder / "logs" / "access.log"
        offset = [0]

        def mark() -> None:
            offset[0] = access_log.stat().st_size
            row.load_before = machine().get("load", "")

        row.figures = _load(label, cluster.url, conversations, warmup, mark)
        time.sleep(1)  # nginx writes a line once the response is sent
        row.spread = _spread(access_log, offset[0])
    return row


# --- the report --------------------------------------------------------------------------

def _num(value: float, digits: int = 0, unit: str = "") -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}{unit}"


def _ratio(value: float, reference: float) -> str:
    if not reference or math.isnan(reference) or math.isnan(value):
        return "n/a"
    return f"× {value / reference:.2f}"


def render(rows: List[Row], quick: bool, info: Dict[str, str], started: str, seconds: float) -> str:
    base = next((r for r in rows if r.label.startswith("cluster: 1 replica ×") and r.workers == 1), rows[0])
    lines = [
        "# Cluster mode: 1 vs 2 replicas at 32 concurrent conversations",
        "",
        f"Measured by `{'python -m bench.cluster --quick' if quick else 'make bench-cluster'}` on {started}, in {seconds / 60:.0f} min, on "
        f"{info.get('cores')} cores ({info.get('cpu', '?')}), {info.get('memory', '?')} of memory.",
        "",
        "Every configuration is a real cluster started by `bot.cluster.run` (PostgreSQL, Redis, nginx, "
        "2 action servers; see README, \"Beyond one machine\"), loaded through nginx with bench/load.py's "
        f"conversation mix (greeting, 1-2 button clicks, a free question, \"Oui\"), {CONCURRENCY} conversations "
        "at a time, each sending its next message when the previous reply arrived. The load generator, "
        "nginx, PostgreSQL and the action servers share the same cores as the replicas.",
        "",
        "| Configuration | Rasa processes | Messages | Errors | Throughput | vs 1 replica | p50 | p95 | p95 vs 1 replica "
        "| Share per replica | Load average at start |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        f = row.figures
        shares = ", ".join(f"{count / max(1, sum(row.spread.values())) * 100:.0f} %" for _, count in
                           sorted(row.spread.items())) if row.spread else "—"
        lines.append(
            f"| {row.label} | {row.replicas * row.workers} | {int(f['messages'])} | {int(f['errors'])} "
            f"| {_num(f['msg_per_s'], 1, ' msg/s')} | {_ratio(f['msg_per_s'], base.figures['msg_per_s'])} "
            f"| {_num(f['p50_ms'], 0, ' ms')} | {_num(f['p95_ms'], 0, ' ms')} "
            f"| {_ratio(f['p95_ms'], base.figures['p95_ms'])} | {shares} | {row.load_before} |")
    lines += [
        "",
        "Ratios are against the 1-replica cluster (1 worker). Rasa's SQL tracker store and Redis lock store "
        "make synchronous calls inside each process's event loop: while one message waits for PostgreSQL or "
        "Redis, that process handles nothing else, so one process does not keep a core busy and further "
        "processes (replicas or workers) on the same cores fill those waits. Every process here shares the "
        "machine's cores with nginx, PostgreSQL, Redis, the action servers, the load generator and whatever "
        "else runs (load average above); on more cores, or on several machines, each replica brings its own.",
    ]
    if quick:
        lines += ["", f"Quick mode: {rows[0].figures['conversations']:.0f} conversations per configuration; "
                      "the figures of record come from the full run."]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="32 conversations per configuration (a check)")
    parser.add_argument("--out", help="report path (default: bench/CLUSTER.md; test-output/bench/CLUSTER.md if quick)")
    parser.add_argument("--no-single", action="store_true", help="skip the `make run` reference")
    args = parser.parse_args(argv)
    if not MODEL.exists():
        raise SystemExit(f"{MODEL} is missing: run `make train` first")
    conversations, warmup = (32, 8) if args.quick else (256, 32)
    out = Path(args.out) if args.out else ROOT / ("test-output/bench" if args.quick else "bench") / "CLUSTER.md"
    work = Path(tempfile.mkdtemp(prefix="faq-bench-cluster-"))
    work.chmod(0o711)  # PostgreSQL's data folder lies inside, and runs as another user under root
    started, clock = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), time.monotonic()
    info = machine()
    rows: List[Row] = []
    try:
        if not args.no_single:
            rows.append(measure_single(work, conversations, warmup))
        for replicas, workers in CONFIGS:
            rows.append(measure_cluster(work, replicas, workers, conversations, warmup))
    except BaseException:
        log(f"failed: logs kept in {work}")
        raise
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(rows, args.quick, info, started, time.monotonic() - clock), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps({"mode": "quick" if args.quick else "full", "machine": info,
                                                    "rows": [asdict(r) for r in rows]}, indent=1), encoding="utf-8")
    log(f"report written to {out}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
