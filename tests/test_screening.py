"""Screening of user input, as plain Python."""

import pytest

from bot import screening, texts

INTENTS = screening.domain_intents()


def test_builtin_intents_are_not_payload_targets():
    assert "browse" in INTENTS and "ask_qhn_cout_certification" in INTENTS
    assert not {"restart", "session_start", "back", "nlu_fallback"} & INTENTS


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\x00\x01", "\u200b", "\ud800"])
def test_empty_or_invisible_messages_are_answered_at_once(raw):
    verdict = screening.screen(raw, INTENTS)
    assert verdict.text is None and verdict.replies[0]["text"] == texts.EMPTY


def test_too_long_is_refused_politely_without_the_model():
    verdict = screening.screen("a" * (screening.MAX_MESSAGE_CHARS + 1), INTENTS)
    assert verdict.text is None and "1\u202f000 caractères" in verdict.replies[0]["text"]
    assert screening.screen("a" * screening.MAX_MESSAGE_CHARS, INTENTS).text == "a" * screening.MAX_MESSAGE_CHARS


def test_text_is_cleaned():
    assert screening.clean_text("  l’ISO\x00 9001\u2028?\ud83d ") == "l'ISO  9001 ?"
    assert screening.clean_text("e\u0301") == "é"


@pytest.mark.parametrize(
    "payload",
    [
        "/browse",
        '/browse{"facet_path":"offre=mes"}',
        '/ask_qhn_cout_certification{"via":"guide"}',
        '/affirm{"answer_id":"qhn_cout_certification","via":"free_text"}',
        "/greet",
    ],
)
def test_our_payloads_pass(payload):
    assert screening.screen(payload, INTENTS).text == payload


@pytest.mark.parametrize(
    "payload",
    [
        "/restart",
        "/session_start",
        "/back",
        "/nlu_fallback",
        "/unknown_intent",
        '/browse{"facet_path": 42}',
        '/browse{"facet_path": ',
        '/browse{"other":"x"}',
        '/browse["a"]',
        '/affirm{"answer_id": {"a": 1}}',
        "/browse{\"facet_path\": \"" + "x" * 600 + "\"}",
        "/",
        "/ ",
        "/Browse",
    ],
)
def test_other_payloads_become_an_invalid_choice(payload):
    assert screening.screen(payload, INTENTS).text == screening.REFUSED_PAYLOAD


@pytest.mark.parametrize(
    "sender,ok",
    [
        ("3f0c9a", True),
        ("a" * 128, True),
        ("user:42@site", True),
        ("", False),
        ("a" * 129, False),
        (42, False),
        (None, False),
        ("x y", False),
        ("é", False),
        (["a"], False),
    ],
)
def test_sender_rules(sender, ok):
    assert (screening.sender_error(sender) is None) is ok


def test_message_rules():
    assert screening.message_error("x") is None
    assert screening.message_error(None) and screening.message_error(12) and screening.message_error({"a": 1})


# --- limits (bot/limits.py) ---------------------------------------------------------------


def test_rate_limiter_allows_a_burst_then_the_rate():
    from bot.limits import RateLimiter

    now = [0.0]
    limiter = RateLimiter(30, clock=lambda: now[0])
    assert [limiter.allow("c") for _ in range(31)] == [True] * 30 + [False]
    assert limiter.allow("other")  # one key's flood is not another's
    now[0] += 2  # 30 a minute: one more every 2 s
    assert limiter.allow("c") and not limiter.allow("c")
    assert RateLimiter(0).allow("c")  # 0 = no limit


def test_rate_limiter_keys_are_bounded():
    from bot.limits import RateLimiter

    limiter = RateLimiter(5, max_keys=100)
    for n in range(1000):
        limiter.allow(f"k{n}")
    assert len(limiter._buckets) == 100


def test_json_nesting_is_measured_outside_strings():
    from bot.limits import json_too_deep

    assert json_too_deep(b"[" * 21 + b"]" * 21, 20) and not json_too_deep(b"[" * 20 + b"]" * 20, 20)
    assert not json_too_deep(b'{"message": "' + b"[" * 500 + b'"}', 20)
    assert not json_too_deep(b'{"message": "\\"[[[[[[[[[[[[[[[[[[[[[[[["}', 20)
    assert json_too_deep(b'{"a": {"b": ' * 30, 20)  # unbalanced: still too deep


def test_client_address_trusts_only_the_configured_proxies():
    from bot.limits import client_address

    assert client_address("10.0.0.1", "6.6.6.6", 0) == "10.0.0.1"  # no proxy: a forged header is ignored
    assert client_address("127.0.0.1", "6.6.6.6, 203.0.113.9", 1) == "203.0.113.9"  # what the proxy wrote
    assert client_address("127.0.0.1", "203.0.113.9", 2) == "127.0.0.1"  # fewer entries than proxies
    assert client_address("127.0.0.1", None, 1) == "127.0.0.1"


def test_metadata_is_kept_only_small_and_an_object():
    from bot.limits import small_metadata

    assert small_metadata({"language": "fr"}, 1024) == {"language": "fr"}
    assert small_metadata('{"language": "fr"}', 1024) == {"language": "fr"}
    assert small_metadata({"x": "y" * 2000}, 1024) is None
    assert small_metadata("[" * 5000, 1024) is None and small_metadata(["a"], 1024) is None
    assert small_metadata("not json", 1024) is None


def test_limit_settings_come_from_the_environment():
    from bot.limits import Settings

    assert Settings.from_env({}) == Settings()
    custom = Settings.from_env(
        {"FAQ_RATE_PER_CONVERSATION": "5", "FAQ_RATE_PER_ADDRESS": "0", "FAQ_TRUSTED_PROXIES": "1"}
    )
    assert (custom.per_conversation, custom.per_address, custom.trusted_proxies) == (5, 0, 1)
    with pytest.raises(ValueError):
        Settings.from_env({"FAQ_RATE_PER_ADDRESS": "beaucoup"})
