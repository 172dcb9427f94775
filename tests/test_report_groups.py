"""The report built from groups: to-do list, groups CSV, HTML groups, review history, weekly "utile"."""

import csv
import re
from datetime import datetime, timedelta

import pytest

from bot.knowledge import default_kb
from bot.store import Store
from maintenance import decisions, grouping, report
from tests.test_grouping import CHATTER, GIBBERISH, HDS, NEAR

KB = default_kb()
NOW = datetime(2026, 11, 20, 12, 0, 0)  # a Friday


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'faq.db'}"
    store = Store(url)
    for i, q in enumerate(HDS + NEAR + GIBBERISH + CHATTER):
        store.record_unanswered(f"u{i}", q.text, q.kind, q.candidates, at=NOW - timedelta(hours=i))
    # "utile" of one answer over three weeks: 1/2, then 2/2, then 0/2
    for week, helpful in enumerate([(True, False), (True, True), (False, False)]):
        for n, value in enumerate(helpful):
            store.record_feedback(
                f"f{week}{n}", "qhn_cout_certification", value, "guide", at=NOW - timedelta(weeks=2 - week)
            )
    store.dispose()
    return url


def test_steps_come_from_groups_largest_first_and_never_from_noise(db_url, tmp_path):
    store = Store(db_url)
    built = report.build(store, KB, now=NOW, history_file=tmp_path / "none.yml")
    store.dispose()
    assert [g.verdict for g in built.topics[:2]] == [grouping.NEW_TOPIC, grouping.NEAR_MISS]
    hds, near = built.topics[:2]
    assert (
        built.steps[0].startswith("Ajouter une réponse à « ")
        and f"(3 fois, 3 formulations, {hds.reason})" in built.steps[0]
        and hds.id in built.steps[0]
    )
    title = KB.answer("qhn_cout_certification").title
    assert built.steps[1].startswith("Apprendre « ") and f"comme formulation de « {title} »" in built.steps[1]
    noise_texts = [q.text for q in GIBBERISH + CHATTER]
    assert not any(text in step for step in built.steps for text in noise_texts)
    assert len(built.steps) == 2


def test_decided_questions_leave_the_groups_and_the_steps(db_url, tmp_path):
    history = tmp_path / "history.yml"
    keys = [grouping.key_hash(grouping.normalise(q.text)) for q in NEAR]
    decisions.append(
        [decisions.Decision(NOW + timedelta(minutes=1), "x", "ask_qhn_cout_certification", [NEAR[0].text], keys)],
        history,
    )
    store = Store(db_url)
    built = report.build(store, KB, now=NOW + timedelta(minutes=2), history_file=history)
    store.dispose()
    assert built.settled == 2
    assert all(g.verdict != grouping.NEAR_MISS for g in built.topics)
    assert len(built.steps) == 1 and built.steps[0].startswith("Ajouter une réponse")


def test_report_command_groups_history_and_weekly_chart(db_url, tmp_path, capsys):
    history = tmp_path / "history.yml"
    decisions.append(
        [
            decisions.Decision(
                datetime(2026, 11, 10, 9, 30),
                "abcd1234",
                "ask_qhn_cout_certification",
                ["combien pour la certif <b>QHN</b>"],
                ["k1", "k2"],
            ),
            decisions.Decision(datetime(2026, 11, 11, 9, 30), "ef567890", "out_of_scope", [], ["k3"]),
        ],
        history,
    )
    out = tmp_path / "out"
    assert report.main(["--url", db_url, "--out", str(out), "--historique", str(history)]) == 0
    printed = capsys.readouterr().out
    assert "Groupes de questions sans réponse sûre" in printed
    assert re.search(r"\bnouveau sujet\s+3\s+3\b", printed) and re.search(r"\bformulation proche\s+2\s+2\b", printed)
    assert "Bruit (jamais à traiter) : 6 question(s)" in printed

    with (out / "groupes.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [r["verdict"] for r in rows[:2]] == ["nouveau sujet", "formulation proche"]
    assert rows[1]["reponse_proche"] == "qhn_cout_certification" and rows[0]["fois"] == "3"
    assert {r["verdict"] for r in rows[2:]} == {"bruit"}

    page = (out / "rapport.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3  # the bar charts; the weekly ones are inline SVG
    # groups with their examples and closest answers
    assert "nous voulons être certifiés HDS comme hébergeur, par où commencer ?" in page
    assert "formulation proche" in page and "NLU 0.55, texte" in page
    # review history, newest first, user text escaped
    history_part = page[page.index("Historique des revues") :]
    assert history_part.index("11/11/2026 09:30") < history_part.index("10/11/2026 09:30")
    assert "hors sujet (out_of_scope)" in history_part and "<b>QHN</b>" not in page
    assert "&lt;b&gt;QHN&lt;/b&gt;" in history_part
    # one bar per week with an opinion: 50 %, 100 %, 0 %
    weekly = page[page.index("« Utile » par semaine") : page.index("Groupes de questions")]
    assert weekly.count("<svg") == 1
    bars = re.findall(r"<title>semaine du (\d\d/\d\d/\d{4}) : (\d) oui, (\d) non \((\d+) % utile\)</title>", weekly)
    assert bars == [("02/11/2026", "1", "1", "50"), ("09/11/2026", "2", "0", "100"), ("16/11/2026", "0", "2", "0")]


def test_weekly_helpful_counts_per_monday(db_url):
    store = Store(db_url)
    weekly = report.weekly_helpful(store)
    store.dispose()
    assert weekly == {
        "qhn_cout_certification": [
            (datetime(2026, 11, 2).date(), 1, 1),
            (datetime(2026, 11, 9).date(), 2, 0),
            (datetime(2026, 11, 16).date(), 0, 2),
        ]
    }
