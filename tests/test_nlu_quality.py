"""Answer quality on held-out questions, scored as the user sees the first reply.

tests/data/heldout.yml was written apart from data/nlu.yml, is never trained on, and no question of
it is a near-duplicate of a training example (tests/test_data.py). The thresholds of bot/matching.py
are chosen by cross-validation on the training data, not on this set. Each question opens a fresh
conversation; its first reply shows the right answer, a wrong one, or asks back / says it does not know.
When it asks back, the right answer offered as the first choice of "Vouliez-vous dire… ?" costs the
user one click: that share is reported too.
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from bot import texts
from bot.knowledge import default_kb
from ops.rest_client import answers_shown, new_sender, send

KB = default_kb()
HELDOUT = Path(__file__).parent / "data" / "heldout.yml"
# Wrong answers and out-of-scope questions meet the product's targets (≤ 0.5 %, ≥ 97 %). Right answers
# at first reply are a floor under what the cross-validated thresholds give today (bench/RESULTS.md):
# the rest is asked back, most often with the right answer as the first choice.
MAX_WRONG, MIN_OUT_OF_SCOPE_HANDLED = 0.005, 0.97
MIN_RIGHT, MIN_RIGHT_WITHIN_ONE_CLICK = 0.60, 0.85


def _first_choice(replies):
    """The answer id of the first "Vouliez-vous dire… ?" button, if the reply asks back."""
    for reply in replies:
        if reply.get("text") == texts.DID_YOU_MEAN and reply.get("buttons"):
            title = reply["buttons"][0]["title"]
            return next((a.id for a in KB.answers if a.title == title), None)
    return None


def test_heldout_quality(bot_url, output_dir):
    questions = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["questions"]
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda q: send(bot_url, new_sender(), q["text"]), questions))
    firsts = [answers_shown(r) for r in replies]
    in_scope = [(q, s, r) for q, s, r in zip(questions, firsts, replies) if q["expected"]]
    out_scope = [(q, s) for q, s in zip(questions, firsts) if not q["expected"]]
    right = sum(1 for q, s, _ in in_scope if s == [q["expected"]])
    wrong = [(q["text"], q["expected"], s) for q, s, _ in in_scope if s and s != [q["expected"]]]
    one_click = sum(1 for q, s, r in in_scope if not s and _first_choice(r) == q["expected"])
    leaked = [(q["text"], s) for q, s in out_scope if s]
    n = len(in_scope)
    report = (
        f"in scope: {n}, right {right / n:.1%}, wrong {len(wrong) / n:.1%}, asked back {(n - right - len(wrong)) / n:.1%} "
        f"(of which right answer as first choice {one_click / n:.1%}; right within one click {(right + one_click) / n:.1%})\n"
        f"out of scope: {len(out_scope)}, handled {1 - len(leaked) / len(out_scope):.1%}\n"
        f"wrong: {wrong}\nout of scope answered: {leaked}\n"
    )
    (output_dir / "nlu_quality.txt").write_text(report, encoding="utf-8")
    print(report)
    assert len(wrong) / n <= MAX_WRONG, report
    assert 1 - len(leaked) / len(out_scope) >= MIN_OUT_OF_SCOPE_HANDLED, report
    assert right / n >= MIN_RIGHT, report
    assert (right + one_click) / n >= MIN_RIGHT_WITHIN_ONE_CLICK, report
