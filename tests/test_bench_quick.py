"""The benchmark still runs: `python -m bench.run --quick` end to end, on real servers.

It trains (or reuses) a small stock Rasa model, starts the stock server and our bot, scores a sample
of the evaluation set on the three systems, runs the load at 1, 8 and 32 conversations, reads the
footprint and profiles with py-spy. Only that the report has every part is checked here: the
figures themselves are the full run's business (`make bench`, bench/RESULTS.md).
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 900


def test_quick_benchmark_writes_every_part(output_dir):
    out = output_dir / "bench" / "RESULTS.md"
    for stale in (out, out.with_suffix(".json")):
        stale.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    text = out.read_text(encoding="utf-8")
    for heading in (
        "## Targets",
        "## 1. Answer quality",
        "## 2. Cross-validation on the training data",
        "## 3. Speed over REST",
        "## 4. Footprint",
        "## 5. Growth: conversation length, FAQ size",
        "## Profiling",
        "### Confusions of our bot",
    ):
        assert heading in text, heading
    for system in ("(a) TF-IDF search", "(b) stock Rasa, default pipeline", "(c) our bot"):
        assert f"| {system} |" in text, system
    assert "Quick mode" in text and " cores (" in text and "of memory" in text and "`make bench-quick`" in text

    figures = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert figures["mode"] == "quick"
    assert set(figures["quality"]) == set(figures["quality_heldout"]) == {"tfidf", "stock", "ours"}
    for score in list(figures["quality"].values()) + list(figures["quality_heldout"].values()):
        assert score["in_scope"] > 0 and score["out_of_scope"] > 0
        assert abs(score["right"] + score["wrong"] + score["asked_back"] - 1) < 1e-9
    levels = {(r["system"], r["concurrency"]) for r in figures["load"] if r["messages"] > 0}
    assert levels == {(s, c) for s in ("ours", "stock") for c in (1, 8, 32)}
    assert all(r["p50_ms"] > 0 and r["msg_per_s"] > 0 for r in figures["load"])
    assert figures["first_answer_s"]["ours"] > 0 and figures["first_answer_s"]["stock"] > 0
    for process in ("ours: Rasa server", "ours: action server", "stock: Rasa server"):
        assert figures["peaks_mb"][process] > 0, process
    for role, profile in figures["profiles"].items():
        assert not profile["error"] and profile["busy_samples"] > 0, (role, profile)
    assert figures["length"]["ours"]["messages"] == figures["length"]["stock"]["messages"] > 10
    assert figures["length"]["ours"]["errors"] == 0
    assert [r["answers"] for r in figures["faq_sizes"]] == [20, 100, 300]
    assert all(r["tree"]["reached"] == r["answers"] for r in figures["faq_sizes"])
    assert {t["target"] for t in figures["targets"]} >= {
        "(c) right answers ≥ 97 %",
        "training ≤ 120 s",
        "first answer ≤ 30 s after start",
    }
