"""The maintainers' database on a real SQLite file: records, concurrency, restart, purge, report."""

import asyncio
import csv
import logging
import os
import threading
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from actions.actions import ActionAnswerQuestion, ActionFeedback
from bot import conversation as conv
from bot import store as store_module
from bot.knowledge import default_kb
from bot.matching import DecisionKind
from bot.store import Store
from bot.vocabulary import RecordKind, Via
from maintenance import purge as purge_tool
from maintenance import report
from tests.test_actions import run, tracker

KB = default_kb()
NOW = datetime(2025, 6, 1, 12, 0, 0)


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'faq.db'}"


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.dispose()


def test_records_land_with_what_the_report_needs_and_nothing_more(store):
    store.record_answer_shown("c1", "qhn_cout_certification", "guide")
    store.record_feedback("c1", "qhn_cout_certification", True, "guide")
    store.record_unanswered(
        "c2",
        "  Quel est le prix du DMP ?  " + "x" * 1000,
        "suggest",
        [("mes_services_eligibles", 0.41234567), ("qhn_cout_certification", 0.2)],
    )
    (shown,) = store.rows(store_module.answers_shown)
    (fb,) = store.rows(store_module.feedback)
    (question,) = store.rows(store_module.unanswered)
    assert {k: shown[k] for k in ("conversation_id", "answer_id", "via")} == {
        "conversation_id": "c1",
        "answer_id": "qhn_cout_certification",
        "via": "guide",
    }
    assert fb["helpful"] is True and fb["via"] == "guide"
    assert set(fb) == {"id", "conversation_id", "answer_id", "helpful", "via", "created_at"}  # no text
    assert question["text"].startswith("Quel est le prix du DMP ?") and len(question["text"]) == store_module.TEXT_MAX
    assert question["kind"] == "suggest"
    assert question["candidates"] == [["mes_services_eligibles", 0.4123], ["qhn_cout_certification", 0.2]]
    assert abs(shown["created_at"] - store_module.utcnow()) < timedelta(seconds=30)


def test_enum_members_are_stored_as_the_same_plain_strings(store):
    assert [v.value for v in Via] == ["guide", "free_text", "suggestion"]  # rows already stored keep their meaning
    assert set(store_module.UNANSWERED_KINDS) == {"suggest", "none"}
    assert type(store_module._check(Via.GUIDE, tuple(Via))) is str
    store.record_feedback("c1", "mes_fonctionnalites", True, Via.SUGGESTION)
    store.record_unanswered("c2", "une question", DecisionKind.NONE, [])
    store.record(
        "c3", RecordKind.ANSWER_SHOWN, {"answer_id": "mes_fonctionnalites", "via": "free_text"}
    )  # a plain string is one of them too
    with store.engine.connect() as connection:
        stored = [
            connection.execute(sa.text(f"SELECT {c} FROM {t}")).scalar_one()
            for t, c in (("feedback", "via"), ("unanswered", "kind"), ("answers_shown", "via"))
        ]
    assert stored == ["suggestion", "none", "free_text"]
    with pytest.raises(ValueError):
        store.record_feedback("c4", "mes_fonctionnalites", True, "autre")
    with pytest.raises(ValueError):
        store.record_unanswered("c4", "une question", DecisionKind.ANSWER, [])


def test_contact_details_typed_by_a_user_are_not_kept(store):
    store.record_unanswered(
        "c",
        "Jeanne, 06 12 34 56 78 ou jeanne.m@exemple.fr, NIR 2 85 05 78 006 084 36 : " "ISO 9001/13485 obligatoire ?",
        "none",
        [],
    )
    text = store.rows(store_module.unanswered)[0]["text"]
    assert text == "Jeanne, [téléphone] ou [e-mail], NIR [numéro] : ISO 9001/13485 obligatoire ?"


# Real-world ways people type their contact details; each must go (finding: redaction missed them).
REDACTED = [
    ("Appelez le 06 12 34 56 78", "Appelez le [téléphone]"),
    ("tel 0612345678 svp", "tel [téléphone] svp"),
    ("au 0612 345 678", "au [téléphone]"),
    ("au 06  12  34  56  78 merci", "au [téléphone] merci"),
    ("06.12.34.56.78", "[téléphone]"),
    ("06-12-34-56-78", "[téléphone]"),
    ("+33 6 12 34 56 78", "[téléphone]"),
    ("+33 (0)6 12 34 56 78", "[téléphone]"),
    ("0033 6 12 34 56 78", "[téléphone]"),
    ("+44 20 7946 0958 (Londres)", "[téléphone] (Londres)"),
    ("+1 (555) 123-4567", "[téléphone]"),
    ("+49 30 12345678", "[téléphone]"),
    ("+32 2 123 45 67", "[téléphone]"),
    ("(555) 123-4567", "[téléphone]"),
    ("jeanne.martin@exemple.fr", "[e-mail]"),
    ("jean(at)exemple.fr", "[e-mail]"),
    ("jean [at] exemple [dot] fr", "[e-mail]"),
    ("jean arobase exemple point fr", "[e-mail]"),
    ("jean @ exemple.com", "[e-mail]"),
    ("NIR 2 85 05 78 006 084 36", "NIR [numéro]"),
    ("NIR 185052A006084", "NIR [numéro]"),
    ("1 85 05 2B 006 084 12", "[numéro]"),
    ("IBAN FR76 3000 6000 0112 3456 7890 189", "IBAN [IBAN]"),
    ("DE89370400440532013000", "[IBAN]"),
    ("GB29 NWBK 6016 1331 9268 19", "[IBAN]"),
    # what the FAQ's questions really contain stays
    ("ISO 9001/13485 obligatoire ?", "ISO 9001/13485 obligatoire ?"),
    ("décret 2022-1234 du 01/02/2024, article L.1111-8", "décret 2022-1234 du 01/02/2024, article L.1111-8"),
    ("1 000 000 € pour la vague 2 du Ségur", "1 000 000 € pour la vague 2 du Ségur"),
    ("Rasa 3.6.21, HL7 FHIR R4, IHE PAM 2.10", "Rasa 3.6.21, HL7 FHIR R4, IHE PAM 2.10"),
    ("SIRET 123 456 789 00012 de l'éditeur", "SIRET 123 456 789 00012 de l'éditeur"),
]


@pytest.mark.parametrize("typed,kept", REDACTED)
def test_redaction_of_real_world_formats(typed, kept):
    assert store_module.redact(typed) == kept


def test_feedback_and_answers_shown_count_once_per_conversation_and_answer(store):
    """Old buttons clicked again or payloads replayed: one row, the last word counts."""
    for helpful in (True, True, True, False):
        store.record_answer_shown("c1", "mes_fonctionnalites", "guide")
        store.record_feedback("c1", "mes_fonctionnalites", helpful, "guide")
    store.record_answer_shown("c1", "mes_fonctionnalites", "free_text")
    store.record_feedback("c1", "qhn_cout_certification", True, "free_text")
    store.record_feedback("c2", "mes_fonctionnalites", True, "guide")
    assert sorted((r["conversation_id"], r["answer_id"], r["helpful"]) for r in store.rows(store_module.feedback)) == [
        ("c1", "mes_fonctionnalites", False),
        ("c1", "qhn_cout_certification", True),
        ("c2", "mes_fonctionnalites", True),
    ]
    assert [(r["answer_id"], r["via"]) for r in store.rows(store_module.answers_shown)] == [
        ("mes_fonctionnalites", "free_text")
    ]


def _database_bytes(path) -> bytes:
    """The SQLite file and its WAL, as they lie on disk."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


def test_purged_text_is_gone_from_the_file_and_the_wal(tmp_path):
    path = tmp_path / "faq.db"
    s = Store(f"sqlite:///{path}")
    for i in range(300):
        s.record_unanswered(
            f"old{i}", f"ma question confidentielle zorglub numero {i}", "none", [], at=NOW - timedelta(days=40)
        )
    s.record_unanswered("recent", "question récente", "none", [], at=NOW)
    assert b"zorglub" in _database_bytes(path)
    assert s.purge(30, now=NOW)["unanswered"] == 300
    assert b"zorglub" not in _database_bytes(path)
    assert [r["text"] for r in s.rows(store_module.unanswered)] == ["question récente"]
    s.dispose()


def test_tracker_purge_goes_in_batches_through_an_index(tmp_path, monkeypatch):
    path = tmp_path / "tracker.db"
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    old, recent = (datetime.now(timezone.utc) - timedelta(days=40)).timestamp(), datetime.now(timezone.utc).timestamp()
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, timestamp FLOAT, " "data TEXT)"
        )
        connection.exec_driver_sql(
            "INSERT INTO events (sender_id, timestamp, data) VALUES (?, ?, ?)",
            [("old", old, f'{{"text": "secret zorglub {i}"}}') for i in range(2500)]
            + [("new", recent, '{"text": "bonjour"}')],
        )
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    monkeypatch.setattr(store_module.purge_rows, "__defaults__", (1000,))  # batches of 1000
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)
    try:
        assert store_module.purge_tracker_store(url, 30) == 2500
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", seen)
    assert sum(1 for q in statements if q.lstrip().upper().startswith("DELETE FROM EVENTS")) == 3  # 1000 + 1000 + 500
    with engine.connect() as connection:
        plan = " ".join(
            str(row)
            for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN SELECT id FROM events WHERE timestamp < 1").all()
        )
        assert "ix_events_timestamp" in plan
        assert connection.exec_driver_sql("SELECT sender_id FROM events").scalars().all() == ["new"]
    engine.dispose()
    assert b"zorglub" not in _database_bytes(path)


def test_bad_values_are_refused(store):
    with pytest.raises(ValueError):
        store.record_feedback("c", "x", True, "somewhere")
    with pytest.raises(ValueError):
        store.record_unanswered("c", "q", "answer", [])
    assert store.counts() == {"feedback": 0, "answers_shown": 0, "unanswered": 0}


def test_sqlite_file_is_in_wal_mode(store):
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_rows_survive_closing_and_reopening_the_database(db_url):
    first = Store(db_url)
    first.record_feedback("c1", "mes_fonctionnalites", False, "free_text")
    first.dispose()
    again = Store(db_url)
    assert [(r["answer_id"], r["helpful"]) for r in again.rows(store_module.feedback)] == [
        ("mes_fonctionnalites", False)
    ]
    again.dispose()


def test_concurrent_writers_in_threads_lose_no_row(store, db_url):
    others = [Store(db_url) for _ in range(3)]  # separate connections contend for the file lock
    stores = [store] + others
    start = threading.Barrier(8)

    def write(n):
        start.wait()
        s = stores[n % len(stores)]
        for i in range(40):
            s.record_answer_shown(f"c{n}-{i}", "mes_fonctionnalites", "guide")
            s.record_feedback(f"c{n}-{i}", "mes_fonctionnalites", i % 2 == 0, "guide")
        return n

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(write, range(8))) == list(range(8))
    for s in others:
        s.dispose()
    assert store.counts() == {"feedback": 320, "answers_shown": 320, "unanswered": 0}


def _write_from_process(args):
    url, n = args
    s = Store(url)
    for i in range(30):
        s.record_unanswered(f"p{n}", f"question {n}-{i}", "none", [])
    s.dispose()
    return os.getpid()


def test_concurrent_writers_in_processes_lose_no_row(store, db_url):
    with ProcessPoolExecutor(3) as pool:
        pids = set(pool.map(_write_from_process, [(db_url, n) for n in range(6)]))
    assert len(pids) >= 2
    assert store.counts()["unanswered"] == 180


def test_purge_removes_only_rows_older_than_the_limit(store):
    for at in (NOW - timedelta(days=40), NOW - timedelta(days=31), NOW - timedelta(days=29), NOW):
        store.record_answer_shown(f"c{at:%d%m}", "mes_fonctionnalites", "guide", at=at)
        store.record_feedback(f"c{at:%d%m}", "mes_fonctionnalites", True, "guide", at=at)
        store.record_unanswered(f"c{at:%d%m}", f"question du {at:%d/%m}", "none", [], at=at)
    deleted = store.purge(30, now=NOW)
    assert deleted == {"feedback": 2, "answers_shown": 2, "unanswered": 2}
    assert [r["text"] for r in store.rows(store_module.unanswered)] == ["question du 03/05", "question du 01/06"]
    assert {r["created_at"] for r in store.rows(store_module.feedback)} == {NOW - timedelta(days=29), NOW}


def test_purge_of_rasa_conversation_history(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    now = datetime.now(timezone.utc)
    tracker_store = SQLTrackerStore(Domain.empty(), host=url)
    conversation = DialogueStateTracker.from_events(
        "c1",
        [
            UserUttered("ancien message", timestamp=(now - timedelta(days=45)).timestamp()),
            UserUttered("message récent", timestamp=(now - timedelta(days=2)).timestamp()),
        ],
    )
    asyncio.run(tracker_store.save(conversation))
    tracker_store.engine.dispose()
    assert store_module.purge_tracker_store(url, 30) == 1
    kept = asyncio.run(SQLTrackerStore(Domain.empty(), host=url).retrieve("c1"))
    assert [e.text for e in kept.events if isinstance(e, UserUttered)] == ["message récent"]


def test_purge_command_purges_both_databases(tmp_path, capsys):
    url, tracker = f"sqlite:///{tmp_path / 'faq.db'}", f"sqlite:///{tmp_path / 'tracker.db'}"
    s = Store(url)
    s.record_feedback("c", "mes_fonctionnalites", True, "guide", at=store_module.utcnow() - timedelta(days=10))
    s.record_feedback("c2", "mes_fonctionnalites", False, "guide")
    engine = sa.create_engine(tracker)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY, timestamp FLOAT)")
        connection.exec_driver_sql(
            "INSERT INTO events (timestamp) VALUES (?), (?)",
            ((datetime.now(timezone.utc) - timedelta(days=10)).timestamp(), datetime.now(timezone.utc).timestamp()),
        )
    assert purge_tool.main(["--days", "7", "--url", url, "--tracker-url", tracker]) == 0
    assert "feedback 1" in capsys.readouterr().out
    assert [r["helpful"] for r in s.rows(store_module.feedback)] == [False]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM events").scalar() == 1
    s.dispose()
    engine.dispose()


def test_urls_relative_sqlite_paths_and_tracker_store_config(monkeypatch):
    assert store_module.resolve_url("sqlite:///var/x.db") == f"sqlite:///{store_module.ROOT / 'var' / 'x.db'}"
    assert store_module.resolve_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert store_module.resolve_url("postgresql://u:p@h/faq") == "postgresql://u:p@h/faq"
    monkeypatch.delenv(store_module.TRACKER_URL_ENV, raising=False)
    assert (
        store_module.tracker_url({"type": "SQL", "dialect": "sqlite", "db": "var/t.db"})
        == f"sqlite:///{store_module.ROOT / 'var' / 't.db'}"
    )
    assert store_module.tracker_url({"type": "redis"}) is None
    monkeypatch.setenv(store_module.TRACKER_URL_ENV, "postgresql://u:p@h/conv")
    assert store_module.tracker_url({"type": "SQL", "db": "var/t.db"}) == "postgresql://u:p@h/conv"


# --- what the replies ask to store, and the actions storing it -------------------------


def test_replies_carry_their_records(sure_at_80):
    shown = conv.answer(KB, "mes_fonctionnalites", Via.GUIDE)
    assert shown.records == [
        conv.Record(RecordKind.ANSWER_SHOWN, {"answer_id": "mes_fonctionnalites", "via": Via.GUIDE})
    ]
    unsure = conv.free_text(
        KB,
        [
            {"name": "ask_mes_fonctionnalites", "confidence": 0.4},
            {"name": "ask_mes_donnees_disponibles", "confidence": 0.35},
        ],
        False,
        text="que contient mon espace santé ?",
    )
    assert unsure.records == [
        conv.Record(
            RecordKind.UNANSWERED,
            {
                "text": "que contient mon espace santé ?",
                "kind": DecisionKind.SUGGEST,
                "candidates": [["mes_fonctionnalites", 0.4], ["mes_donnees_disponibles", 0.35]],
            },
        )
    ]
    sure = conv.free_text(KB, [{"name": "ask_mes_fonctionnalites", "confidence": 0.95}], False, text="fonctions MES")
    assert [r.kind for r in sure.records] == [RecordKind.ANSWER_SHOWN]
    thanks = conv.feedback(KB, False, "mes_fonctionnalites", "suggestion", None, None)
    assert thanks.records == [
        conv.Record(RecordKind.FEEDBACK, {"answer_id": "mes_fonctionnalites", "helpful": False, "via": Via.SUGGESTION})
    ]
    assert conv.feedback(KB, True, None, None, None, None).records == []  # nothing to rate


def test_actions_write_before_returning(tmp_databases):
    s = store_module.default_store()
    assert s.url == store_module.resolve_url(tmp_databases["FAQ_STORE_URL"])
    before = s.counts()
    sender = f"test-{uuid.uuid4().hex}"  # feedback counts once per conversation and answer: a new conversation
    ranking = [{"name": "out_of_scope", "confidence": 0.9}]
    run(
        ActionAnswerQuestion(),
        tracker("out_of_scope", "la recette de la tarte ?", ranking=ranking, user_turns=2, sender=sender),
    )
    run(
        ActionFeedback(),
        tracker("affirm", entities=[("answer_id", "mes_fonctionnalites"), ("via", "guide")], sender=sender),
    )
    after = s.counts()
    assert after["unanswered"] == before["unanswered"] + 1 and after["feedback"] == before["feedback"] + 1
    last = s.rows(store_module.unanswered)[-1]
    assert (last["conversation_id"], last["text"], last["kind"]) == (sender, "la recette de la tarte ?", "none")


def test_a_database_failure_is_logged_without_the_text_and_the_reply_still_goes(store, caplog):
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE unanswered")
    reply = conv.free_text(KB, [], False, text="mon numéro est 0612345678")
    with caplog.at_level(logging.ERROR, logger="bot.store"):
        store_module.save("conv-42", reply.records, store=store)
    assert "conv-42" in caplog.text and "unanswered" in caplog.text
    assert "0612345678" not in caplog.text


# --- the report ------------------------------------------------------------------------


def _fill(s: Store) -> None:
    for n, via in enumerate(("guide", "guide", "suggestion")):
        s.record_answer_shown(f"c1-{n}", "qhn_cout_certification", via, at=NOW)
    s.record_feedback("c1", "qhn_cout_certification", True, "guide", at=NOW)
    s.record_feedback("c2", "qhn_cout_certification", True, "guide", at=NOW)
    s.record_feedback("c3", "qhn_cout_certification", False, "suggestion", at=NOW)
    for n in range(3):
        s.record_answer_shown(f"c4-{n}", "mes_fonctionnalites", "free_text", at=NOW)
        s.record_feedback(f"c4-{n}", "mes_fonctionnalites", False, "free_text", at=NOW)
    s.record_unanswered("c5", "Combien coûte le DMP ?", "none", [], at=NOW)
    s.record_unanswered("c6", "combien coute le dmp", "none", [["mes_services_eligibles", 0.05]], at=NOW)
    s.record_unanswered("c7", "COMBIEN   coûte le DMP ?!", "none", [], at=NOW - timedelta(days=20))
    s.record_unanswered(
        "c8", "délai QHN ?", "suggest", [["qhn_processus_tiers", 0.42], ["qhn_cout_certification", 0.3]], at=NOW
    )
    s.record_unanswered("c9", "<script>alert(1)</script>", "none", [], at=NOW)
    s.record_unanswered("c9", "=HYPERLINK(\"http://x\")", "none", [], at=NOW)


def test_normalise_groups_spellings_of_one_question():
    assert report.normalise("  Combien COÛTE l’accès au DMP ?! ") == "combien coute l acces au dmp"
    assert report.normalise("combien coute l'acces au dmp") == "combien coute l acces au dmp"
    assert report.normalise("?!") == ""


def test_report_figures(store):
    _fill(store)
    built = report.build(store, KB, now=NOW + timedelta(hours=1))
    stats = {s.answer_id: s for s in built.stats}
    cost = stats["qhn_cout_certification"]
    assert (cost.shown, cost.by_via, cost.yes, cost.no, cost.helpful_pct) == (
        3,
        {"guide": 2, "suggestion": 1},
        2,
        1,
        66.7,
    )
    assert stats["mes_fonctionnalites"].helpful_pct == 0.0
    assert stats["mes_donnees_disponibles"].shown == 0 and stats["mes_donnees_disponibles"].helpful_pct is None
    assert len(built.stats) == len(KB.answers)
    top = built.groups[0]
    assert (top.key, top.count, top.no_candidate, top.example) == (
        "combien coute le dmp",
        3,
        3,
        "Combien coûte le DMP ?",
    )
    delay = next(g for g in built.groups if g.key == "delai qhn")
    assert (delay.suggested, delay.best_candidate, delay.mean_score) == (1, "qhn_processus_tiers", 0.42)
    assert built.steps[0].startswith("Ajouter une réponse à « Combien coûte le DMP ? » (3 fois")
    assert any(
        "Revoir la réponse « " + KB.answer("mes_fonctionnalites").title in s and "0 % utile sur 3 avis" in s
        for s in built.steps
    )
    # « délai QHN ? » reads like the in-domain questions the FAQ does not answer (data/nlu.yml): a new topic
    assert any(s.startswith("Ajouter une réponse à « délai QHN ? »") for s in built.steps)
    # cost: 2 Oui out of 3 is above the bar
    assert not any("Revoir" in s and KB.answer("qhn_cout_certification").title in s for s in built.steps)
    recent = report.build(store, KB, days=7, now=NOW + timedelta(hours=1))
    assert next(g for g in recent.groups if g.key == "combien coute le dmp").count == 2


def test_report_command_prints_and_exports(db_url, tmp_path, capsys):
    s = Store(db_url)
    _fill(s)
    s.dispose()
    out = tmp_path / "reports"
    assert report.main(["--url", db_url, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    cost_title = KB.answer("qhn_cout_certification").title
    assert any(line.startswith(cost_title[:40]) and line.split()[-2:] == ["66.7", "%"] for line in printed.splitlines())
    assert "Combien coûte le DMP ?" in printed and "À ajouter ou revoir ensuite" in printed

    with (out / "reponses.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {r["answer_id"]: r for r in csv.DictReader(handle, delimiter=";")}
    assert (rows["qhn_cout_certification"]["affichages"], rows["qhn_cout_certification"]["pct_utile"]) == ("3", "66.7")
    with (out / "questions_sans_reponse.csv").open(encoding="utf-8-sig", newline="") as handle:
        questions = list(csv.DictReader(handle, delimiter=";"))
    assert (questions[0]["exemple"], questions[0]["nombre"]) == ("Combien coûte le DMP ?", "3")
    assert any(q["exemple"] == "'=HYPERLINK(\"http://x\")" for q in questions)  # no formula in a spreadsheet

    page = (out / "rapport.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3  # shown/helpful, % helpful, unanswered
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert html_escaped(cost_title) in page and "66.7 %" in page


def html_escaped(text):
    import html

    return html.escape(text)


def test_report_on_an_empty_database(db_url, tmp_path, capsys):
    assert report.main(["--url", db_url, "--out", str(tmp_path)]) == 0
    assert "(aucune)" in capsys.readouterr().out
    assert "Aucune réponse affichée" in (tmp_path / "rapport.html").read_text(encoding="utf-8")
