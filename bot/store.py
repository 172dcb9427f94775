"""What the FAQ maintainers need to improve the FAQ: feedback, answers shown, unanswered questions.

Rows are written by the Rasa actions before the reply goes back to the user, in one short
transaction each, through SQLAlchemy Core: an embedded SQLite file by default
(`sqlite:///var/faq.db`, relative paths taken from the project folder), any SQLAlchemy URL
(PostgreSQL...) through the FAQ_STORE_URL environment variable.

Only what the report needs is kept: the conversation id, answer ids, Oui/Non, how the answer was
reached, and the text of the questions the bot could not answer (docs/security.md, RGPD).
Times are naive UTC.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bot import settings
from bot.matching import DecisionKind
from bot.vocabulary import RecordKind, Via

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
STORE_URL_ENV = "FAQ_STORE_URL"
TRACKER_URL_ENV = "FAQ_TRACKER_STORE_URL"
DEFAULT_STORE_URL = settings.Settings.store_url
DEFAULT_TRACKER_URL = "sqlite:///var/tracker.db"
TEXT_MAX = 500  # longer questions are cut: enough to understand them, less personal data kept
SQLITE_BUSY_MS = 10_000

# The decisions `conversation.free_text` keeps as unanswered (the others answer or open the tree).
UNANSWERED_KINDS = (DecisionKind.SUGGEST, DecisionKind.NONE)

metadata = sa.MetaData()

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("answer_id", sa.String(100), nullable=False, index=True),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("via", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)

answers_shown = sa.Table(
    "answers_shown",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("answer_id", sa.String(100), nullable=False, index=True),
    sa.Column("via", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)

unanswered = sa.Table(
    "unanswered",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # UNANSWERED_KINDS
    sa.Column("candidates", sa.JSON, nullable=False),  # [[answer_id, score], ...] best first
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)

TABLES = (feedback, answers_shown, unanswered)
# Feedback and answers shown count once per conversation and answer: an old button clicked again
# or a typed payload replayed updates the row (the last word counts) instead of adding one.
ONCE_PER_ANSWER = (
    sa.Index("ix_feedback_conversation_answer", feedback.c.conversation_id, feedback.c.answer_id),
    sa.Index("ix_answers_shown_conversation_answer", answers_shown.c.conversation_id, answers_shown.c.answer_id),
)
PURGE_BATCH = 5000  # rows deleted per transaction: the database is never locked for long

# What a user may type about themselves and the report never needs (data minimisation). Written
# for what people really type: any spacing, "(0)", "(at)" / "[dot]"; tests/test_store.py has the table.
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|arobase|chez)\s*[)\]}>]\s*|\s+(?:at|arobase)\s+)"
_DOT = r"(?:\.|\s*[(\[{<]\s*(?:dot|point)\s*[)\]}>]\s*|\s+(?:dot|point)\s+)"
_SEP = r"[\s.\-/]*"
_NIR = _SEP.join([r"[12]", r"\d{2}", r"\d{2}", r"(?:\d{2}|2[AB])", r"\d{3}", r"\d{3}"])
REDACTIONS = (
    # e-mail, plain or obfuscated: jean.m@exemple.fr, jean(at)exemple.fr, jean [at] exemple [dot] fr
    (re.compile(rf"[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[a-z]{{2,24}}\b", re.I), "[e-mail]"),
    # IBAN: two letters, two check digits, then 11 to 30 letters or digits, grouped or not
    (re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]){11,30}\b", re.I), "[IBAN]"),
    # NIR (sécurité sociale), Corsica's 2A / 2B included, with or without its key
    (re.compile(rf"(?<![\w+]){_NIR}(?:{_SEP}\d{{2}})?(?!\w)", re.I), "[numéro]"),
    # international numbers: +33 (0)6 12 34 56 78, 0044 20 7946 0958, +1 (555) 123-4567
    (re.compile(r"(?<![\w+])(?:\+|00)[\s.\-]*[1-9](?:[\s.\-/()]*\d){6,14}(?!\d)"), "[téléphone]"),
    # national numbers: 06 12 34 56 78, 0612 345 678, 06.12.34.56.78, 030 1234567
    (re.compile(rf"(?<![\w+])0[1-9](?:{_SEP}\d){{8,9}}(?!\d)"), "[téléphone]"),
    (re.compile(r"(?<![\w+])\(\d{2,4}\)[\s.\-]*\d{3,4}[\s.\-]*\d{3,4}(?!\d)"), "[téléphone]"),
)


def redact(text: str) -> str:
    """E-mail addresses, phone numbers, social security numbers and IBANs replaced by a placeholder."""
    for pattern, placeholder in REDACTIONS:
        text = pattern.sub(placeholder, text)
    return text


TRACKER_EVENTS_TABLE = "events"  # Rasa's SQLTrackerStore; `timestamp` is a Unix time


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _naive_utc(at: Optional[datetime]) -> datetime:
    if at is None:
        return utcnow()
    return at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo else at


# --- URLs ------------------------------------------------------------------------------


def resolve_url(url: str) -> str:
    """A relative SQLite path is taken from the project folder (whatever the working folder)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return url
    path = Path(parsed.database)
    if not path.is_absolute():
        path = ROOT / path
    return str(parsed.set(database=str(path)))


def store_url() -> str:
    return resolve_url(settings.current().store_url)


def tracker_url(tracker_config: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The URL of Rasa's SQL tracker store: FAQ_TRACKER_STORE_URL, else the endpoints.yml entry.

    None when the tracker store is not an SQL one (then Rasa keeps conversations in memory).
    """
    configured = settings.current().tracker_store_url
    if configured:
        return resolve_url(configured)
    if not tracker_config or str(tracker_config.get("type", "")).lower() != "sql":
        return None
    url = tracker_config.get("url")
    if url and "://" in str(url):
        return resolve_url(str(url))
    built = sa.engine.URL.create(
        str(tracker_config.get("dialect") or "sqlite"),
        username=tracker_config.get("username"),
        password=tracker_config.get("password"),
        host=url or None,
        port=tracker_config.get("port"),
        database=str(tracker_config.get("db") or "rasa.db"),
    )
    return resolve_url(built.render_as_string(hide_password=False))


def prepare_sqlite(url: str) -> None:
    """Create the folder of a SQLite file and switch it to WAL (readers never block the writer).

    WAL is a property of the file, so it also applies to Rasa's own connections to it.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    finally:
        engine.dispose()


def create_engine(url: str) -> Engine:
    """Parameters (the users' questions) never appear in SQLAlchemy's logs or error messages."""
    if make_url(url).get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True, future=True)
    prepare_sqlite(url)
    # A pool keeps the connection open between writes. SQLAlchemy 1.4 opens and closes one per
    # transaction for a SQLite file, and closing the last connection checkpoints the WAL with an
    # fsync: 5-13 ms per write on a busy 2-core machine, 0.3-0.5 ms pooled (bench/PROFILE.md).
    database = make_url(url).database
    pooled = {"poolclass": sa.pool.QueuePool} if database and database != ":memory:" else {}
    engine = sa.create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False},
        hide_parameters=True,
        future=True,
        **pooled,
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # every new connection waits instead of failing
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a commit survives a crash of the process
        cursor.close()

    return engine


# --- what to persist -------------------------------------------------------------------


def _candidates(candidates: Iterable[Sequence[Any]]) -> List[List[Any]]:
    return [[str(aid), round(float(score), 4)] for aid, score in candidates]


class Store:
    """The maintainers' database. Each `record_*` call is one short transaction."""

    def __init__(self, url: Optional[str] = None):
        self.url = resolve_url(url) if url else store_url()
        self.engine = create_engine(self.url)
        metadata.create_all(self.engine)
        for index in ONCE_PER_ANSWER:  # create_all adds them to new tables only
            index.create(self.engine, checkfirst=True)

    def dispose(self) -> None:
        self.engine.dispose()

    # writes

    def record_feedback(
        self, conversation_id: str, answer_id: str, helpful: bool, via: Via, at: Optional[datetime] = None
    ) -> None:
        self._upsert(
            feedback,
            {"conversation_id": conversation_id, "answer_id": answer_id},
            helpful=bool(helpful),
            via=_check(via, tuple(Via)),
            created_at=_naive_utc(at),
        )

    def record_answer_shown(
        self, conversation_id: str, answer_id: str, via: Via, at: Optional[datetime] = None
    ) -> None:
        self._upsert(
            answers_shown,
            {"conversation_id": conversation_id, "answer_id": answer_id},
            via=_check(via, tuple(Via)),
            created_at=_naive_utc(at),
        )

    def record_unanswered(
        self,
        conversation_id: str,
        text: str,
        kind: DecisionKind,
        candidates: Iterable[Sequence[Any]],
        at: Optional[datetime] = None,
    ) -> None:
        self._insert(
            unanswered,
            conversation_id=conversation_id,
            text=redact((text or "").strip())[:TEXT_MAX],
            kind=_check(kind, UNANSWERED_KINDS),
            candidates=_candidates(candidates),
            created_at=_naive_utc(at),
        )

    def record(self, conversation_id: str, kind: RecordKind, data: Mapping[str, Any]) -> None:
        """One `conversation.Record`."""
        writers = {
            RecordKind.FEEDBACK: self.record_feedback,
            RecordKind.ANSWER_SHOWN: self.record_answer_shown,
            RecordKind.UNANSWERED: self.record_unanswered,
        }
        writers[kind](conversation_id, **data)

    def _insert(self, table: sa.Table, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(table.insert().values(**values))

    def _upsert(self, table: sa.Table, key: Mapping[str, Any], **values: Any) -> None:
        """One row per `key`: updated if there, else inserted, in one transaction (on SQLite the
        UPDATE takes the write lock first; Rasa's lock store runs one conversation's messages one
        at a time anyway)."""
        where = sa.and_(*(table.c[name] == value for name, value in key.items()))
        with self.engine.begin() as connection:
            if not connection.execute(table.update().where(where).values(**values)).rowcount:
                connection.execute(table.insert().values(**key, **values))

    # reads

    def rows(self, table: sa.Table, since: Optional[datetime] = None) -> List[Dict[str, Any]]:
        query = sa.select(table).order_by(table.c.id)
        if since is not None:
            query = query.where(table.c.created_at >= _naive_utc(since))
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def counts(self) -> Dict[str, int]:
        with self.engine.connect() as connection:
            return {t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in TABLES}

    # RGPD

    def purge(self, days: float, now: Optional[datetime] = None) -> Dict[str, int]:
        """Delete every row older than `days` days, then compact the file so that nothing deleted
        stays readable in it (see `purge_rows`); returns the number deleted per table."""
        cutoff = _naive_utc(now) - timedelta(days=days)
        return {
            table.name: count
            for table, count in zip(
                TABLES, purge_rows(self.url, [(table, table.c.created_at < cutoff) for table in TABLES])
            )
        }


def _check(value: str, allowed: Tuple[Enum, ...]) -> str:
    """The plain string stored for `value`, one of the `allowed` enum members (or their values)."""
    for member in allowed:
        if value == member:
            return member.value
    raise ValueError(f"{value!r} is not one of {[member.value for member in allowed]}")


def _sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and bool(parsed.database) and parsed.database != ":memory:"


def purge_rows(url: str, deletions: Sequence[Tuple[sa.Table, Any]], batch: int = PURGE_BATCH) -> List[int]:
    """Delete the rows each (table, condition) selects, `batch` rows per transaction, through an
    index on the condition's column (a short lock each time: users keep being answered meanwhile).

    On SQLite, deleted text would otherwise stay in the file's free pages and in the WAL:
    `secure_delete` overwrites it as it goes, then VACUUM rebuilds the file and a TRUNCATE
    checkpoint empties the WAL. (PostgreSQL: its own VACUUM reclaims the rows; see docs/security.md.)
    """
    engine = sa.create_engine(
        url,
        hide_parameters=True,
        future=True,
        **({"connect_args": {"timeout": SQLITE_BUSY_MS / 1000}} if _sqlite(url) else {}),
    )
    counts = []
    try:
        with engine.connect() as connection:
            if _sqlite(url):
                connection.exec_driver_sql("PRAGMA secure_delete=ON")
                connection.commit()
            for table, condition in deletions:
                total = 0
                while True:
                    ids = sa.select(table.c.id).where(condition).limit(batch).scalar_subquery()
                    deleted = connection.execute(table.delete().where(table.c.id.in_(ids))).rowcount
                    connection.commit()
                    total += deleted
                    if deleted < batch:
                        break
                counts.append(total)
        if _sqlite(url):
            compact_sqlite(engine)
    finally:
        engine.dispose()
    return counts


def compact_sqlite(engine: Engine) -> None:
    """VACUUM (no free page keeps old rows), then empty the WAL (its frames keep old pages)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM")
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if busy:
            logger.warning("WAL not emptied (a reader was busy): run the purge again to finish it")


def purge_tracker_store(url: str, days: float, now: Optional[datetime] = None) -> int:
    """Delete Rasa's conversation events older than `days` days (they hold every message typed).

    A conversation still going on keeps its recent events, so it goes on.
    """
    cutoff = (_naive_utc(now) - timedelta(days=days)).replace(tzinfo=timezone.utc).timestamp()
    if _sqlite(url) and not Path(make_url(url).database).exists():
        return 0  # no conversation kept yet
    engine = sa.create_engine(url, hide_parameters=True, future=True)
    try:
        if not sa.inspect(engine).has_table(TRACKER_EVENTS_TABLE):
            return 0
        events = sa.Table(TRACKER_EVENTS_TABLE, sa.MetaData(), autoload_with=engine)
        index_tracker_timestamps(engine, events)
    finally:
        engine.dispose()
    return purge_rows(url, [(events, events.c.timestamp < cutoff)])[0]


def index_tracker_timestamps(engine: Engine, events: Optional[sa.Table] = None) -> None:
    """Rasa does not index `events.timestamp`: the purge would scan every event of every conversation."""
    if events is None:
        if not sa.inspect(engine).has_table(TRACKER_EVENTS_TABLE):
            return
        events = sa.Table(TRACKER_EVENTS_TABLE, sa.MetaData(), autoload_with=engine)
    if not any(index.name == "ix_events_timestamp" for index in events.indexes):
        sa.Index("ix_events_timestamp", events.c.timestamp).create(engine, checkfirst=True)


_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def _store_for(url: str) -> Store:
    return Store(url)


def default_store() -> Store:
    """The store of FAQ_STORE_URL (or var/faq.db), opened once per process."""
    with _lock:
        return _store_for(store_url())


def save(conversation_id: str, records: Iterable[Any], store: Optional[Store] = None) -> None:
    """Write `conversation.Record`s; a database failure is logged (no message text) and never
    keeps the user from getting the reply."""
    for record in records:
        try:
            (store or default_store()).record(conversation_id, record.kind, record.data)
        except Exception as error:  # the user's answer matters more than the statistics
            logger.error("Could not store a %s record for conversation %s: %s", record.kind, conversation_id, error)
