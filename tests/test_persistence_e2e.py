"""Feedback and unanswered questions over REST land in a real SQLite file, survive a server
restart, show in the report, and go with the purge; the conversation itself survives the restart."""

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import store as store_module
from bot import texts as bot_texts
from bot.knowledge import default_kb
from ops.rest_client import click, new_sender, send, texts
from tests.conftest import MODEL, ROOT, start_bot, stop_bot

KB = default_kb()
COST = "qhn_cout_certification"


class Bot:
    """The real servers on temporary databases; `restart()` stops and starts them again."""

    def __init__(self, folder, log_path):
        self.store_url = f"sqlite:///{folder / 'faq.db'}"
        self.tracker_url = f"sqlite:///{folder / 'tracker.db'}"
        self.env = {store_module.STORE_URL_ENV: self.store_url, store_module.TRACKER_URL_ENV: self.tracker_url}
        self.log_path = log_path
        self.process, self.url = start_bot(log_path, self.env)

    def restart(self):
        stop_bot(self.process)
        self.process = None
        self.process, self.url = start_bot(self.log_path, self.env)

    def stop(self):
        if self.process is not None:
            stop_bot(self.process)

    def rows(self, table, sender):
        s = store_module.Store(self.store_url)
        try:
            return [r for r in s.rows(table) if r["conversation_id"] == sender]
        finally:
            s.dispose()


@pytest.fixture(scope="module")
def bot(tmp_path_factory, output_dir):
    assert MODEL.exists(), "no trained model: run the tests through `make test`"
    log_path = output_dir / "persistence-server.log"
    log_path.write_text("")
    running = Bot(tmp_path_factory.mktemp("persistence"), log_path)
    yield running
    running.stop()


def _cli(*args):
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_answers_feedback_and_unanswered_questions_land_before_the_reply(bot):
    sender = new_sender()
    replies = send(bot.url, sender, f'/ask_{COST}{{"via":"guide"}}')
    # the reply is back: its rows are already in the file
    assert [(r["answer_id"], r["via"]) for r in bot.rows(store_module.answers_shown, sender)] == [(COST, "guide")]
    click(bot.url, sender, replies, "Oui")
    (feedback,) = bot.rows(store_module.feedback, sender)
    assert (feedback["answer_id"], feedback["helpful"], feedback["via"]) == (COST, True, "guide")

    replies = send(bot.url, sender, "quelle est la recette de la tarte aux pommes ?")
    assert replies[0]["text"] == bot_texts.NOT_FOUND
    (question,) = bot.rows(store_module.unanswered, sender)
    assert (question["text"], question["kind"]) == ("quelle est la recette de la tarte aux pommes ?", "none")

    replies = send(bot.url, sender, "combien coute une certfication QHN ?")
    assert KB.answer(COST).text in texts(replies)
    # once per conversation and answer: the last way it was reached counts
    assert [r["via"] for r in bot.rows(store_module.answers_shown, sender)] == ["free_text"]


def test_concurrent_conversations_lose_no_row(bot):
    def conversation(n):
        sender = new_sender()
        send(bot.url, sender, f'/ask_{COST}{{"via":"guide"}}')
        send(bot.url, sender, "oui" if n % 2 else "non")
        return sender

    with ThreadPoolExecutor(12) as pool:
        senders = list(pool.map(conversation, range(24)))
    for n, sender in enumerate(senders):
        assert [r["answer_id"] for r in bot.rows(store_module.answers_shown, sender)] == [COST]
        assert [r["helpful"] for r in bot.rows(store_module.feedback, sender)] == [bool(n % 2)]


def test_a_restart_keeps_the_conversation_and_every_row(bot):
    sender, other = new_sender(), new_sender()
    send(bot.url, sender, '/ask_mes_fonctionnalites{"via":"guide"}')
    replies = send(bot.url, other, "/ask_mes_services_eligibles{\"via\":\"guide\"}")
    click(bot.url, other, replies, "Non")
    before = store_module.Store(bot.store_url)
    counts = before.counts()
    before.dispose()

    bot.restart()

    after = store_module.Store(bot.store_url)
    assert after.counts() == counts
    after.dispose()
    # typed, without a button: only the conversation's history says which answer "oui" is about
    replies = send(bot.url, sender, "oui")
    assert replies[0]["text"] == bot_texts.THANKS_YES
    (feedback,) = bot.rows(store_module.feedback, sender)
    assert (feedback["answer_id"], feedback["helpful"], feedback["via"]) == ("mes_fonctionnalites", True, "guide")
    assert [r["helpful"] for r in bot.rows(store_module.feedback, other)] == [False]


def test_the_report_shows_the_conversations(bot, tmp_path):
    sender = new_sender()
    replies = send(bot.url, sender, '/ask_dmn_ihe_pam_transport{"via":"guide"}')
    click(bot.url, sender, replies, "Oui")
    send(bot.url, sender, "Quelle est la MÉTÉO à Paris demain ?!")
    other = new_sender()
    send(bot.url, other, "bonjour")
    send(bot.url, other, "quelle est la meteo a paris demain")

    out = _cli("maintenance.report", "--url", bot.store_url, "--out", str(tmp_path))
    title = KB.answer("dmn_ihe_pam_transport").title
    line = next(line for line in out.splitlines() if line.startswith(title[:40]))
    assert line.split()[-8:] == ["1", "1", "0", "0", "1", "0", "100", "%"]  # shown, via guide, Oui, 100 % utile
    (question,) = [line for line in out.splitlines() if line.startswith("Quelle est la MÉTÉO")]
    assert question.split()[question.split().index("?!") + 1 :][:3] == ["2", "2", "0"]  # two spellings, one group
    # off-topic chatter is noise, counted but never a to-do
    # the two spellings here, and whatever off-topic questions the module's other tests asked before
    assert int(re.search(r"Bruit \(jamais à traiter\) : (\d+) question\(s\)", out).group(1)) >= 2
    assert "Ajouter une réponse à « Quelle est la MÉTÉO" not in out
    page = (tmp_path / "rapport.html").read_text(encoding="utf-8")
    assert "MÉTÉO à Paris" in page and "data:image/png;base64," in page


def _file_bytes(url: str) -> bytes:
    """A SQLite database as it lies on disk: the file, its WAL and shared memory."""
    path = Path(sa.engine.make_url(url).database)
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


def test_purge_removes_old_rows_and_conversations_only(bot):
    old, recent = new_sender(), new_sender()
    for sender in (old, recent):
        send(bot.url, sender, '/ask_label_mcs_communication{"via":"guide"}')
        send(bot.url, sender, "quel temps fera-t-il à Lyon ce week-end ?")
    secret = f"Zorglub Tartempion demande la meteo de Lyon {old[:8]}"
    send(bot.url, old, secret)
    assert secret.encode() in _file_bytes(bot.tracker_url) and secret.encode() in _file_bytes(bot.store_url)
    questions = len(bot.rows(store_module.unanswered, old))  # the weather, and the secret
    # `old` happened 40 days ago
    engine = sa.create_engine(bot.store_url)
    with engine.begin() as connection:
        for table in store_module.TABLES:
            connection.execute(
                table.update()
                .where(table.c.conversation_id == old)
                .values(created_at=table.c.created_at - timedelta(days=40))
            )
    tracker = sa.create_engine(bot.tracker_url)
    with tracker.begin() as connection:
        connection.execute(
            sa.text("UPDATE events SET timestamp = timestamp - :delta WHERE sender_id = :sender"),
            {"delta": 40 * 86400, "sender": old},
        )
    everything = store_module.Store(bot.store_url).counts()

    out = _cli("maintenance.purge", "--days", "30", "--url", bot.store_url, "--tracker-url", bot.tracker_url)

    assert "answers_shown 1" in out and f"unanswered {questions}" in out and questions == 2
    assert bot.rows(store_module.answers_shown, old) == [] and bot.rows(store_module.unanswered, old) == []
    assert (
        len(bot.rows(store_module.answers_shown, recent)) == 1 and len(bot.rows(store_module.unanswered, recent)) == 1
    )
    assert store_module.Store(bot.store_url).counts()["answers_shown"] == everything["answers_shown"] - 1
    with tracker.connect() as connection:
        count = "SELECT COUNT(*) FROM events WHERE sender_id = :sender"
        assert connection.execute(sa.text(count), {"sender": old}).scalar() == 0
        assert connection.execute(sa.text(count), {"sender": recent}).scalar() > 0
    engine.dispose()
    tracker.dispose()
    # nothing of the purged conversation is left in the files (free pages, WAL) either
    assert secret.encode() not in _file_bytes(bot.tracker_url)
    assert secret.encode() not in _file_bytes(bot.store_url)
    # the recent conversation goes on; the purged one has forgotten its answer
    assert send(bot.url, recent, "oui")[0]["text"] == bot_texts.THANKS_YES
    assert send(bot.url, old, "oui")[0]["text"] == bot_texts.NO_PENDING_ANSWER


def test_logs_hold_no_message_text(bot):
    secret = "je suis Jeanne Martin, joignable au 0612345678"
    send(bot.url, new_sender(), secret)
    log = bot.log_path.read_text(encoding="utf-8", errors="replace")
    assert "Rasa server is up and running" in log
    assert "0612345678" not in log and "Jeanne" not in log
