"""The speed patches of addons/patches.py change no result: spaCy without NER gives the featurizers
the same tokens, and a button payload gets the same parse data without the NLU."""

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from addons import patches

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "faq.tar.gz"


def _nlu_examples():
    data = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))
    texts = []
    for item in data["nlu"]:
        for line in (item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                texts.append(line[2:].strip())
    return texts


def test_no_component_reads_spacy_entities():
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [c["name"] for c in config["pipeline"]]
    assert "SpacyNLP" in names
    assert "SpacyEntityExtractor" not in names  # it would need the NER removed by patches.py
    assert "SpacyFeaturizer" not in names  # document vectors are not checked below


def test_spacy_model_read_once_without_the_pipes_nobody_runs():
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    patches.apply()
    first, second = SpacyNLP.load_model("fr_core_news_sm"), SpacyNLP.load_model("fr_core_news_sm")
    assert first is second
    loaded = first.model.component_names  # disabled pipes included: what was read from disk
    assert "ner" not in loaded and "parser" not in loaded
    assert {"tok2vec", "morphologizer", "attribute_ruler", "lemmatizer"} <= set(first.model.pipe_names)


def test_spacy_without_ner_gives_the_featurizers_the_same_tokens():
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    patches.apply()
    trimmed = SpacyNLP.load_model("fr_core_news_sm").model
    full = SpacyNLP.load_model.__wrapped__("fr_core_news_sm").model
    assert "ner" in full.pipe_names and "ner" not in trimmed.pipe_names
    assert [p for p in full.pipe_names if p != "ner"] == trimmed.pipe_names
    texts = _nlu_examples()
    assert len(texts) > 500

    def tokens(nlp, text):
        # what SpacyTokenizer keeps (text, offset, lemma, tag) and what the lemmas depend on (POS, morphology)
        return [(t.text, t.idx, t.lemma_, t.tag_, t.pos_, str(t.morph)) for t in nlp(text)]

    different = [text for text in texts if tokens(full, text) != tokens(trimmed, text)]
    assert not different, different[:5]


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.skip("models/faq.tar.gz is missing: make train")
    from rasa.core.agent import Agent

    patches.apply()
    return Agent.load(str(MODEL))


PAYLOADS = [
    "/browse",
    '/browse{"facet_path":"offre=segur"}',
    '/browse{"facet_path":"offre=segur/couloir=hopital"}',
    '/browse{"facet_path":"invalide"}',
    "/ask_qhn_cout_certification",
    '/ask_qhn_cout_certification{"via":"guided"}',
    '/affirm{"answer_id":"qhn_cout_certification","via":"guided"}',
    "/deny",
    "/human_handoff",
    "/rephrase",
    "/greet",
    '/browse{"unknown_entity":"x"}',
]
NOT_PAYLOADS = [
    "/intent_that_does_not_exist",
    "/",
    "/browse{not json",
    "Bonjour",
    "combien coûte la certification QHN ?",
    " /ask_qhn_cout_certification",
]


def _both(agent, text):
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    processor = agent.processor
    message = UserMessage(text, sender_id="speed-test")
    tracker = DialogueStateTracker.from_events("speed-test", [])
    patched = type(processor)._parse_message_with_graph
    assert getattr(patched, "payload_without_nlu", False)
    original = patched.__wrapped__
    return original(processor, message, tracker), patched(processor, message, tracker)


@pytest.mark.parametrize("text", PAYLOADS + NOT_PAYLOADS)
def test_payload_parse_data_unchanged(agent, text):
    rasa_result, ours = _both(agent, text)
    assert json.dumps(ours, sort_keys=True, default=str) == json.dumps(rasa_result, sort_keys=True, default=str)


def test_payload_skips_the_nlu_graph(agent, monkeypatch):
    from rasa.core.channels.channel import UserMessage

    calls = []
    runner = agent.processor.graph_runner
    original_run = runner.run
    monkeypatch.setattr(runner, "run", lambda *a, **k: calls.append(1) or original_run(*a, **k))
    parsed = asyncio.run(
        agent.processor.parse_message(UserMessage('/browse{"facet_path":"offre=segur"}', sender_id="speed-test"))
    )
    assert parsed["intent"]["name"] == "browse" and parsed["entities"][0]["value"] == "offre=segur"
    assert calls == []
    asyncio.run(agent.processor.parse_message(UserMessage("Bonjour", sender_id="speed-test")))
    assert calls == [1]


def test_event_classes_resolved_as_by_rasa():
    from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered

    patches.apply()
    resolve = Event.resolve_by_type
    assert getattr(resolve, "cached_event_types", False)
    original = resolve.__wrapped__
    for cls in (ActionExecuted, SessionStarted, SlotSet, UserUttered):
        assert resolve(cls.type_name) is original(cls.type_name) is cls
        assert resolve(cls.type_name) is cls  # from the cache
    assert resolve("topic") is None and resolve("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        resolve("no_such_event")
    serialised = [
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
        {"event": "user", "text": "Bonjour", "parse_data": {"intent": {"name": "greet"}}, "timestamp": 2.0},
        {"event": "slot", "name": "last_answer_id", "value": "x", "timestamp": 3.0},
    ]
    from rasa.shared.core.events import deserialise_events

    assert [type(e) for e in deserialise_events(serialised)] == [ActionExecuted, UserUttered, SlotSet]


def _tracker(events_after_start: int, with_session: bool = True):
    from rasa.shared.core.events import ActionExecuted, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [ActionExecuted("action_session_start"), SessionStarted()] if with_session else []
    events += [ActionExecuted("action_listen") for _ in range(events_after_start)]
    return DialogueStateTracker.from_events("speed-test", events)


def test_sessions_end_past_the_bound():
    from types import SimpleNamespace

    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.domain import SessionConfig

    patches.apply()
    expired = MessageProcessor._has_session_expired
    assert getattr(expired, "bounded_sessions", False)
    processor = SimpleNamespace(domain=SimpleNamespace(session_config=SessionConfig(60, True)))
    bound = patches.MAX_SESSION_EVENTS
    assert not expired(processor, _tracker(bound - 1))
    assert expired(processor, _tracker(bound))
    assert not expired(processor, _tracker(0))
    assert expired(processor, _tracker(bound, with_session=False))  # an old conversation without sessions
    processor.domain.session_config = SessionConfig(0, True)  # sessions disabled: never expired
    assert not expired(processor, _tracker(bound * 2))


def test_domain_carries_slots_over_to_a_new_session():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert domain["session_config"]["carry_over_slots_to_new_session"] is True
    assert domain["session_config"]["session_expiration_time"] > 0


def test_slots_carried_over_once_with_their_last_value():
    from rasa.core.actions.action import ActionSessionStart
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    patches.apply()
    carry = ActionSessionStart._slot_set_events_from_tracker
    assert getattr(carry, "last_slot_values", False)
    domain = Domain.from_path(str(ROOT / "domain.yml"))
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    events += [SlotSet("last_answer_id", "a"), SlotSet("last_answer_via", "guide"), SlotSet("last_answer_id", "a")]
    events += [SlotSet("last_answer_id", "b", metadata={"m": 1}), SlotSet("last_answer_id", None)]
    events += [SlotSet("last_answer_id", "c", metadata={"m": 2})]
    tracker = DialogueStateTracker.from_events("speed-test", events, domain.slots)
    carried = carry(tracker)
    assert [(e.key, e.value, e.metadata) for e in carried] == [
        ("last_answer_via", "guide", {}),
        ("last_answer_id", "c", {"m": 2}),
    ]
    # the new session's slots are the same as with Rasa's copy of every event
    for chosen in (carried, carry.__wrapped__(tracker)):
        fresh = DialogueStateTracker.from_events("speed-test", [SessionStarted(), *chosen], domain.slots)
        assert fresh.current_slot_values() == tracker.current_slot_values()


def test_trained_model_loads_without_skops():
    """The model stores its intent classifier as arrays and JSON (addons/tfidf_classifier.py: nothing
    unpickled) and loading it never imports skops (5 s of the start)."""
    import subprocess
    import sys
    import tarfile

    if not MODEL.exists():
        pytest.skip("models/faq.tar.gz is missing: make train")
    with tarfile.open(MODEL) as archive:
        names = archive.getnames()
    classifier = [n.rsplit("/", 1)[-1] for n in names if "TfidfIntentClassifier" in n.rsplit("/", 1)[0]]
    assert sorted(classifier) == ["tfidf_classifier.json", "tfidf_classifier.npz"], names
    assert not any(n.endswith((".skops", ".pkl", ".joblib")) for n in names)
    script = (
        "import sys\nfrom addons import patches\npatches.apply()\nfrom rasa.core.agent import Agent\n"
        f"agent = Agent.load({str(MODEL)!r})\nassert agent.is_ready()\nprint(sorted(m for m in sys.modules if 'skops' in m))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _rasa_own(function):
    """Rasa's own function under every patch that wraps it."""
    while hasattr(function, "__wrapped__"):
        function = function.__wrapped__
    return function


def _conversation_rows(tmp_path, name, patched: bool):
    """Three messages and a new session through a SQL tracker store on a SQLite file: the rows
    stored, the statements that counted events, the INSERT statements run, and the store."""
    import time

    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

    patches.apply()
    store = SQLTrackerStore(Domain.from_path(str(ROOT / "domain.yml")), db=str(tmp_path / f"{name}.db"))
    sql = SQLTrackerStore
    if not patched:  # Rasa's own functions, this store only
        for attribute in ("_retrieve", "_additional_events", "save"):
            setattr(store, attribute, _rasa_own(getattr(sql, attribute)).__get__(store))
    counts, inserts = [], []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *a: counts.append(1) if "count(" in a[2] else None)
    sa.event.listen(
        store.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, parameters, context, executemany: inserts.append(
            len(parameters) if executemany else 1
        )
        if statement.startswith("INSERT")
        else None,
    )

    async def talk():
        start = time.time() + 1  # after the first action_listen, which Rasa stamps with the time
        clock = iter(start + t for t in range(1000))
        tracker = await store.get_or_create_tracker("c1")
        for message in ("Bonjour", "combien coûte QHN ?", "Oui", "session", "Merci"):
            if message == "session":
                tracker.update(ActionExecuted("action_session_start", timestamp=next(clock)))
                tracker.update(SessionStarted(timestamp=next(clock)))
                tracker.update(SlotSet("last_answer_id", "qhn_cout_certification", timestamp=next(clock)))
            else:
                parse = {"intent": {"name": "greet", "confidence": 0.9}, "entities": [], "text": message}
                tracker.update(UserUttered(message, parse["intent"], parse_data=parse, timestamp=next(clock)))
                tracker.update(BotUttered(f"réponse à {message}", timestamp=next(clock)))
                tracker.update(ActionExecuted("action_listen", timestamp=next(clock)))
            await store.save(tracker)
            tracker = await store.retrieve("c1")

    asyncio.run(talk())
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
            )
        ).all()
    stored = []
    for row_id, sender, kind, timestamp, intent, action, data in rows:
        data = json.loads(data)
        assert timestamp == data["timestamp"]  # the column holds the event's time
        # each run has its own clock: the rows compared without their time
        stored.append((row_id, sender, kind, intent, action, {k: v for k, v in data.items() if k != "timestamp"}))
    return stored, len(counts), inserts, store


def test_tracker_store_writes_the_same_rows_without_counting(tmp_path):
    ours, ours_counts, _, _ = _conversation_rows(tmp_path, "ours", patched=True)
    rasa, rasa_counts, _, _ = _conversation_rows(tmp_path, "rasa", patched=False)
    assert len(rasa) == 16 and ours == rasa  # the first action_listen, then 5 x 3
    assert {row[3] for row in rasa} == {None, "greet"} and "action_listen" in {row[4] for row in rasa}
    assert rasa_counts == 6  # one count query per save (the new conversation is saved once created)
    assert ours_counts == 1  # only when the new conversation is first saved


def test_tracker_store_inserts_each_message_in_one_statement(tmp_path):
    _, _, ours, _ = _conversation_rows(tmp_path, "ours", patched=True)
    _, _, rasa, _ = _conversation_rows(tmp_path, "rasa", patched=False)
    assert rasa == [1] * 16  # one INSERT per event
    assert ours == [1, 3, 3, 3, 3, 3]  # one INSERT per save, of all its new events


def test_tracker_store_reads_back_the_same_events(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore

    *_, store = _conversation_rows(tmp_path, "ours", patched=True)
    assert getattr(SQLTrackerStore._retrieve.__wrapped__, "prepared_events_query", False)
    rasa_retrieve = _rasa_own(SQLTrackerStore._retrieve)

    async def both(sender, all_sessions):
        ours = await SQLTrackerStore._retrieve.__wrapped__(store, sender, all_sessions)
        rasa = await rasa_retrieve(store, sender, all_sessions)
        return [None if t is None else [e.as_dict() for e in t.events] for t in (ours, rasa)]

    latest, rasa_latest = asyncio.run(both("c1", False))
    full, rasa_full = asyncio.run(both("c1", True))
    assert latest == rasa_latest and full == rasa_full
    assert len(full) == 16 and len(latest) == 5  # session_started, the slot, one message (3 events)
    assert latest[0]["event"] == "session_started"
    assert asyncio.run(both("nobody", False)) == [None, None]


class _Server:
    """An aiohttp server on a free port that notes the client connection (its port) of each request."""

    def __init__(self):
        self.connections, self.runner, self.url = [], None, ""

    async def start(self):
        import asyncio

        from aiohttp import web

        async def webhook(request):
            self.connections.append(request.transport.get_extra_info("peername")[1])
            mode = request.query.get("mode")
            if mode == "reject":
                return web.json_response({"error": "non", "action_name": "action_x"}, status=400)
            if mode == "fail":
                return web.Response(status=500, text="boom")
            if mode == "text":
                return web.Response(text="pas du JSON")
            if mode == "slow":
                await asyncio.sleep(2)
            return web.json_response({"token": request.query.get("token"), "body": await request.json()})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/webhook"

    async def stop(self):
        await self.runner.cleanup()


async def _outcome(call):
    """What a request gave: ("ok", json) or the exception's type, status and text."""
    try:
        return ("ok", await call())
    except Exception as error:  # noqa: BLE001 - compared as they come
        return (type(error).__name__, getattr(error, "status", None), getattr(error, "text", None))


def test_action_server_calls_reuse_one_connection_with_rasa_answers_and_errors():
    from rasa.utils.endpoints import EndpointConfig

    patches.apply()
    request = EndpointConfig.request
    assert getattr(request, "reused_session", False)
    rasa_request = request.__wrapped__

    async def scenario():
        server = _Server()
        await server.start()
        results = {}
        try:
            for name, send in (("rasa", rasa_request), ("ours", request)):
                endpoint = EndpointConfig(server.url, token="secret")
                server.connections.clear()
                calls = [send(endpoint, json={"n": n}, method="post", timeout=5) for n in range(3)]
                answers = [await c for c in calls]
                connections = len(set(server.connections))
                outcomes = [
                    await _outcome(lambda m=mode: send(endpoint, json={}, method="post", params={"mode": m}, timeout=1))
                    for mode in ("reject", "fail", "text", "slow")
                ]
                answers.append(await send(endpoint, json={"n": 3}, method="post", timeout=5))  # after the errors
                results[name] = (answers, connections, outcomes)
            await patches.close_sessions()
        finally:
            await server.stop()
        return results

    results = asyncio.run(scenario())
    (rasa_answers, rasa_connections, rasa_outcomes), (answers, connections, outcomes) = results["rasa"], results["ours"]
    assert answers == rasa_answers == [{"token": "secret", "body": {"n": n}} for n in range(4)]
    assert rasa_connections == 3 and connections == 1  # Rasa connects for each call; kept here
    assert outcomes == rasa_outcomes
    assert [o[0] for o in outcomes] == ["ClientResponseError", "ClientResponseError", "ok", "TimeoutError"]
    assert outcomes[0][1] == 400 and b"action_x" in outcomes[0][2] and outcomes[2] == ("ok", None)


def test_action_server_down_gives_rasa_connection_error_and_sessions_close_at_shutdown():
    import aiohttp
    import rasa.core.run
    from rasa.utils.endpoints import EndpointConfig

    from ops.processes import free_port

    patches.apply()
    assert getattr(rasa.core.run.close_resources, "closing_sessions", False)

    async def scenario():
        endpoint = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")  # nobody listens
        down = await _outcome(lambda: EndpointConfig.request(endpoint, json={}, method="post"))
        with pytest.raises(aiohttp.ClientConnectionError):  # what RemoteAction.run reports as "Couldn't connect"
            await EndpointConfig.request(endpoint, json={}, method="post")
        rasa_down = await _outcome(lambda: EndpointConfig.request.__wrapped__(endpoint, json={}, method="post"))
        session = patches._shared_session(endpoint)
        assert not session.closed

        class App:
            class ctx:
                agent = None

        await rasa.core.run.close_resources(App, asyncio.get_running_loop())  # the Rasa server stops
        return down, rasa_down, session.closed, patches._shared_session(endpoint) is not session

    down, rasa_down, closed, renewed = asyncio.run(scenario())
    assert down == rasa_down and down[0] == "ClientConnectorError"
    assert closed and renewed


def test_training_data_fingerprints_unchanged(monkeypatch):
    """Patch 16 writes a feature matrix out as Rasa does: the real features' types and odd values."""
    import numpy as np
    import scipy.sparse as sp
    from rasa.shared.nlu.training_data import util
    from rasa.shared.nlu.training_data.features import Features
    from sklearn.feature_extraction.text import CountVectorizer

    patches.apply()
    patched = util.sparse_matrix_to_string
    assert getattr(patched, "plain_matrix_text", False)
    rasa_text = patched.__wrapped__
    counts = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit_transform(_nlu_examples())
    assert counts.dtype == np.int64 and counts.nnz > 100_000
    odd = np.array([0.1, 1e-05, 1e16, -2.5, 1 / 3, float("inf"), float("nan"), 3.0])
    matrices = [
        counts,  # CountVectorsFeaturizer's type
        counts[:40].astype(np.float64) / 7,
        sp.coo_matrix((odd, (np.arange(8), np.arange(8) * 3))),
        sp.csr_matrix(odd.astype(np.float32).reshape(2, 4)),  # another type: Rasa's own function
        sp.csr_matrix((0, 5), dtype=np.int64),
    ]
    for matrix in matrices:
        assert patched(matrix) == rasa_text(matrix)
    fingerprint = Features(counts[:15], "sequence", "text", "CountVectorsFeaturizer").fingerprint()
    monkeypatch.setattr(util, "sparse_matrix_to_string", rasa_text)
    assert Features(counts[:15], "sequence", "text", "CountVectorsFeaturizer").fingerprint() == fingerprint


def test_training_graph_in_threads_trains_the_same_model(tmp_path, monkeypatch, agent):
    """Patch 17: a training graph runs on dask's threaded scheduler, a prediction graph does not,
    and the model trained so ranks every example exactly as one trained node after node."""
    import dask.threaded
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.model_training import train_nlu

    patches.apply()
    assert getattr(DaskGraphRunner.run, "training_nodes_in_threads", False)
    assert not patches._trains(agent.processor.graph_runner)
    data = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))
    blocks = [b for b in data["nlu"] if b.get("intent", "").startswith(("ask_qhn", "ask_dmn", "greet"))]
    (tmp_path / "nlu.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True))
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    threaded_runs = []
    threaded_get = dask.threaded.get
    monkeypatch.setattr(dask.threaded, "get", lambda *a, **k: threaded_runs.append(k) or threaded_get(*a, **k))

    def train(name):
        monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / f"cache-{name}"))
        return train_nlu(str(tmp_path / "config.yml"), str(tmp_path / "nlu.yml"), str(tmp_path / name))

    in_threads = train("threads")
    assert threaded_runs == [{"num_workers": patches.TRAINING_THREADS}]
    monkeypatch.setattr(DaskGraphRunner, "run", _rasa_own(DaskGraphRunner.run))
    in_order = train("in-order")
    assert len(threaded_runs) == 1

    from rasa.core.agent import Agent

    texts = [line[2:] for b in blocks for line in b["examples"].splitlines() if line.startswith("- ")]

    def rankings(model):
        loaded = Agent.load(model)
        parsed = [asyncio.run(loaded.parse_message(text)) for text in texts]
        return [[(r["name"], r["confidence"]) for r in p["intent_ranking"]] for p in parsed]

    assert rankings(in_threads) == rankings(in_order)


def _rule_policy(agent):
    from rasa.core.policies.rule_policy import RulePolicy

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    return next(n._component for n in nodes if isinstance(getattr(n, "_component", None), RulePolicy))


def _conversation_states(policy, lookup):
    """Every rule's states, and variants no rule was written for: another intent, a typed text
    instead of an intent, no previous action (a conversation's start), an empty state."""
    intents = sorted({s.get("user", {}).get("intent") for key in lookup for s in json.loads(key)} - {None})
    for key in lookup:
        states = json.loads(key)
        yield states
        last = states[-1]
        for intent in intents[:5] + ["out_of_scope", "nlu_fallback", "unknown_intent"]:
            yield states[:-1] + [{**last, "user": {**last.get("user", {}), "intent": intent}}]
        yield states[:-1] + [{**last, "user": {"text": "combien coute la certification"}}]
        yield states[:-1] + [{k: v for k, v in last.items() if k != "prev_action"}]
        yield states[:-1] + [{}]


def test_rules_looked_up_by_intent_match_as_rasa_does(agent):
    from rasa.core.policies.rule_policy import RULES

    policy = _rule_policy(agent)
    patched = type(policy)._get_possible_keys
    assert getattr(patched, "rules_by_intent", False)
    lookup = policy.lookup[RULES]
    checked = 0
    for states in _conversation_states(policy, lookup):
        assert patched(policy, lookup, states) == patched.__wrapped__(policy, lookup, states), states
        checked += 1
    assert checked > 10 * len(lookup)
    # and it does narrow: a FAQ question's state leaves only its own intent's rules to try
    index = patches._rule_index(policy, lookup)
    state = {"user": {"intent": "ask_qhn_cout_certification"}, "prev_action": {"action_name": "action_listen"}}
    assert 0 < len(index.candidates(state)) <= len(index.open) + 2 < len(lookup) / 4


def test_rule_index_follows_a_changed_lookup(agent):
    from rasa.core.policies.rule_policy import RULES

    policy = _rule_policy(agent)
    lookup = dict(policy.lookup[RULES])
    first = patches._rule_index(policy, lookup)
    key = next(iter(lookup))
    lookup.pop(key)
    assert patches._rule_index(policy, lookup) is not first
    assert key not in patches._rule_index(policy, lookup).keys


def test_graph_run_in_order_as_dask_runs_it():
    """Patch 19's evaluator against dask.get: the same results, each node once, the same exception."""
    import dask

    calls = []

    def node(name):
        def call(*inputs):
            calls.append(name)
            return (name, [value for _, value in inputs])

        return call

    graph = {
        "__message__": ("__message__", ["bonjour"]),
        "a": (node("a"), "__message__"),
        "b": (node("b"), "a", "__message__"),
        "c": (node("c"), "a"),
        "d": (node("d"), "b", "c", "a"),
    }
    expected = dask.get(graph, ["d", "c"])
    calls.clear()
    assert patches.run_in_order(graph, ["d", "c"]) == expected
    assert sorted(calls) == ["a", "b", "c", "d"]

    def fails(*inputs):
        raise ValueError("node failed")

    broken = {**graph, "c": (fails, "a")}
    with pytest.raises(ValueError, match="node failed"):
        dask.get(broken, ["d"])
    with pytest.raises(ValueError, match="node failed"):
        patches.run_in_order(broken, ["d"])


CONVERSATION = [
    "Bonjour",
    '/browse{"facet_path":"offre=segur"}',
    "combien coûte la certification QHN ?",
    '/affirm{"answer_id":"qhn_cout_certification","via":"free"}',
    "quel temps fait-il à Paris ?",
    "/human_handoff",
    "merci, au revoir",
]


def test_prediction_graphs_in_order_parse_and_predict_as_rasa(agent, monkeypatch):
    """Patch 19 on the trained model: each message's parse data and each next action predicted
    along a conversation are the same as with Rasa's own run (dask.get)."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    patches.apply()
    processor = agent.processor
    assert getattr(DaskGraphRunner.run.__wrapped__, "prediction_in_order", False)

    def run_through():
        tracker = DialogueStateTracker.from_events("in-order", [ActionExecuted("action_listen")])
        out = []
        for text in CONVERSATION:
            parsed = asyncio.run(processor.parse_message(UserMessage(text, sender_id="in-order"), tracker))
            tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
            for _ in range(3):  # the action, then listening (a rule of one turn)
                prediction = processor._predict_next_with_tracker(tracker)
                action = processor.domain.action_names_or_texts[prediction.max_confidence_index]
                out.append((json.dumps(parsed, sort_keys=True, default=str), action, prediction.policy_name))
                tracker.update(ActionExecuted(action))
                if action == "action_listen":
                    break
        return out

    ours = run_through()
    monkeypatch.setattr(DaskGraphRunner, "run", _rasa_own(DaskGraphRunner.run))
    assert run_through() == ours
    assert [action for _, action, _ in ours].count("action_listen") == len(CONVERSATION)
