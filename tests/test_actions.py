"""The Rasa SDK actions, run with a real Tracker and CollectingDispatcher."""

import json

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerQuestion, ActionCapabilities, ActionFeedback, ActionGuide, ActionWelcome
from bot import texts
from bot.knowledge import default_kb

KB = default_kb()


def tracker(intent, text="", entities=(), ranking=None, slots=None, user_turns=1, sender="test-sender"):
    events = [{"event": "session_started"}] + [{"event": "user", "text": "x"}] * user_turns
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "intent_ranking": ranking if ranking is not None else [{"name": intent, "confidence": 1.0}],
        "entities": [{"entity": k, "value": v} for k, v in entities],
    }
    return Tracker(sender, slots or {}, message, events, False, None, {}, "action_listen")


def run(action, t):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {})
    return dispatcher.messages, events


def test_welcome_action():
    messages, events = run(ActionWelcome(), tracker("greet", "bonjour"))
    assert messages[0]["text"] == texts.WELCOME
    assert messages[1]["text"] == KB.facets[0].question and messages[1]["buttons"]
    assert events == []


def test_guide_action_reads_the_path_from_the_button():
    messages, _ = run(ActionGuide(), tracker("browse", entities=[("facet_path", "offre=certifications;produit=qhn")]))
    assert messages[0]["text"] == texts.LISTING
    assert {b["title"] for b in messages[0]["buttons"]} >= {"Quel est le coût d'une certification ?"}


def test_guide_action_with_non_string_path_restarts():
    messages, _ = run(ActionGuide(), tracker("browse", entities=[("facet_path", {"offre": "mes"})]))
    assert messages[0]["text"] == KB.facets[0].question


def test_capabilities_present_the_assistant_unless_the_message_names_a_subject():
    messages, events = run(ActionCapabilities(), tracker("capabilities", "tu sais faire quoi ?"))
    assert [(m["text"], [b["title"] for b in m["buttons"]]) for m in messages] == [
        (texts.CAPABILITIES, [texts.BROWSE_LABEL])
    ]
    assert events == []
    messages, events = run(ActionCapabilities(), tracker("capabilities", "c'est quoi le ségur ?"))
    assert messages[0]["text"] == texts.LISTING
    segur = [a.title for a in KB.answers if "segur" in a.values("offre")]
    assert [b["title"] for b in messages[0]["buttons"]] == segur + [texts.RESTART_LABEL]


def test_clicked_title_answers_and_sets_slots():
    t = tracker("ask_qhn_iso_9001_13485", entities=[("via", "guide")])
    messages, events = run(ActionAnswerQuestion(), t)
    assert KB.answer("qhn_iso_9001_13485").text in messages[0]["text"]
    assert messages[1]["text"] == texts.FEEDBACK_QUESTION
    assert {(e["name"], e["value"]) for e in events} == {
        ("last_answer_id", "qhn_iso_9001_13485"),
        ("last_answer_via", "guide"),
    }


def test_free_text_uses_the_nlu_ranking(sure_at_80):
    ranking = [{"name": "ask_fi_role_mandataire", "confidence": 0.95}, {"name": "greet", "confidence": 0.01}]
    messages, events = run(
        ActionAnswerQuestion(), tracker("ask_fi_role_mandataire", "qui est mandataire", ranking=ranking)
    )
    assert KB.answer("fi_role_mandataire").text in messages[0]["text"]
    assert ("last_answer_via", "free_text") in {(e["name"], e["value"]) for e in events}


def test_an_off_topic_first_message_gets_a_hello_and_not_found_later_ones_not_found():
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "out_of_scope", "confidence": 0.8}]
    first, _ = run(ActionAnswerQuestion(), tracker("nlu_fallback", "quel temps fait-il", ranking=ranking, user_turns=1))
    later, _ = run(ActionAnswerQuestion(), tracker("nlu_fallback", "quel temps fait-il", ranking=ranking, user_turns=3))
    assert [m["text"] for m in first[:2]] == [texts.GREETING, texts.NOT_FOUND]
    assert later[0]["text"] == texts.NOT_FOUND


def test_a_new_session_of_the_same_conversation_is_not_a_first_turn():
    """Rasa starts a new session after a silence or a number of events and carries the slots over:
    the next unclear question gets "not found", not the welcome again."""
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "out_of_scope", "confidence": 0.8}]
    t = tracker("nlu_fallback", "blabla", ranking=ranking, user_turns=1)
    carried = {"event": "slot", "name": "last_answer_id", "value": "fi_role_mandataire"}
    t.events = [t.events[0], carried, *t.events[1:]]
    messages, _ = run(ActionAnswerQuestion(), t)
    assert messages[0]["text"] == texts.NOT_FOUND


def test_feedback_action_sets_no_slot_that_grows():
    t = tracker(
        "deny",
        entities=[("answer_id", "mes_fonctionnalites"), ("via", "guide")],
        slots={"last_answer_id": "mes_fonctionnalites"},
    )
    messages, events = run(ActionFeedback(), t)
    assert [(e["name"], e["value"]) for e in events] == [("last_answer_id", None)]
    assert messages[0]["text"] == texts.THANKS_NO
    json.dumps(events)  # events must travel back to Rasa as JSON
