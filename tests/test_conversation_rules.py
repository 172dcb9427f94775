"""Rasa's own conversation tests: `rasa test core` on tests/test_stories.yml with the trained model
(through `addons.cli`, as the server runs it: the model is stored and loaded with addons/patches.py).

A cheap check that the rules route each intent to its action, and that typical wordings reach the
intent the story expects (the NLU is run on the `user:` texts), with no server and no custom action.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_conversation_stories_pass(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "addons.cli",
            "test",
            "core",
            "--model",
            str(ROOT / "models" / "faq.tar.gz"),
            "--stories",
            str(ROOT / "tests" / "test_stories.yml"),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    failed = (
        (tmp_path / "failed_test_stories.yml").read_text(encoding="utf-8")
        if (tmp_path / "failed_test_stories.yml").exists()
        else ""
    )
    assert "story:" not in failed, failed
