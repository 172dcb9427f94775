"""Rasa SDK actions: thin adapters from a Rasa tracker to `bot.conversation` replies."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import conversation, store
from bot.knowledge import default_kb
from bot.vocabulary import Via


def _emit(dispatcher: CollectingDispatcher, reply: conversation.Reply, tracker: Tracker) -> List[Dict[Text, Any]]:
    """Store the reply's records first (so nothing the user saw goes unrecorded), then reply."""
    store.save(tracker.sender_id, reply.records)
    for message in reply.messages:
        dispatcher.utter_message(text=message.text, buttons=message.buttons or None)
    return [SlotSet(name, value) for name, value in reply.slots.items()]


def _entity(tracker: Tracker, name: str) -> Optional[Any]:
    value = next(tracker.get_latest_entity_values(name), None)
    return value if isinstance(value, str) else None


def _first_turn(tracker: Tracker) -> bool:
    """The user's first message of the conversation: the only one of the session, in a session
    that carries no slot over from an earlier one (Rasa starts a new session after a silence or a
    number of events, addons/patches.py, and copies the slots into it)."""
    session: list = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        session.append(event)
    session.reverse()
    users = [i for i, event in enumerate(session) if event.get("event") == "user"]
    if len(users) > 1:
        return False
    before_first_message = session[: users[0]] if users else session
    return not any(event.get("event") == "slot" for event in before_first_message)


class ActionWelcome(Action):
    def name(self) -> Text:
        return "action_welcome"

    def run(self, dispatcher, tracker, domain):
        return _emit(dispatcher, conversation.welcome(default_kb()), tracker)


class ActionGuide(Action):
    """One step of the guided tree; the button's payload carries the whole path."""

    def name(self) -> Text:
        return "action_guide"

    def run(self, dispatcher, tracker, domain):
        return _emit(dispatcher, conversation.guide(default_kb(), _entity(tracker, "facet_path") or ""), tracker)


class ActionAnswerQuestion(Action):
    """A question: a title clicked (confidence 1) or free text ranked by the NLU."""

    def name(self) -> Text:
        return "action_answer_question"

    def run(self, dispatcher, tracker, domain):
        kb = default_kb()
        message = tracker.latest_message or {}
        via = _entity(tracker, "via")
        if via in (Via.GUIDE, Via.SUGGESTION):
            answer = kb.answer_for_intent((message.get("intent") or {}).get("name"))
            return _emit(dispatcher, conversation.answer(kb, answer.id if answer else None, Via(via)), tracker)
        ranking = message.get("intent_ranking") or []
        reply = conversation.free_text(kb, ranking, first_turn=_first_turn(tracker), text=message.get("text") or "")
        return _emit(dispatcher, reply, tracker)


class ActionCapabilities(Action):
    """What the assistant does, or the tree when the message names a subject ("c'est quoi le Ségur ?")."""

    def name(self) -> Text:
        return "action_capabilities"

    def run(self, dispatcher, tracker, domain):
        text = (tracker.latest_message or {}).get("text")
        return _emit(dispatcher, conversation.capabilities(default_kb(), text), tracker)


class ActionFeedback(Action):
    """Oui / Non to "Cette réponse vous a-t-elle été utile ?", kept in the maintainers' database."""

    def name(self) -> Text:
        return "action_feedback"

    def run(self, dispatcher, tracker, domain):
        reply = conversation.feedback(
            default_kb(),
            helpful=(tracker.latest_message.get("intent") or {}).get("name") == "affirm",
            answer_id=_entity(tracker, "answer_id"),
            via=_entity(tracker, "via"),
            last_answer_id=tracker.get_slot(conversation.SLOT_LAST_ANSWER),
            last_via=tracker.get_slot(conversation.SLOT_LAST_VIA),
        )
        return _emit(dispatcher, reply, tracker)
