"""Bad input over the REST channel of the running bot: clear French answers, no 5xx."""

import json

import pytest

from bot import screening
from bot import texts as bot_texts
from bot.knowledge import default_kb
from ops.rest_client import new_sender, post, send, texts

KB = default_kb()
FIRST_QUESTION = KB.facets[0].question


def post_raw(url, body: bytes, content_type="application/json"):
    response = post(url, body, content_type)
    return response.status, response.body


@pytest.mark.parametrize(
    "body,status,words",
    [
        (b"{not json", 400, "JSON"),
        (b"[1, 2]", 400, "objet JSON"),
        (b'{"message": "bonjour"}', 400, "sender"),
        (b'{"sender": "abc"}', 400, "message"),
        (b'{"sender": 42, "message": "bonjour"}', 400, "sender"),
        (b'{"sender": "abc", "message": ["bonjour"]}', 400, "message"),
        (b'{"sender": "a b", "message": "bonjour"}', 400, "sender"),
        (json.dumps({"sender": "abc", "message": "x" * 200_000}).encode(), 413, "volumineuse"),
        (b"\xff\xfe\x00garbage", 400, "JSON"),
        (b"[" * 2000 + b"]" * 2000, 400, "imbriqué"),
        (b'{"sender": "abc", "message": "x", "metadata": {"a": ' + b"[" * 5000 + b"}", 400, "imbriqué"),
    ],
)
def test_rest_contract_errors_are_4xx_in_french(bot_url, body, status, words):
    code, payload = post_raw(bot_url, body)
    assert code == status and words in payload["error"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/html", ""])
def test_rest_refuses_bodies_that_are_not_declared_json(bot_url, content_type):
    code, payload = post_raw(bot_url, b'{"sender": "abc", "message": "bonjour"}', content_type)
    assert code == 415 and "application/json" in payload["error"]


def test_json_with_a_charset_is_json(bot_url):
    code, replies = post_raw(
        bot_url, b'{"sender": "abc-charset", "message": "bonjour"}', "application/json; charset=utf-8"
    )
    assert code == 200 and replies


@pytest.mark.parametrize(
    "message,expected",
    [
        ("", bot_texts.EMPTY),
        ("   \n\t ", bot_texts.EMPTY),
        ("x" * 1001, bot_texts.too_long(screening.MAX_MESSAGE_CHARS)),
    ],
)
def test_empty_and_too_long_messages(bot_url, message, expected):
    replies = send(bot_url, new_sender(), message)
    assert replies[0]["text"] == expected


@pytest.mark.parametrize(
    "message",
    [
        "😀😀😀",
        "What is the price of the QHN certification?",
        "<script>alert('x')</script>",
        "<b>bonjour</b>",
        "'; DROP TABLE feedback; --",
        "bon\x00jour\x07",
        "\u202e\u200bqhn",
        "Ω≈ç√∫˜µ≤≥÷",
        "a" * 1000,
    ],
)
def test_odd_messages_get_a_french_reply(bot_url, message):
    replies = send(bot_url, new_sender(), message)
    assert replies and all(r.get("text") for r in replies)
    assert "<script>" not in texts(replies)  # user text is never echoed back
    assert bot_texts.UNAVAILABLE not in texts(replies)


def test_broken_unicode_in_json(bot_url):
    code, replies = post_raw(bot_url, b'{"sender": "abc123", "message": "co\\ud800t QHN"}')
    assert code == 200 and replies


@pytest.mark.parametrize(
    "payload",
    [
        "/restart",
        "/session_start",
        "/unknown_intent",
        '/browse{"facet_path":"offre=inexistante"}',
        '/browse{"facet_path": 42}',
        '/browse{"facet_path": ',
        '/ask_qhn_nope{"via":"guide"}',
        '/affirm{"answer_id":"nope"}',
        '/browse{"facet_path":"offre=mes;offre=mes"}',
    ],
)
def test_typed_payloads_get_a_french_message_and_the_tree(bot_url, payload):
    sender = new_sender()
    replies = send(bot_url, sender, payload)
    assert replies and replies[0]["text"] in (bot_texts.INVALID_CHOICE, bot_texts.NO_PENDING_ANSWER)
    # the conversation still works afterwards
    after = send(bot_url, sender, '/browse{"facet_path":"offre=convergence"}')
    assert after[0]["text"] == bot_texts.LISTING


def test_restart_typed_mid_conversation_keeps_the_conversation_usable(bot_url):
    sender = new_sender()
    send(bot_url, sender, '/ask_mes_fonctionnalites{"via":"guide"}')
    send(bot_url, sender, "/restart")
    replies = send(bot_url, sender, "oui")  # feedback on the answer shown before
    assert replies[0]["text"] == bot_texts.THANKS_YES
