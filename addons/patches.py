"""Every patch of Rasa 3.6 this assistant needs, applied in one place by `apply()`.

`python -m addons.cli` (Rasa's command line, which `make run`, `make shell`, `make train` and the
tests use) calls `apply()` before Rasa starts; applying twice changes nothing. A Rasa upgrade must
re-check each of them: `apply()` refuses a Rasa whose patched names are gone.

1. Action timeout. Rasa waits 5 minutes for the action server; a vendor on a web page will not.
   Rasa's `DEFAULT_REQUEST_TIMEOUT` constants become FAQ_ACTION_TIMEOUT (8 s), under the channels'
   own reply timeout (addons/guard.py), so that a stalled action server ends in "indisponible".
2. Validating the action server's answers. Rasa 3.6 checks each answer with
   `jsonschema.validate(result, schema)`, which first checks the *schema itself* against the JSON
   Schema 2020-12 metaschema, on every call: 20 to 45 ms of CPU per message on a 2-core machine,
   nearly half of the Rasa server's time under load (py-spy, bench/PROFILE.md), while validating
   the answer takes 0.3 ms. The schema is Rasa's and never changes: it is checked once here and
   its validator reused, with the same verdicts and the same error on failure. And since our
   actions give back a bounded set of answers (the FAQ's answers, the tree's steps, the same slot
   events), an answer already found valid (the same JSON, keys sorted) is not validated again:
   0.02 ms to write it out against 0.2 to 0.3 ms to validate it. An invalid answer is checked, and
   refused, every time.
3. SQLite connections. Rasa's SQL tracker store on a SQLite file opens and closes a connection per
   transaction (SQLAlchemy 1.4's default for SQLite files), several per message, and closing the
   last connection checkpoints the WAL with an fsync. Here its connections are pooled, as for any
   other database, and each connection runs in WAL mode with `synchronous=NORMAL` (SQLite's
   default, FULL, fsyncs the WAL at every commit): the database stays consistent after a crash or
   a power cut, which may lose only the last steps committed before a power cut (not before a
   crash of the process). FAQ store (bot/store.py) already runs this way.
4. (Retired: the log level after skops' import, with patch 11.)
5. spaCy without its named entities. Rasa's `SpacyNLP` loads `fr_core_news_sm` with every pipe but
   the parser; its NER (a network with its own embedding layer) was 58 % of spaCy's time per message
   (3.9 ms of 6.7), and nothing reads its entities: the pipeline has no `SpacyEntityExtractor`
   (tests/test_speed_rasa.py checks config.yml), the featurizers read each token's text, lemma and
   tag, which come from tok2vec, morphologizer, attribute_ruler and lemmatizer, all kept. The NER is
   excluded when SpacyNLP loads the model, with the parser Rasa disables (neither is read from
   disk), and the model's graph, which asks for the model twice, gets one shared copy (start-up and
   memory): on every example of data/nlu.yml, texts, offsets, lemmas,
   tags and POS are identical with and without it (same test), so the features, the trained models
   and the cross-validation do not change. Adding `SpacyEntityExtractor` means removing this patch.
6. Button payloads skip the NLU. A click sends `/intent{"entity": ...}`; Rasa 3.6 runs the whole
   NLU graph on that string (spaCy, the intent classifier) and only then its
   `RegexMessageHandler`, last in the graph, replaces the result with the payload's intent and
   entities (`YAMLStoryReader.unpack_regex_message`, whose message keeps nothing else). Here a
   message that this very function unpacks to an intent of the domain gets that result directly;
   any other message (free text, "/unknown", a malformed payload) still goes through the graph.
   Same parse data (tests/test_speed_rasa.py compares both paths on the trained model).
7. Event classes looked up once. To rebuild a conversation, Rasa turns each stored event back into
   an object with `Event.resolve_by_type(name)`, which walks every subclass of `Event`, recursively,
   for every event: at the 150th message of one conversation (~1,000 events in the session), 60 %
   of the tracker store's time and a quarter of the Rasa server's (bench/PROFILE.md). The class found
   for a name is kept (names Rasa does not know still go to Rasa's function: same errors, same
   default).
8. Sessions of bounded length. Rasa reads the current session's events back from the tracker store
   at every message, replays them, lets the rule policy read its states and sends them all to the
   action server: the cost of a message grows with the session (the 200th message of one
   conversation took 5 to 7 times as long as the first ten). Besides domain.yml's expiry after
   `session_expiration_time` minutes of silence, a session here also ends once it holds
   MAX_SESSION_EVENTS events (about 14 messages): the next message starts a new session, as after
   a silence, with the slots carried over (`carry_over_slots_to_new_session`). Nothing is lost: the
   tracker store keeps every session's events. The rules look at one turn only and the buttons
   carry what they need (data/rules.yml), so the dialogue does not change: an unclear question in
   a new session gets "not found" and the guided tree, not the welcome of a first message, since the
   session carries the conversation's slots over (actions/actions.py; a conversation that never got
   an answer has no slot to carry, and is welcomed again).
9. Slots carried over once. At a new session, Rasa's `action_session_start` copies every `SlotSet` of
   the previous session, the ones it had itself carried over included: each session starts with
   the slot events of all the sessions before it (after 50 sessions of one conversation, dozens of
   copies of `last_answer_id`). Here each slot is carried over once, with its last value (and that
   event's metadata): the slots of the new session are the same.
10. (Retired: DIET restored for prediction only; config.yml no longer runs DIET.)
11. (Retired: Rasa's logistic regression stored as arrays; config.yml no longer runs it, and
   addons/tfidf_classifier.py stores its own model as arrays and JSON.)
12. Events stored without counting them first. To save a conversation, Rasa's SQL tracker store first
   counts, with a query, the events of the current session already in the database, then writes
   the tracker's events past that number: a second query per message, beside the one that read the
   session back. That number is the length of the tracker when it was read (the same query, under
   the conversation's lock), then after each save the tracker's length: it is noted on the tracker
   object, and the count query runs only for a tracker this store did not read (a new conversation).
   Same rows written (tests/test_speed_rasa.py).
13. One HTTP connection to the action server. Rasa 3.6's `EndpointConfig.request` opens a new
   aiohttp session, hence a new TCP connection, for every call to the action server, and closes it
   after the answer: connection set-up and teardown on both sides at every message. Here each
   endpoint keeps one session per event loop, with the same headers, authentication and timeout,
   whose connection stays open between calls (keep-alive, KEEPALIVE_SECONDS, shorter than the
   5 s after which the action server, Sanic, closes an idle connection: a connection is never
   reused as the server drops it). The request, its answer and its errors are Rasa's (same code
   below): an action server down, stalled or answering 4xx/5xx gives the same exceptions. The
   sessions are closed when the Rasa server stops (`rasa.core.run.close_resources`).
14. Events saved in one statement. To save a conversation, Rasa's SQL tracker store builds an ORM
   object per new event and lets SQLAlchemy's unit of work flush them, one INSERT each (it reads
   every new id back), about 7 events per message. Here the same rows (same columns, same values,
   same order, so the same ids) go in with one Core `INSERT` of all of them (executemany), in the
   same session and transaction, after the same event broker call (tests/test_speed_rasa.py).
15. Events read back with a prepared query. To read a conversation back, Rasa builds its ORM query
   anew at every message (the expression, then its cache key, then ORM objects for every row) and
   keeps only each row's `data`. Here the same SQL (the events of the sender, after the latest
   `session_started` unless all sessions are asked for, by id) is built once, selects `data` only,
   and runs with the sender as its parameter: the same events, the same tracker.
16. Training data fingerprinted faster. At every training, Rasa fingerprints each training example
   twice (when it reads the data, and once the featurizers have run, for its training cache), and
   to fingerprint a feature matrix it writes it out as text, one `"  (row, col)\tvalue"` line per
   entry, formatting NumPy scalars one by one: 38 s of a training with 300 answers (10,554
   examples), proportionally less with 20 (1,284). Here the same text is built from the matrix's entries as
   Python numbers (integer and float64 matrices; any other type goes to Rasa's function): the same
   fingerprints, hence the same cache keys (tests/test_speed_rasa.py), about 4 times as fast.
17. Independent training steps at once. Rasa trains its graph one node after the other, in
   one thread: the policies wait for the NLU (and, in a pipeline with two classifiers, the logistic
   regression for DIET) although neither needs the other. Here a
   training graph (one Rasa runs with its training hook) runs on dask's threaded scheduler with
   TRAINING_THREADS workers instead of its synchronous one: the same nodes with the same inputs,
   each still after the nodes it needs, independent ones side by side. Each node's result does not
   depend on its thread (identical rankings, tests/test_speed_rasa.py); the training cache opens a
   connection per write (SQLAlchemy 1.4 on a SQLite file), and the model storage a folder per node.
   Prediction graphs keep Rasa's synchronous run.
18. Rules looked up by intent. At every prediction, RulePolicy tries each of its rules on the
   conversation's last state, then on the states before with the rules left: one rule per FAQ
   intent (data/rules.yml), twice (the answer, then listening), so with 300 answers about 620
   tries, twice per message, a quarter of the Rasa server's time (bench/PROFILE.md). A rule whose
   last state names a user intent and a previous action applies only to a state with that intent
   (Rasa's `_is_rule_applicable`), so here the rules are indexed once by that intent, and only the
   rules of the state's intent and those naming none are tried, with Rasa's code: the same rules
   match (tests/test_speed_rasa.py compares both on every rule state of the trained model).
19. Prediction graphs run in order. For every message Rasa runs its NLU graph once and its policy
   graph once per action predicted, each through `dask.get`, whose synchronous scheduler orders
   the tasks, tracks their dependants and results and emulates a thread pool: about 0.4 ms per
   run, 7 % of the Rasa server's CPU per message (bench/PROFILE.md), for graphs of a dozen nodes
   in a line. Here a prediction graph (the same dask graph, built by Rasa) is evaluated directly:
   each node once, after the nodes it needs, with their results, as dask does; inputs are
   literal values, as for dask. Same results, same exceptions (tests/test_speed_rasa.py runs
   messages and whole conversations both ways). Training graphs keep patch 17.
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.shared.constants import DOCS_BASE_URL

from bot import settings


@functools.lru_cache(maxsize=1)
def _validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once per process instead of once per message
    return cls(schema)


VALID_ANSWERS_KEPT = 2048  # answers of the action server found valid, remembered (their JSON)
_valid_answers: Dict[Text, bool] = {}


def validate_action_result(self, result: Dict[Text, Any]) -> bool:
    """Rasa's `RemoteAction._validate_action_result`, with the validator built once and the
    answers found valid remembered."""
    import json

    from jsonschema import ValidationError

    try:
        key = json.dumps(result, sort_keys=True)
    except (TypeError, ValueError):  # not JSON (a caller's object): validated, not remembered
        key = None
    if key is not None and key in _valid_answers:
        return True
    try:
        _validator().validate(result)
        if key is not None:
            if len(_valid_answers) >= VALID_ANSWERS_KEPT:
                _valid_answers.clear()
            _valid_answers[key] = True
        return True
    except ValidationError as e:
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


@functools.lru_cache(maxsize=1)
def _sqlite_pool_class():
    """A QueuePool whose new connections run SQLITE_PRAGMAS (SQLAlchemy pool events on the class)."""
    import sqlalchemy as sa

    class SQLitePool(sa.pool.QueuePool):
        pass

    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    sa.event.listen(SQLitePool, "connect", on_connect)
    return SQLitePool


def _patch(marker: str):
    """Decorator of a patch, `patch(original) -> wrapper`: applied once.

    `apply()` may run more than once in a process (tests, the CLI): `original`, or a function it
    wraps, carrying `marker` is returned as it is. The wrapper gets `marker` (the tests look for it)
    and `__wrapped__` (Rasa's graph reads the original's signature through it)."""

    def decorate(patch):
        @functools.wraps(patch)
        def apply_once(original):
            if _in_chain(original, marker):
                return original
            wrapper = patch(original)
            setattr(wrapper, marker, True)
            wrapper.__wrapped__ = original
            return wrapper

        return apply_once

    return decorate


def _in_chain(function, marker: str) -> bool:
    """`function`, or a function it wraps, carries `marker` (two patches wrap the same method)."""
    while function is not None:
        if getattr(function, marker, False):
            return True
        function = getattr(function, "__wrapped__", None)
    return False


@_patch("pooled_sqlite")
def pooled_sqlite(create_engine_kwargs):
    """Wrap Rasa's `create_engine_kwargs(url)`: a connection pool for SQLite files, WAL, synchronous=NORMAL."""

    def wrapped(url) -> Dict[Text, Any]:
        from sqlalchemy.engine import make_url

        kwargs = create_engine_kwargs(url)
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            kwargs.setdefault("poolclass", _sqlite_pool_class())
            kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "check_same_thread": False}
        return kwargs

    return wrapped


SPACY_PIPES_UNUSED = ("ner",)


@_patch("without_unused_pipes")
def spacy_without_unused_pipes(load_model):
    """Wrap Rasa's `SpacyNLP.load_model(name)`: the same model, without SPACY_PIPES_UNUSED."""
    loaded: Dict[Text, Any] = {}

    def wrapped(spacy_model_name):
        if spacy_model_name in loaded:  # the model's graph asks twice; one copy in memory
            return loaded[spacy_model_name]
        import spacy

        original = spacy.load

        def load_only_what_is_used(name, **kwargs):
            # Rasa disables the parser; excluded pipes are not even read from disk
            excluded = [*SPACY_PIPES_UNUSED, *kwargs.pop("disable", ())]
            return original(name, exclude=excluded, **kwargs)

        spacy.load = load_only_what_is_used
        try:
            model = load_model(spacy_model_name)
        finally:
            spacy.load = original
        for pipe in SPACY_PIPES_UNUSED:
            if pipe in model.model.pipe_names:
                model.model.remove_pipe(pipe)
        loaded[spacy_model_name] = model
        return model

    return wrapped


@_patch("payload_without_nlu")
def payload_without_nlu(parse_with_graph):
    """Wrap Rasa's `MessageProcessor._parse_message_with_graph`: a payload of the domain is unpacked
    as the graph's last node would, without running the NLU before it."""

    def wrapped(self, message, tracker, only_output_properties: bool = True) -> Dict[Text, Any]:
        from rasa.shared.constants import INTENT_MESSAGE_PREFIX
        from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
        from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
        from rasa.shared.nlu.training_data.message import Message

        text = message.text
        if isinstance(text, str) and text.strip().startswith(INTENT_MESSAGE_PREFIX) and self.domain:
            unpacked = YAMLStoryReader.unpack_regex_message(
                Message({TEXT: text}), self.domain, entity_extractor_name="RegexMessageHandler"
            )
            if unpacked.get(INTENT):
                parse_data = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: []}
                parse_data.update(unpacked.as_dict(only_output_properties=only_output_properties))
                return parse_data
        return parse_with_graph(self, message, tracker, only_output_properties)

    return wrapped


@_patch("cached_event_types")
def cached_event_types(resolve_by_type):
    """Wrap Rasa's `Event.resolve_by_type(type_name, default)`: a known name's class is looked up once."""
    found: Dict[Text, Any] = {}

    def wrapped(type_name, default=None):
        cls = found.get(type_name)
        if cls is None:
            cls = resolve_by_type(type_name, default)
            if cls is not None and getattr(cls, "type_name", None) == type_name:
                found[type_name] = cls
        return cls

    return wrapped


MAX_SESSION_EVENTS = 100  # about 14 messages (7 events each: user, actions, bot messages, slots)


@_patch("bounded_sessions")
def bounded_sessions(has_session_expired):
    """Wrap Rasa's `MessageProcessor._has_session_expired(tracker)`: also expired past MAX_SESSION_EVENTS."""

    def wrapped(self, tracker) -> bool:
        if has_session_expired(self, tracker):
            return True
        if not self.domain.session_config.are_sessions_enabled():
            return False
        return _session_events(tracker) >= MAX_SESSION_EVENTS

    return wrapped


def _session_events(tracker) -> int:
    """Events since the current session started (the tracker store hands over that session only)."""
    from rasa.shared.core.events import SessionStarted

    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        count += 1
    return count


@_patch("last_slot_values")
def last_slot_values(slot_set_events_from_tracker):
    """Wrap Rasa's `ActionSessionStart._slot_set_events_from_tracker(tracker)`: one event per slot."""

    def wrapped(tracker):
        last: Dict[Text, Any] = {}
        for event in slot_set_events_from_tracker(tracker):
            last.pop(event.key, None)  # keeps the order of the last setting of each slot
            last[event.key] = event
        return list(last.values())

    return wrapped


STORED = "_faq_events_stored"  # attribute of a tracker: how many of its events the database holds


@_patch("noting_stored_events")
def noting_stored_events(retrieve):
    """Wrap Rasa's `SQLTrackerStore._retrieve`: the tracker read notes how many events were read."""

    async def wrapped(self, sender_id, fetch_events_from_all_sessions):
        tracker = await retrieve(self, sender_id, fetch_events_from_all_sessions)
        if tracker is not None and not fetch_events_from_all_sessions and tracker.events.maxlen is None:
            setattr(tracker, STORED, len(tracker.events))
        return tracker

    return wrapped


@_patch("stored_events_known")
def stored_events_known(additional_events):
    """Wrap Rasa's `SQLTrackerStore._additional_events(session, tracker)`: the events past the noted
    number, without the count query, when the tracker carries it."""

    def wrapped(self, session, tracker):
        import itertools

        stored = getattr(tracker, STORED, None)
        if stored is None or tracker.events.maxlen is not None or stored > len(tracker.events):
            return additional_events(self, session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    return wrapped


@_patch("noting_saved_events")
def noting_saved_events(save):
    """Wrap Rasa's `SQLTrackerStore.save(tracker)`: once saved, all the tracker's events are stored."""

    async def wrapped(self, tracker):
        await save(self, tracker)
        if tracker.events.maxlen is None:
            setattr(tracker, STORED, len(tracker.events))

    return wrapped


@_patch("events_in_one_insert")
def events_in_one_insert(save):
    """Replace Rasa's `SQLTrackerStore.save(tracker)`: the same rows, in one executemany INSERT."""

    async def wrapped(self, tracker) -> None:
        import json

        from rasa.shared.nlu.constants import INTENT_NAME_KEY

        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):  # Rasa's columns, as its save fills them
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        _tracker_store_logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")

    return wrapped


_tracker_store_logger = logging.getLogger("rasa.core.tracker_store")


@functools.lru_cache(maxsize=8)
def _events_query(table, all_sessions: bool):
    """Rasa's `SQLTrackerStore._event_query`, built once with the sender as a parameter, `data` only."""
    import sqlalchemy as sa
    from rasa.shared.core.events import SessionStarted

    sender = sa.bindparam("sender_id")
    query = sa.select(table.c.data).where(table.c.sender_id == sender)
    if not all_sessions:
        session_start = (
            sa.select(sa.func.max(table.c.timestamp).label("session_start"))
            .where(table.c.sender_id == sender, table.c.type_name == SessionStarted.type_name)
            .subquery()
        )
        query = query.where(
            sa.or_(table.c.timestamp >= session_start.c.session_start, session_start.c.session_start.is_(None))
        )
    return query.order_by(table.c.id)


@_patch("prepared_events_query")
def prepared_events_query(retrieve):
    """Replace Rasa's `SQLTrackerStore._retrieve(sender_id, all_sessions)`: the same events, read
    with a query built once."""

    async def wrapped(self, sender_id, fetch_events_from_all_sessions):
        import json

        from rasa.shared.core.trackers import DialogueStateTracker

        query = _events_query(self.SQLEvent.__table__, bool(fetch_events_from_all_sessions))
        with self.session_scope() as session:
            events = [json.loads(data) for data in session.execute(query, {"sender_id": sender_id}).scalars()]
            if self.domain and len(events) > 0:
                _tracker_store_logger.debug(f"Recreating tracker from sender id '{sender_id}'")
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            _tracker_store_logger.debug(
                f"Can't retrieve tracker matching sender id '{sender_id}' from SQL storage. Returning `None` instead."
            )
            return None

    return wrapped


KEEPALIVE_SECONDS = 2.0  # idle connection kept this long; Sanic (the action server) closes at 5 s
_SESSIONS = "_faq_sessions"  # attribute of an EndpointConfig: event loop -> its aiohttp session
# (loop, session) of every session opened here, closed when the server stops (close_sessions)
_open_sessions: List[Tuple[Any, Any]] = []


def _shared_session(endpoint):
    """The endpoint's session on the running loop, created as Rasa's `EndpointConfig.session()`
    does but with a connector that keeps its connections open between calls."""
    import asyncio

    import aiohttp
    import rasa.utils.endpoints

    loop = asyncio.get_running_loop()
    sessions = endpoint.__dict__.setdefault(_SESSIONS, {})
    for old in [old for old in sessions if old.is_closed()]:  # a loop gone (tests): its session with it
        gone = sessions.pop(old)
        if (old, gone) in _open_sessions:
            _open_sessions.remove((old, gone))
    session = sessions.get(loop)
    if session is None or session.closed:
        auth = (
            aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
            if endpoint.basic_auth
            else None
        )
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
        )
        sessions[loop] = session
        _open_sessions.append((loop, session))
    return session


async def close_sessions() -> None:
    """Close the sessions of the running loop opened by `reused_session` (the Rasa server stops)."""
    import asyncio

    loop = asyncio.get_running_loop()
    for entry in [entry for entry in _open_sessions if entry[0] is loop]:
        _open_sessions.remove(entry)
        await entry[1].close()


@_patch("reused_session")
def reused_session(request):
    """Replace Rasa's `EndpointConfig.request`: the same request, on the endpoint's kept session."""

    async def wrapped(
        self,
        method: Text = "post",
        subpath: Optional[Text] = None,
        content_type: Optional[Text] = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Optional[Any]:
        # Rasa 3.6's body, but for `async with self.session() as session` (which closes it)
        import os
        import ssl

        from aiohttp.client_exceptions import ContentTypeError
        from rasa.shared.exceptions import FileNotFoundException
        from rasa.utils.endpoints import ClientResponseError, concat_url

        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if "headers" in kwargs:
            headers.update(kwargs["headers"])
            del kwargs["headers"]
        if self.headers:
            headers.update(self.headers)
        url = concat_url(self.url, subpath)
        sslcontext = None
        if self.cafile:
            try:
                sslcontext = ssl.create_default_context(cafile=self.cafile)
            except FileNotFoundError as e:
                raise FileNotFoundException(
                    f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
                ) from e
        session = _shared_session(self)
        async with session.request(
            method,
            url,
            headers=headers,
            params=self.combine_parameters(kwargs),
            compress=compress,
            ssl=sslcontext,
            **kwargs,
        ) as response:
            if response.status >= 400:
                raise ClientResponseError(response.status, response.reason, await response.content.read())
            try:
                return await response.json()
            except ContentTypeError:
                return None

    return wrapped


@_patch("closing_sessions")
def closing_sessions(close_resources):
    """Wrap Rasa's `rasa.core.run.close_resources(app, loop)` (the server stops): the kept sessions closed."""

    async def wrapped(app, loop) -> None:
        try:
            await close_resources(app, loop)
        finally:
            await close_sessions()

    return wrapped


@_patch("plain_matrix_text")
def plain_matrix_text(sparse_matrix_to_string):
    """Wrap Rasa's `sparse_matrix_to_string(m)`: the same text, formatted from Python numbers."""

    def wrapped(m) -> Text:
        coo = m.tocoo()
        if coo.data.dtype.kind not in "iu" and coo.data.dtype != "float64":
            return sparse_matrix_to_string(m)
        entries = zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist())
        return "\n".join(["  (%d, %d)\t%s" % entry for entry in entries])

    return wrapped


def run_in_order(graph: Dict[Text, Any], targets: List[Text]) -> Tuple[Any, ...]:
    """`dask.get(graph, targets)` for a graph of Rasa's runner: a task is a tuple whose head is
    callable and whose other items are the keys it needs; any other value is a literal."""
    results: Dict[Text, Any] = {}

    def value(key):
        if key not in results:
            task = graph[key]
            if isinstance(task, tuple) and task and callable(task[0]):
                args = [value(a) if isinstance(a, str) and a in graph else a for a in task[1:]]
                results[key] = task[0](*args)
            else:
                results[key] = task
        return results[key]

    return tuple(value(target) for target in targets)


@_patch("prediction_in_order")
def prediction_in_order(run):
    """Wrap Rasa's `DaskGraphRunner.run(inputs, targets)`: Rasa's code (`_run_graph`) with
    `run_in_order` for `dask.get` (patch 17, outside, takes the training graphs)."""

    def wrapped(self, inputs=None, targets=None):
        return _run_graph(self, inputs, targets, run_in_order)

    return wrapped


def _run_graph(runner, inputs, targets, get) -> Dict[Text, Any]:
    """Rasa 3.6's `DaskGraphRunner.run` body, with `get(graph, targets)` for `dask.get`."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else runner._graph_schema.target_names
    minimal_schema = runner._graph_schema.minimal_graph_schema(run_targets)
    run_graph = runner._build_dask_graph(minimal_schema)
    if inputs:
        runner._add_inputs_to_graph(inputs, run_graph)
    try:
        return dict(get(run_graph, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


TRAINING_THREADS = 2  # nodes trained at once (the NLU's and the policies'), on this 2-core machine


def _trains(runner) -> bool:
    """The runner runs a training graph: its nodes carry Rasa's TrainingHook (found once per runner:
    a prediction runner is asked at every message)."""
    trains = runner.__dict__.get("_faq_trains")
    if trains is None:
        from rasa.engine.training.hooks import TrainingHook

        nodes = runner._instantiated_nodes.values()
        trains = any(isinstance(hook, TrainingHook) for node in nodes for hook in node._hooks)
        runner._faq_trains = trains
    return trains


@_patch("training_nodes_in_threads")
def training_nodes_in_threads(run):
    """Wrap Rasa's `DaskGraphRunner.run(inputs, targets)`: a training graph on dask's threaded
    scheduler (Rasa's code, `_run_graph`, with `dask.threaded.get` for `dask.get`)."""

    def wrapped(self, inputs=None, targets=None):
        if not _trains(self):
            return run(self, inputs, targets)
        import dask.threaded

        return _run_graph(
            self, inputs, targets, lambda graph, keys: dask.threaded.get(graph, keys, num_workers=TRAINING_THREADS)
        )

    return wrapped


class _RuleIndex:
    """The keys of a RulePolicy lookup, by the user intent their last state requires."""

    def __init__(self, lookup: Dict[Text, Text]) -> None:
        from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
        from rasa.shared.nlu.constants import INTENT

        self.keys = frozenset(lookup)
        self.open: set = set()  # keys that may apply whatever the state's intent
        self.by_intent: Dict[Text, set] = {}
        for key in self.keys:
            states = json.loads(key)
            last = states[-1] if states else {}
            intent = (last.get(USER) or {}).get(INTENT)
            if last.get(PREVIOUS_ACTION) and isinstance(intent, str) and intent and intent != SHOULD_NOT_BE_SET:
                self.by_intent.setdefault(intent, set()).add(key)
            else:
                self.open.add(key)

    def candidates(self, state: Dict) -> set:
        from rasa.shared.core.constants import USER
        from rasa.shared.nlu.constants import INTENT

        intent = (state.get(USER) or {}).get(INTENT)
        return self.open | self.by_intent.get(intent, set()) if isinstance(intent, str) else set(self.open)


def _rule_index(policy, lookup: Dict[Text, Text]) -> _RuleIndex:
    """The index of `lookup`, built once per set of keys (a training changes its lookup)."""
    indexes = policy.__dict__.setdefault("_faq_rule_indexes", {})
    index = indexes.get(id(lookup))
    if index is None or lookup.keys() != index.keys:
        if len(indexes) >= 4:  # a policy has two lookups; a training may build others
            indexes.clear()
        index = indexes[id(lookup)] = _RuleIndex(lookup)
    return index


@_patch("rules_by_intent")
def rules_by_intent(get_possible_keys):
    """Wrap RulePolicy's `_get_possible_keys(lookup, states)`: Rasa's filter on the rules that
    the last state's intent leaves (those another intent's rules would fail at once)."""

    def wrapped(self, lookup, states):
        if not states or not lookup:
            return get_possible_keys(self, lookup, states)
        keys = _rule_index(self, lookup).candidates(states[-1])
        return get_possible_keys(self, {key: lookup[key] for key in keys}, states)

    return wrapped


def apply() -> None:
    import rasa.core.run
    import rasa.shared.nlu.training_data.util as training_data_util
    import rasa.utils.endpoints
    from rasa.core import processor, tracker_store
    from rasa.core.actions import action
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.core import events

    if (
        not callable(getattr(action.RemoteAction, "_validate_action_result", None))
        or not callable(getattr(tracker_store, "create_engine_kwargs", None))
        or not hasattr(action, "DEFAULT_REQUEST_TIMEOUT")
        or not callable(getattr(processor.MessageProcessor, "_parse_message_with_graph", None))
        or not callable(getattr(SpacyNLP, "load_model", None))
        or not callable(getattr(processor.MessageProcessor, "_has_session_expired", None))
        or not callable(getattr(events.Event, "resolve_by_type", None))
        or not callable(getattr(action.ActionSessionStart, "_slot_set_events_from_tracker", None))
        or not all(
            callable(getattr(tracker_store.SQLTrackerStore, name, None))
            for name in ("_retrieve", "_additional_events", "save")
        )
        or not callable(getattr(rasa.utils.endpoints.EndpointConfig, "request", None))
        or not callable(getattr(rasa.core.run, "close_resources", None))
        or not callable(getattr(training_data_util, "sparse_matrix_to_string", None))
        or not all(
            callable(getattr(DaskGraphRunner, name, None))
            for name in ("run", "_build_dask_graph", "_add_inputs_to_graph")
        )
        or not callable(getattr(RulePolicy, "_get_possible_keys", None))
    ):
        raise RuntimeError("this Rasa version differs from 3.6: review addons/patches.py")
    # A logistic regression stopped at its max_iter before lbfgs's own tolerance (the cross-validation
    # trains Rasa's with 100 iterations): not a fault to report at every training.
    warnings.filterwarnings("ignore", message="lbfgs failed to converge", module="sklearn")
    timeout = settings.current().action_timeout
    action.DEFAULT_REQUEST_TIMEOUT = timeout
    rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT = timeout
    action.RemoteAction._validate_action_result = validate_action_result
    tracker_store.create_engine_kwargs = pooled_sqlite(tracker_store.create_engine_kwargs)
    SpacyNLP.load_model = staticmethod(spacy_without_unused_pipes(SpacyNLP.load_model))
    processor.MessageProcessor._parse_message_with_graph = payload_without_nlu(
        processor.MessageProcessor._parse_message_with_graph
    )
    events.Event.resolve_by_type = staticmethod(cached_event_types(events.Event.resolve_by_type))
    processor.MessageProcessor._has_session_expired = bounded_sessions(processor.MessageProcessor._has_session_expired)
    action.ActionSessionStart._slot_set_events_from_tracker = staticmethod(
        last_slot_values(action.ActionSessionStart._slot_set_events_from_tracker)
    )
    sql = tracker_store.SQLTrackerStore
    sql.save = events_in_one_insert(sql.save)  # under patch 12's wrapper (applied once: _in_chain)
    sql._retrieve = prepared_events_query(sql._retrieve)
    sql._retrieve = noting_stored_events(sql._retrieve)
    sql._additional_events = stored_events_known(sql._additional_events)
    sql.save = noting_saved_events(sql.save)
    endpoint = rasa.utils.endpoints.EndpointConfig
    endpoint.request = reused_session(endpoint.request)
    rasa.core.run.close_resources = closing_sessions(rasa.core.run.close_resources)
    training_data_util.sparse_matrix_to_string = plain_matrix_text(training_data_util.sparse_matrix_to_string)
    DaskGraphRunner.run = prediction_in_order(DaskGraphRunner.run)  # inside patch 17's wrapper
    DaskGraphRunner.run = training_nodes_in_threads(DaskGraphRunner.run)
    RulePolicy._get_possible_keys = rules_by_intent(RulePolicy._get_possible_keys)
