"""Answer quality on held-out questions, scored as the user sees the first reply.

tests/data/heldout.yml was written apart from data/nlu.yml and is never used for training.
Each question opens a fresh conversation; its first reply either shows the right answer,
shows a wrong one, or asks back / says it does not know.
"""
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from bot.knowledge import default_kb
from tests.rest_client import answers_shown, new_sender, send

KB = default_kb()
HELDOUT = Path(__file__).parent / "data" / "heldout.yml"
MIN_RIGHT, MAX_WRONG, MIN_OUT_OF_SCOPE_HANDLED = 0.93, 0.01, 0.95


def test_heldout_quality(bot_url, output_dir):
    questions = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["questions"]
    with ThreadPoolExecutor(4) as pool:
        firsts = list(pool.map(lambda q: answers_shown(send(bot_url, new_sender(), q["text"])), questions))
    in_scope = [(q, s) for q, s in zip(questions, firsts) if q["expected"]]
    out_scope = [(q, s) for q, s in zip(questions, firsts) if not q["expected"]]
    right = sum(1 for q, s in in_scope if s == [q["expected"]])
    wrong = [(q["text"], q["expected"], s) for q, s in in_scope if s and s != [q["expected"]]]
    leaked = [(q["text"], s) for q, s in out_scope if s]
    report = (
        f"in scope: {len(in_scope)}, right {right / len(in_scope):.1%}, wrong {len(wrong) / len(in_scope):.1%}, "
        f"asked back {(len(in_scope) - right - len(wrong)) / len(in_scope):.1%}\n"
        f"out of scope: {len(out_scope)}, handled {1 - len(leaked) / len(out_scope):.1%}\n"
        f"wrong: {wrong}\nout of scope answered: {leaked}\n"
    )
    (output_dir / "nlu_quality.txt").write_text(report, encoding="utf-8")
    print(report)
    assert right / len(in_scope) >= MIN_RIGHT, report
    assert len(wrong) / len(in_scope) <= MAX_WRONG, report
    assert 1 - len(leaked) / len(out_scope) >= MIN_OUT_OF_SCOPE_HANDLED, report
