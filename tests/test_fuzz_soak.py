"""Property-based fuzzing and a soak test against the running bot (bounded)."""

import json
import random
import re
from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import texts as bot_texts
from bot.knowledge import default_kb
from bot.settings import Settings
from ops.rest_client import new_sender, post, send, texts

KB = default_kb()
INTENT_NAMES = ["browse", "affirm", "deny", "greet", "restart", "ask_qhn_cout_certification", "zzz", ""]
ENTITY_KEYS = ["facet_path", "answer_id", "via", "x", ""]


payloads = st.builds(
    lambda intent, entities, tail: f"/{intent}{json.dumps(entities)}"[: len(intent) + 1 + tail],
    st.sampled_from(INTENT_NAMES),
    st.dictionaries(
        st.sampled_from(ENTITY_KEYS),
        st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.integers(), max_size=2)),
        max_size=3,
    ),
    st.integers(min_value=0, max_value=200),
)
messages = st.one_of(st.text(max_size=300), payloads, st.text(alphabet="/{}\":,[]ab_", max_size=40))
nested = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(st.text(max_size=3), inner, max_size=2)),
    max_leaves=8,
)
bodies = st.one_of(
    st.builds(lambda m: json.dumps({"sender": "fuzz" + str(abs(hash(m)) % 1000), "message": m}), messages),
    st.builds(
        json.dumps,
        st.dictionaries(
            st.sampled_from(["sender", "message", "metadata"]),
            st.one_of(st.text(max_size=20), st.integers(), st.none(), nested),
        ),
    ),
    # nesting from shallow to far deeper than the limit, as a value or as the whole body
    st.builds(
        lambda depth, wrap: (wrap.format("[" * depth + "]" * depth)),
        st.integers(min_value=1, max_value=5000),
        st.sampled_from(
            [
                "{}",
                '{{"sender": "fuzz-n", "message": "x", "metadata": {{"a": {}}}}}',
                '{{"sender": "fuzz-n", "message": {}}}',
            ]
        ),
    ),
    st.text(max_size=50),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "",
        "application/json;;;",
    ]
)


def test_fuzz_no_server_error_and_the_bot_still_answers(bot_url, output_dir):
    log = output_dir / "server.log"
    before = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    statuses = []

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(bodies, content_types)
    def one(body, content_type):
        status = post(bot_url, body.encode("utf-8", errors="surrogatepass"), content_type).status
        statuses.append(status)
        assert status < 500, (content_type, body[:200])

    one()
    assert len(statuses) == 250 and {200, 400, 415} <= set(statuses)
    replies = send(bot_url, new_sender(), "combien coute une certification QHN ?")
    assert KB.answer("qhn_cout_certification").text in texts(replies)
    after = log.read_text(encoding="utf-8", errors="replace")[len(before) :]
    assert not re.search(r"Traceback|Exception|\bERROR\b", after), after[-3000:]


def test_soak_2000_messages_100_conversations_50_at_a_time(bot_url):
    """Each conversation follows its own path; every reply must belong to that conversation.

    20 messages per conversation: under the per-conversation rate limit's burst (bot/settings.py),
    however fast the server answers (this test is about isolation under load, not about the limit)."""
    answers = list(KB.answers)
    assert Settings().per_conversation >= 20

    def conversations(n):
        rng = random.Random(n)
        replies_seen, problems = 0, []
        for half in range(2):  # two conversations one after the other, 5 turns of 4 messages each
            sender = new_sender()
            for turn in range(5 * half, 5 * half + 5):
                answer = answers[(n + turn) % len(answers)]
                steps = [
                    ("bonjour", lambda r: r[-1]["text"] == KB.facets[0].question),
                    (f'/{answer.intent}{{"via":"guide"}}', lambda r, a=answer: a.text in texts(r)),
                    (
                        rng.choice(["oui", "non"]),
                        lambda r: r[0]["text"] in (bot_texts.THANKS_YES, bot_texts.THANKS_NO),
                    ),
                    ('/browse{"facet_path":"offre=convergence"}', lambda r: r[0]["text"] == bot_texts.LISTING),
                ]
                for message, check in steps:
                    replies = send(bot_url, sender, message, timeout=60)
                    replies_seen += 1
                    if not replies or not check(replies) or any(r["recipient_id"] != sender for r in replies):
                        problems.append((n, turn, message, texts(replies)[:200]))
        return replies_seen, problems

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(conversations, range(50)))
    assert sum(seen for seen, _ in results) == 2000
    problems = [p for _, ps in results for p in ps]
    assert not problems, problems[:5]
