"""Screening of user input, as plain Python."""
import pytest

from bot import input_guard as guard

INTENTS = guard.domain_intents()


def test_builtin_intents_are_not_payload_targets():
    assert "browse" in INTENTS and "ask_qhn_cout_certification" in INTENTS
    assert not {"restart", "session_start", "back", "nlu_fallback"} & INTENTS


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\x00\x01", "\u200b", "\ud800"])
def test_empty_or_invisible_messages_are_answered_at_once(raw):
    verdict = guard.screen(raw, INTENTS)
    assert verdict.text is None and verdict.replies[0]["text"] == guard.EMPTY


def test_too_long_is_refused_politely_without_the_model():
    verdict = guard.screen("a" * (guard.MAX_MESSAGE_CHARS + 1), INTENTS)
    assert verdict.text is None and "1\u202f000 caractères" in verdict.replies[0]["text"]
    assert guard.screen("a" * guard.MAX_MESSAGE_CHARS, INTENTS).text == "a" * guard.MAX_MESSAGE_CHARS


def test_text_is_cleaned():
    assert guard.clean_text("  l’ISO\x00 9001\u2028?\ud83d ") == "l'ISO  9001 ?"
    assert guard.clean_text("e\u0301") == "é"


@pytest.mark.parametrize("payload", [
    "/browse", '/browse{"facet_path":"offre=mes"}', '/ask_qhn_cout_certification{"via":"guide"}',
    '/affirm{"answer_id":"qhn_cout_certification","via":"free_text"}', "/greet",
])
def test_our_payloads_pass(payload):
    assert guard.screen(payload, INTENTS).text == payload


@pytest.mark.parametrize("payload", [
    "/restart", "/session_start", "/back", "/nlu_fallback", "/unknown_intent", '/browse{"facet_path": 42}',
    '/browse{"facet_path": ', '/browse{"other":"x"}', '/browse["a"]', '/affirm{"answer_id": {"a": 1}}',
    "/browse{\"facet_path\": \"" + "x" * 600 + "\"}", "/", "/ ", "/Browse",
])
def test_other_payloads_become_an_invalid_choice(payload):
    assert guard.screen(payload, INTENTS).text == guard.REFUSED_PAYLOAD


@pytest.mark.parametrize("sender,ok", [
    ("3f0c9a", True), ("a" * 128, True), ("user:42@site", True), ("", False), ("a" * 129, False),
    (42, False), (None, False), ("x y", False), ("é", False), (["a"], False),
])
def test_sender_rules(sender, ok):
    assert (guard.sender_error(sender) is None) is ok


def test_message_rules():
    assert guard.message_error("x") is None
    assert guard.message_error(None) and guard.message_error(12) and guard.message_error({"a": 1})
