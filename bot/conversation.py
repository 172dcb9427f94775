"""The assistant's replies, as plain data: messages with buttons, and slot values to set.

Every function here is pure: given the knowledge base and what the user did, it returns a
`Reply`. The Rasa actions only hand these to the dispatcher.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from bot import matching, texts, tree
from bot.knowledge import Answer, KnowledgeBase
from bot.vocabulary import RecordKind, Via

SLOT_LAST_ANSWER = "last_answer_id"
SLOT_LAST_VIA = "last_answer_via"


@dataclass
class Message:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Record:
    """A fact for the maintainers' report, stored (bot/store.py) before the user sees the reply.

    data: the matching `Store.record_*` arguments.
    """

    kind: RecordKind
    data: Dict[str, Any]


@dataclass
class Reply:
    messages: List[Message] = field(default_factory=list)
    slots: Dict[str, Any] = field(default_factory=dict)
    records: List[Record] = field(default_factory=list)

    def __add__(self, other: "Reply") -> "Reply":
        return Reply(self.messages + other.messages, {**self.slots, **other.slots}, self.records + other.records)


def payload(intent: str, **entities: str) -> str:
    """A button payload Rasa parses without the NLU: `/intent{"entity": "value"}`."""
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}" if entities else f"/{intent}"


def button(title: str, intent: str, **entities: str) -> Dict[str, str]:
    return {"title": title, "payload": payload(intent, **entities)}


BROWSE_BUTTON = button(texts.BROWSE_LABEL, "browse")  # also in domain.yml's utter_thanks
RESTART_BUTTON = button(texts.RESTART_LABEL, "browse")
CONTACT_BUTTON = button(texts.CONTACT_LABEL, "human_handoff")
REPHRASE_BUTTON = button(texts.REPHRASE_LABEL, "rephrase")


# --- the guided tree -------------------------------------------------------------------


def welcome(kb: KnowledgeBase) -> Reply:
    return Reply([Message(texts.WELCOME)]) + guide(kb, "")


def guide(kb: KnowledgeBase, raw_path: Optional[str], open_single: bool = True) -> Reply:
    """The tree's next step after the choices in `raw_path` (from a button).

    One answer left is shown, unless `open_single` is off: after "the FAQ does not say", the one
    answer of the subject is offered by its title, not shown as if it answered the question.
    """
    try:
        path = tree.parse_path(kb, raw_path)
    except tree.InvalidPath:
        return Reply([Message(texts.INVALID_CHOICE)]) + guide(kb, "")
    step = tree.next_step(kb, path)
    if isinstance(step, tree.Question):
        return Reply([_question_message(step)])
    if not step.answers:
        return Reply([Message(texts.NOTHING_LISTED)]) + guide(kb, "")
    if len(step.answers) == 1 and open_single:
        return answer(kb, step.answers[0].id, Via.GUIDE)
    buttons = [button(a.title, a.intent, via=Via.GUIDE) for a in step.answers]
    return Reply([Message(texts.LISTING, buttons + [RESTART_BUTTON])])


def _question_message(step: "tree.Question") -> Message:
    facet = step.facet
    buttons = [
        button(option.label, "browse", facet_path=tree.format_path(tree.extend(step.path, facet.id, option.id)))
        for option, _ in step.options
    ]
    buttons.append(
        button(texts.SKIP_LABEL, "browse", facet_path=tree.format_path(tree.extend(step.path, facet.id, tree.SKIP)))
    )
    if step.path:
        buttons.append(RESTART_BUTTON)
    return Message(facet.question, buttons)


# --- answers ---------------------------------------------------------------------------


def format_answer(answer: Answer) -> str:
    """Title, the ANS's text word for word (its lines and lists kept), and the link.

    One message: Rasa's channels split a text on blank lines, so lines are joined by a
    single newline.
    """
    return f"**{answer.title}**\n{answer.text}\n{texts.ANSWER_LINK_LABEL} {answer.url}"


def answer(kb: KnowledgeBase, answer_id: Optional[str], via: Via) -> Reply:
    found = kb.answer(answer_id) if isinstance(answer_id, str) else None
    if found is None:
        return Reply([Message(texts.UNKNOWN_ANSWER)]) + guide(kb, "")
    feedback = Message(
        texts.FEEDBACK_QUESTION,
        [
            button(texts.YES_LABEL, "affirm", answer_id=found.id, via=via),
            button(texts.NO_LABEL, "deny", answer_id=found.id, via=via),
        ],
    )
    return Reply(
        [Message(format_answer(found)), feedback],
        {SLOT_LAST_ANSWER: found.id, SLOT_LAST_VIA: via},
        [Record(RecordKind.ANSWER_SHOWN, {"answer_id": found.id, "via": via})],
    )


# --- free text -------------------------------------------------------------------------


def free_text(kb: KnowledgeBase, ranking: Sequence[dict], first_turn: bool, text: str = "") -> Reply:
    """Answer, ask back, or say plainly that the FAQ has no answer.

    A question not answered with confidence is kept (`text`, candidates) for the maintainers.
    """
    decision = matching.decide(kb, ranking, text or "")
    if decision.kind == matching.DecisionKind.ANSWER:
        return answer(kb, decision.answer_ids[0], Via.FREE_TEXT)
    if decision.kind == matching.DecisionKind.BROWSE:
        # "c'est quoi le label MCS ?": its one answer is offered by its title, not shown as if it said so
        return guide(kb, tree.format_path(decision.path), open_single=False)
    return _free_text_reply(kb, decision, first_turn) + Reply(
        records=[
            Record(
                RecordKind.UNANSWERED,
                {"text": text or "", "kind": decision.kind.value, "candidates": [list(c) for c in decision.scores]},
            )
        ]
    )


def capabilities(kb: KnowledgeBase, text: Optional[str]) -> Reply:
    """What the assistant does ("que savez-vous faire ?"). A message the NLU takes for that question
    but that only names a subject ("c'est quoi le Ségur ?") gets the tree there, as any vague message."""
    decision = matching.decide(kb, [], text or "")  # no FAQ candidate: only a vague message opens the tree
    if decision.kind == matching.DecisionKind.BROWSE:
        return guide(kb, tree.format_path(decision.path), open_single=False)
    return Reply([Message(texts.CAPABILITIES, [BROWSE_BUTTON])])


def _free_text_reply(kb: KnowledgeBase, decision: "matching.Decision", first_turn: bool) -> Reply:
    if decision.kind == matching.DecisionKind.SUGGEST:
        buttons = [
            button(kb.answer(aid).title, kb.answer(aid).intent, via=Via.SUGGESTION) for aid in decision.answer_ids
        ]
        buttons += [button(texts.NONE_OF_THESE_LABEL, "rephrase"), BROWSE_BUTTON]
        return Reply([Message(texts.DID_YOU_MEAN, buttons)])
    if first_turn and not decision.path and decision.reason == matching.Reason.UNSURE:
        return welcome(kb)  # a first message the NLU cannot place ("bonsoir", "test") is taken as a hello
    not_found = Reply([Message(texts.NOT_FOUND, [CONTACT_BUTTON]), Message(texts.BROWSE_INSTEAD)]) + guide(
        kb, tree.format_path(decision.path), open_single=False
    )
    # A first message that is plainly off the FAQ ("quel temps fait-il ?") is told so, after a hello.
    return Reply([Message(texts.GREETING)]) + not_found if first_turn else not_found


def _via(value: Optional[str]) -> Optional[Via]:
    """A `via` read from a button or a slot, if it is one."""
    try:
        return Via(value)
    except ValueError:
        return None


# --- feedback --------------------------------------------------------------------------


def feedback(
    kb: KnowledgeBase,
    helpful: bool,
    answer_id: Optional[str],
    via: Optional[str],
    last_answer_id: Optional[str],
    last_via: Optional[str],
) -> Reply:
    """Record "utile ?" (Oui / Non) for the answer the button names, or the last one shown.

    The record goes to the maintainers' database only (one row per conversation and answer, the
    last word counts): nothing piles up in the conversation, which Rasa sends whole to the action
    server on every message."""
    target = answer_id if isinstance(answer_id, str) and kb.answer(answer_id) else last_answer_id
    if not target or kb.answer(target) is None:
        return Reply([Message(texts.NO_PENDING_ANSWER, [BROWSE_BUTTON])])
    via = _via(via) or (_via(last_via) if target == last_answer_id else None) or Via.FREE_TEXT
    slots = {SLOT_LAST_ANSWER: None}
    stored = [Record(RecordKind.FEEDBACK, {"answer_id": target, "helpful": helpful, "via": via})]
    if helpful:
        return Reply([Message(texts.THANKS_YES, [BROWSE_BUTTON])], slots, stored)
    return Reply([Message(texts.THANKS_NO, [REPHRASE_BUTTON, BROWSE_BUTTON, CONTACT_BUTTON])], slots, stored)
