"""`make bench`: answer quality against baselines, latency, throughput and footprint, in one run.

    python -m bench.run                 # full mode: the figures of record -> bench/RESULTS.md
    python -m bench.run --quick         # CI: small sample, checks that the benchmark still runs

Everything is measured on this machine in this run, side by side: (a) a TF-IDF search, (b) a stock
Rasa 3.6 project on our data (generated into a temp folder, see bench/stock.py), (c) our bot
started by `ops.serve`. Nothing is written outside the temp folder except the report.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import rasa

from bench import baselines, crossval, growth, load, profile, quality, report, spacy_check, stock
from bench.common import (
    HELDOUT,
    PYTHON,
    ROOT,
    UNLIMITED,
    children,
    cmdline,
    env,
    evaluation_set,
    free_port,
    log,
    machine,
    start,
)
from bench.training import Training, train

OUR_MODEL = ROOT / "models" / "faq.tar.gz"
ROUNDS = 2  # each load level alternates ours / stock this many times
STOCK_CACHE = ROOT / "models" / "bench"  # stock models, keyed by their generated project (bench/stock.py)


@dataclass
class Settings:
    quick: bool
    per_answer: Optional[int]  # evaluation questions per answer (None: all)
    out_of_scope: Optional[int]
    levels: Dict[int, int]  # concurrency -> conversations
    warmup: int  # conversations before measuring
    profile_seconds: int
    length: int = growth.LENGTH  # messages of the long conversation (bench/growth.py)
    train_sizes: bool = True  # FAQ sizes: train and serve each bot (else the tree's figures only)


FULL = Settings(False, None, None, {1: 40, 8: 120, 32: 256}, 8, 30)
# each round has at least `concurrency` conversations
QUICK = Settings(True, 2, 10, {1: 4, 8: 16, 32: 64}, 2, 6, length=growth.QUICK_LENGTH, train_sizes=False)


@dataclass
class Run:
    settings: Settings
    command: str
    started: str
    machine: Dict[str, str]
    versions: Dict[str, str]
    quality: Dict[str, quality.Score] = field(default_factory=dict)  # bench/data/evaluation.yml
    quality_heldout: Dict[str, quality.Score] = field(default_factory=dict)  # tests/data/heldout.yml
    tfidf: str = ""
    quality_seeds: Dict[str, List[quality.Score]] = field(default_factory=dict)  # system -> one score per seed
    stock_training_s: List[float] = field(default_factory=list)
    crossval: Optional[dict] = None  # bench/crossval.py's summary
    load: List[load.LoadResult] = field(default_factory=list)
    training: Dict[str, Optional[Training]] = field(default_factory=dict)
    first_answer_s: Dict[str, float] = field(default_factory=dict)
    peaks_mb: Dict[str, Optional[float]] = field(default_factory=dict)
    profiles: Dict[str, profile.Profile] = field(default_factory=dict)
    our_model: str = ""
    length: Dict[str, growth.LengthResult] = field(default_factory=dict)  # one long conversation
    faq_sizes: List[growth.SizeResult] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    finished: str = ""
    seconds: float = 0.0


def _git() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return commit + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> Dict[str, str]:
    import sklearn
    import spacy

    return {
        "rasa": rasa.__version__,
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "scikit-learn": sklearn.__version__,
        "commit": _git(),
    }


def _stock_models(work: Path, settings: Settings, run: Run, retrain: bool = False) -> List[Tuple[Optional[int], Path]]:
    """(seed, model) of each stock project: one in quick mode, one per seed otherwise. A model trained
    earlier from the same generated project (data, domain, config, seed, Rasa version: its
    fingerprint) is reused with its training figures, unless `retrain`: one stock training takes
    about 25 minutes on the full data, and it changes only when the data does."""
    if settings.quick:
        folder = work / "stock"
        fingerprint = stock.write_project(folder, settings.quick)
        cached = STOCK_CACHE / f"stock-quick-{fingerprint}.tar.gz"
        run.training["stock"] = None  # epochs reduced: not the figure of record
        if cached.exists():
            run.notes.append(f"Stock model reused from {cached.relative_to(ROOT)} (same generated project).")
            return [(None, cached)]
        log("training the stock Rasa project (b) with fewer epochs (quick mode)")
        trained = train(folder, [], folder / "models", "stock", work / "cache-stock", work / "train-stock.log")
        STOCK_CACHE.mkdir(parents=True, exist_ok=True)
        for old in STOCK_CACHE.glob("stock-quick-*.tar.gz"):
            old.unlink()
        shutil.copyfile(trained.model, cached)
        return [(None, trained.model)]
    models = []
    for seed in stock.SEEDS:
        folder = work / f"stock-{seed}"
        fingerprint = stock.write_project(folder, settings.quick, seed)
        cached = None if retrain else _cached_stock(seed, fingerprint)
        if cached is None:
            log(f"training the stock Rasa project (b), seed {seed}")
            trained = train(
                folder, [], folder / "models", "stock", work / f"cache-stock-{seed}", work / f"train-stock-{seed}.log"
            )
            _keep_stock(seed, fingerprint, trained)
        else:
            trained, trained_on = cached
            run.notes.append(
                f"Stock model of seed {seed} reused from {trained.model.relative_to(ROOT)}: trained from the same "
                f"generated project (fingerprint {fingerprint}) on {trained_on}; its training "
                "figures are that training's."
            )
        run.training.setdefault("stock", trained)
        run.stock_training_s.append(trained.seconds)
        log(f"stock model (seed {seed}) trained in {trained.seconds:.0f} s")
        models.append((seed, trained.model))
    return models


def _stock_path(seed: int, fingerprint: str) -> Path:
    return STOCK_CACHE / f"stock-seed{seed}-{fingerprint}.tar.gz"


def _cached_stock(seed: int, fingerprint: str) -> Optional[Tuple[Training, str]]:
    """The seed's kept model of this project and its training figures, with when it was trained."""
    model = _stock_path(seed, fingerprint)
    record = model.with_suffix("").with_suffix(".json")
    if not (model.exists() and record.exists()):
        return None
    figures = json.loads(record.read_text(encoding="utf-8"))
    return Training(model, float(figures["seconds"]), float(figures["peak_rss_mb"])), figures["trained"]


def _keep_stock(seed: int, fingerprint: str, trained: Training) -> None:
    """Keep the seed's model and its training figures (only the latest project's, per seed)."""
    STOCK_CACHE.mkdir(parents=True, exist_ok=True)
    for old in STOCK_CACHE.glob(f"stock-seed{seed}-*"):
        old.unlink()
    model = _stock_path(seed, fingerprint)
    shutil.copyfile(trained.model, model)
    record = {
        "seconds": trained.seconds,
        "peak_rss_mb": trained.peak_rss_mb,
        "trained": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    model.with_suffix("").with_suffix(".json").write_text(json.dumps(record), encoding="utf-8")


def _our_model(work: Path, settings: Settings, run: Run) -> Path:
    if settings.quick:
        if not OUR_MODEL.exists():
            raise SystemExit(f"{OUR_MODEL} is missing: run `make train` first (quick mode does not retrain)")
        run.training["ours"] = None
        run.our_model = f"{OUR_MODEL.relative_to(ROOT)} (from `make train`; quick mode does not retrain)"
        return OUR_MODEL
    log("training our bot (c) into a temp folder (models/faq.tar.gz is left alone)")
    trained = train(ROOT, [], work / "models", "faq", work / "cache-ours", work / "train-ours.log", cli="addons.cli")
    run.training["ours"] = trained
    run.our_model = "trained in this run from config.yml, domain.yml and data/ (the one timed below)"
    log(f"our model trained in {trained.seconds:.0f} s")
    return trained.model


def _start_stock(work: Path, model: Path, seed: Optional[int] = None):
    port = free_port()
    folder = work / ("stock" if seed is None else f"stock-{seed}")
    log("starting the stock Rasa server (b)" + ("" if seed is None else f", seed {seed}"))
    return start(
        "stock",
        [
            PYTHON,
            "-m",
            "rasa",
            "run",
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--credentials",
            "credentials.yml",
        ],
        f"http://127.0.0.1:{port}",
        work / f"stock-server-{seed}.log",
        folder,
        env(),
    )


def _start_ours(work: Path, model: Path):
    port, actions_port, web_port = free_port(), free_port(), free_port()
    databases = work / "databases"
    databases.mkdir(exist_ok=True)
    environ = env(
        FAQ_STORE_URL=f"sqlite:///{databases / 'faq.db'}",
        FAQ_TRACKER_STORE_URL=f"sqlite:///{databases / 'tracker.db'}",
        **UNLIMITED,
    )
    log("starting our bot (c) with ops.serve")
    server = start(
        "ours",
        [
            PYTHON,
            "-m",
            "ops.serve",
            "--model",
            str(model),
            "--port",
            str(port),
            "--actions-port",
            str(actions_port),
            "--web-port",
            str(web_port),
        ],
        f"http://127.0.0.1:{port}",
        work / "our-server.log",
        ROOT,
        environ,
    )
    for pid in children(server.process.pid):
        line = cmdline(pid)
        if "rasa_sdk" in line or "addons.action_server" in line:
            server.pids["action server"] = pid
        elif "ops.web.server" in line:
            server.pids["web page server"] = pid
        elif " run " in line and ("rasa" in line or "addons.cli" in line):
            server.pids["Rasa server"] = pid
    return server


def _used(before: Dict[str, Optional[float]], after: Dict[str, Optional[float]]) -> Dict[str, float]:
    """CPU seconds used by each server process between two readings."""
    return {
        role: after[role] - before[role]
        for role in after
        if role != "web page server" and after[role] is not None and before.get(role) is not None
    }


def _cpu_per_message(result: load.LoadResult, used: List[Dict[str, float]]) -> None:
    for role in used[0] if used and result.samples else ():
        result.cpu_ms_per_message[role] = sum(u.get(role, 0.0) for u in used) * 1000 / len(result.samples)


def measure(
    settings: Settings,
    work: Path,
    command: str,
    crossval_variants: Optional[List[str]] = None,
    retrain_stock: bool = False,
) -> Run:
    started = time.monotonic()
    run = Run(settings, command, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine(), _versions())
    questions = evaluation_set(settings.per_answer, settings.out_of_scope)
    heldout = evaluation_set(settings.per_answer and 1, settings.out_of_scope and 5, path=HELDOUT)
    free_questions = [q.text for q in evaluation_set() + evaluation_set(path=HELDOUT)]

    log(f"(a) TF-IDF search on {len(questions)} + {len(heldout)} questions")
    search = baselines.TfidfSearch.build()
    run.tfidf = search.describe()
    run.quality["tfidf"] = quality.score_local("(a) TF-IDF search", search.answer, questions)
    run.quality_heldout["tfidf"] = quality.score_local("(a) TF-IDF search", search.answer, heldout)

    run.notes.append(spacy_check.note(spacy_check.compare()))
    stock_models = _stock_models(work, settings, run, retrain_stock)
    our_model = _our_model(work, settings, run)
    if not settings.quick:
        log("cross-validation of the model variants on data/nlu.yml (cached by data and pipeline)")
        run.crossval = crossval.run_all(names=crossval_variants)

    for seed, model in stock_models[1:]:  # the other seeds: quality only
        server = _start_stock(work, model, seed)
        try:
            run.quality_seeds.setdefault("stock", []).append(
                quality.score_rest(f"(b) stock Rasa, seed {seed}", server.url, questions)
            )
        finally:
            server.stop()

    servers = []
    try:
        stock_server = _start_stock(work, stock_models[0][1], stock_models[0][0])
        servers.append(stock_server)
        stock_server.pids["Rasa server"] = stock_server.process.pid
        run.first_answer_s["stock"] = stock_server.first_answer_s
        ours = _start_ours(work, our_model)
        servers.append(ours)
        run.first_answer_s["ours"] = ours.first_answer_s
        log(f"first answers: stock {stock_server.first_answer_s:.1f} s, ours {ours.first_answer_s:.1f} s")

        log(f"(b) and (c) over REST on {len(questions)} + {len(heldout)} questions")
        for key, name, url in (
            ("stock", "(b) stock Rasa, default pipeline", stock_server.url),
            ("ours", "(c) our bot", ours.url),
        ):
            run.quality[key] = quality.score_rest(name, url, questions)
            run.quality_heldout[key] = quality.score_rest(name, url, heldout)
        run.quality_seeds.setdefault("stock", []).insert(0, run.quality["stock"])

        load.run_live("ours", ours.url, 1, settings.warmup, free_questions, seed=999)
        warm = load.run_live("ours", ours.url, 1, settings.warmup, free_questions, seed=998)
        load.replay("stock", stock_server.url, 1, warm.scripts)
        for concurrency, conversations in settings.levels.items():
            log(f"load: {conversations} conversations, {concurrency} at a time")
            # two rounds, ours then stock each time: a change of the machine's load during the level
            # (other processes) falls on both servers rather than on one
            rounds = []
            for half in range(ROUNDS):
                size = conversations // ROUNDS + (1 if half < conversations % ROUNDS else 0)
                before = ours.cpu()
                mine = load.run_live("ours", ours.url, concurrency, size, free_questions, seed=concurrency * 10 + half)
                used_ours = _used(before, ours.cpu())
                before = stock_server.cpu()
                theirs = load.replay("stock", stock_server.url, concurrency, mine.scripts)
                rounds.append((mine, used_ours, theirs, _used(before, stock_server.cpu())))
            mine = load.merge([r[0] for r in rounds])
            theirs = load.merge([r[2] for r in rounds])
            _cpu_per_message(mine, [r[1] for r in rounds])
            _cpu_per_message(theirs, [r[3] for r in rounds])
            run.load += [mine, theirs]
            log(
                f"  p50 ours {mine.percentile(50) * 1000:.0f} ms, stock {theirs.percentile(50) * 1000:.0f} ms; "
                f"errors {len(mine.errors)} / {len(theirs.errors)}"
            )

        log(f"one conversation of {settings.length} messages (ours, then replayed on stock)")
        run.length = growth.conversation_length(
            ours.url, stock_server.url, free_questions, settings.length, work / "databases" / "tracker.db"
        )
        f = run.length["ours"].figures()
        log(f"  ours: p50 of the first ten {f['p50_first_10_ms']:.0f} ms, last message {f['last_ms']:.0f} ms")

        log(f"profiling our servers with py-spy for {settings.profile_seconds} s under load (8 at a time)")
        pids = {role: pid for role, pid in ours.pids.items() if role != "web page server"}

        def profiled_load(seconds: float) -> int:
            return len(load.run_live_for("ours", ours.url, 8, seconds, free_questions).samples)

        run.profiles = profile.profile_while(pids, settings.profile_seconds, work / "profiles", profiled_load)

        for server in servers:
            for role, peak in server.peaks().items():
                run.peaks_mb[f"{server.name}: {role}"] = peak
    finally:
        for server in servers:
            server.stop()
    log("FAQ size: knowledge bases of " + ", ".join(str(n) for n in growth.SIZES) + " answers")
    run.faq_sizes = growth.faq_size(work / "faq-sizes", growth.SIZES, free_questions, train=settings.train_sizes)
    run.finished = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    run.seconds = time.monotonic() - started
    return run


def profile_only(work: Path, conversations: int, seconds: int) -> str:
    """Our bot alone (models/faq.tar.gz): latency at 1 conversation, then py-spy under load; a Markdown
    snippet for before/after comparisons of a change (bench/PROFILE.md)."""
    run = Run(
        FULL,
        "python -m bench.run --profile-only",
        datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine(),
        _versions(),
    )
    questions = [q.text for q in evaluation_set() + evaluation_set(path=HELDOUT)]
    ours = _start_ours(work, OUR_MODEL)
    try:
        load.run_live("ours", ours.url, 1, 5, questions, seed=999)
        single = load.run_live("ours", ours.url, 1, conversations, questions, seed=1)
        pids = {role: pid for role, pid in ours.pids.items() if role != "web page server"}
        run.profiles = profile.profile_while(
            pids,
            seconds,
            work / "profiles",
            lambda s: len(load.run_live_for("ours", ours.url, 8, s, questions).samples),
        )
    finally:
        ours.stop()
    f = single.figures()
    lines = [
        f"Run on {run.started}, load average {run.machine.get('load')}, commit {run.versions['commit']}.",
        "",
        f"1 conversation at a time, {f['messages']} messages: p50 {f['p50_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms, "
        f"{f['msg_per_s']:.1f} messages/s.",
        "",
    ]
    run.settings = Settings(False, None, None, {}, 0, seconds)
    lines += report._profile_section(run, notes=False)[4:]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK") == "1",
        help="small sample, stock model with fewer epochs, no training timed (CI)",
    )
    parser.add_argument(
        "--out", help="report path (default: bench/RESULTS.md, test-output/bench/RESULTS.md in quick mode)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, models, profiles)")
    parser.add_argument(
        "--crossval-variants",
        help="comma-separated variants of bench.crossval to cross-validate (default: all); the report names the others",
    )
    parser.add_argument(
        "--retrain-stock",
        action="store_true",
        help="train the stock projects even when models/bench/ holds one of the same generated project",
    )
    parser.add_argument(
        "--profile-only",
        action="store_true",
        help="our bot alone: latency at 1 conversation and py-spy under load, printed as Markdown",
    )
    parser.add_argument("--render", metavar="RUN_PICKLE", help="re-render a kept run (work folder's run.pickle)")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="then cluster mode: 1 vs 2 replicas at 32 conversations (bench/cluster.py -> CLUSTER.md)",
    )
    args = parser.parse_args(argv)
    if args.render:
        with open(args.render, "rb") as handle:
            run = pickle.load(handle)
        out = Path(args.out or "-")
        text = report.render(run)
        print(text) if str(out) == "-" else out.write_text(text, encoding="utf-8")
        return 0
    if args.profile_only:
        work = Path(tempfile.mkdtemp(prefix="faq-bench-profile-"))
        try:
            print(profile_only(work, 30, 20))
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        return 0
    settings = QUICK if args.quick else FULL
    out = (
        Path(args.out)
        if args.out
        else (ROOT / "test-output" / "bench" / "RESULTS.md" if args.quick else ROOT / "bench" / "RESULTS.md")
    )
    # the command as typed: `make bench` runs `python -m bench.run --cluster`, `make bench-quick` `--quick`
    arguments = " ".join(sys.argv[1:] if argv is None else argv).strip()
    command = {"--cluster": "make bench", "--quick": "make bench-quick"}.get(
        arguments, f"python -m bench.run {arguments}".strip()
    )
    work = Path(tempfile.mkdtemp(prefix="faq-bench-"))
    log(f"{'quick' if args.quick else 'full'} mode; work folder {work}")
    try:
        names = crossval.resolve(args.crossval_variants) if args.crossval_variants else None
        run = measure(settings, work, command, names, args.retrain_stock)
    except BaseException:
        log(f"failed: logs kept in {work}")
        raise
    with open(work / "run.pickle", "wb") as handle:  # kept with --keep: `--render` re-renders it
        pickle.dump(run, handle)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.render(run), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(report.as_json(run), indent=1, ensure_ascii=False), encoding="utf-8")
    log(f"report written to {out} ({run.seconds:.0f} s)")
    if args.keep:
        log(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if args.cluster:
        from bench import cluster

        return cluster.main(["--quick"] if args.quick else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
