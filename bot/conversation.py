"""The assistant's replies, as plain data: messages with buttons, and slot values to set.

Every function here is pure: given the knowledge base and what the user did, it returns a
`Reply`. The Rasa actions only hand these to the dispatcher.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from bot import matching, tree
from bot.knowledge import Answer, KnowledgeBase

WELCOME = (
    "Bonjour ! Je suis l'assistant de la FAQ des industriels de l'Agence du Numérique en Santé. "
    "Répondez à quelques questions pour trouver votre réponse, ou écrivez directement votre question."
)
FEEDBACK_QUESTION = "Cette réponse vous a-t-elle été utile ?"
DID_YOU_MEAN = "Vouliez-vous dire… ?"
NOT_FOUND = (
    "Je n'ai pas trouvé de réponse à cette question dans la FAQ des industriels. "
    "Je préfère vous le dire plutôt que de vous donner une réponse approximative."
)
BROWSE_INSTEAD = "Vous pouvez aussi parcourir la FAQ en quelques questions :"
LISTING = "Voici les questions qui correspondent à vos choix :"
NOTHING_LISTED = "Aucune question de la FAQ ne correspond à ces choix. Reprenons depuis le début."
INVALID_CHOICE = "Je n'ai pas reconnu ce choix. Reprenons depuis le début."
UNKNOWN_ANSWER = "Je ne trouve pas cette question dans la FAQ. Reprenons depuis le début."
THANKS_YES = "Merci pour votre retour ! Vous pouvez poser une autre question ou parcourir la FAQ."
THANKS_NO = "Merci pour votre retour. Que souhaitez-vous faire ?"
NO_PENDING_ANSWER = "Très bien. Posez votre question ou parcourez la FAQ."
SKIP_LABEL = "Je ne sais pas"
RESTART_LABEL = "Recommencer"

SLOT_LAST_ANSWER = "last_answer_id"
SLOT_LAST_VIA = "last_answer_via"
VIA_GUIDE, VIA_FREE_TEXT, VIA_SUGGESTION = "guide", "free_text", "suggestion"


@dataclass
class Message:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Record:
    """A fact for the maintainers' report, stored (bot/store.py) before the user sees the reply.

    kind: "answer_shown" | "feedback" | "unanswered"; data: the matching `Store.record_*` arguments.
    """

    kind: str
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


BROWSE_BUTTON = button("Parcourir la FAQ", "browse")
RESTART_BUTTON = button(RESTART_LABEL, "browse")
CONTACT_BUTTON = button("Contacter l'ANS", "human_handoff")
REPHRASE_BUTTON = button("Poser ma question autrement", "rephrase")


# --- the guided tree -------------------------------------------------------------------


def welcome(kb: KnowledgeBase) -> Reply:
    return Reply([Message(WELCOME)]) + guide(kb, "")


def guide(kb: KnowledgeBase, raw_path: Optional[str], open_single: bool = True) -> Reply:
    """The tree's next step after the choices in `raw_path` (from a button).

    One answer left is shown, unless `open_single` is off: after "the FAQ does not say", the one
    answer of the subject is offered by its title, not shown as if it answered the question.
    """
    try:
        path = tree.parse_path(kb, raw_path)
    except tree.InvalidPath:
        return Reply([Message(INVALID_CHOICE)]) + guide(kb, "")
    step = tree.next_step(kb, path)
    if isinstance(step, tree.Question):
        return Reply([_question_message(step)])
    if not step.answers:
        return Reply([Message(NOTHING_LISTED)]) + guide(kb, "")
    if len(step.answers) == 1 and open_single:
        return answer(kb, step.answers[0].id, VIA_GUIDE)
    buttons = [button(a.title, a.intent, via=VIA_GUIDE) for a in step.answers]
    return Reply([Message(LISTING, buttons + [RESTART_BUTTON])])


def _question_message(step: "tree.Question") -> Message:
    facet = step.facet
    buttons = [
        button(option.label, "browse", facet_path=tree.format_path(tree.extend(step.path, facet.id, option.id)))
        for option, _ in step.options
    ]
    buttons.append(
        button(SKIP_LABEL, "browse", facet_path=tree.format_path(tree.extend(step.path, facet.id, tree.SKIP)))
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
    return f"**{answer.title}**\n{answer.text}\nEn savoir plus : {answer.url}"


def answer(kb: KnowledgeBase, answer_id: Optional[str], via: str) -> Reply:
    found = kb.answer(answer_id) if isinstance(answer_id, str) else None
    if found is None:
        return Reply([Message(UNKNOWN_ANSWER)]) + guide(kb, "")
    feedback = Message(
        FEEDBACK_QUESTION,
        [button("Oui", "affirm", answer_id=found.id, via=via), button("Non", "deny", answer_id=found.id, via=via)],
    )
    return Reply(
        [Message(format_answer(found)), feedback],
        {SLOT_LAST_ANSWER: found.id, SLOT_LAST_VIA: via},
        [Record("answer_shown", {"answer_id": found.id, "via": via})],
    )


# --- free text -------------------------------------------------------------------------


def free_text(kb: KnowledgeBase, ranking: Sequence[dict], first_turn: bool, text: str = "") -> Reply:
    """Answer, ask back, or say plainly that the FAQ has no answer.

    A question not answered with confidence is kept (`text`, candidates) for the maintainers.
    """
    decision = matching.decide(kb, ranking, text or "")
    if decision.kind == matching.DecisionKind.ANSWER:
        return answer(kb, decision.answer_ids[0], VIA_FREE_TEXT)
    if decision.kind == matching.DecisionKind.BROWSE:
        return guide(kb, tree.format_path(decision.path))
    return _free_text_reply(kb, decision, first_turn) + Reply(
        records=[
            Record(
                "unanswered",
                {"text": text or "", "kind": decision.kind.value, "candidates": [list(c) for c in decision.scores]},
            )
        ]
    )


def _free_text_reply(kb: KnowledgeBase, decision: "matching.Decision", first_turn: bool) -> Reply:
    if decision.kind == matching.DecisionKind.SUGGEST:
        buttons = [
            button(kb.answer(aid).title, kb.answer(aid).intent, via=VIA_SUGGESTION) for aid in decision.answer_ids
        ]
        buttons += [button("Aucune de ces questions", "rephrase"), BROWSE_BUTTON]
        return Reply([Message(DID_YOU_MEAN, buttons)])
    if first_turn and not decision.path and decision.reason in (matching.Reason.UNSURE, matching.Reason.OUT_OF_SCOPE):
        return welcome(kb)
    return Reply([Message(NOT_FOUND, [CONTACT_BUTTON]), Message(BROWSE_INSTEAD)]) + guide(
        kb, tree.format_path(decision.path), open_single=False
    )


def _via(value: Optional[str]) -> Optional[str]:
    return value if value in (VIA_GUIDE, VIA_FREE_TEXT, VIA_SUGGESTION) else None


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
        return Reply([Message(NO_PENDING_ANSWER, [BROWSE_BUTTON])])
    via = _via(via) or (last_via if target == last_answer_id else None) or VIA_FREE_TEXT
    slots = {SLOT_LAST_ANSWER: None}
    stored = [Record("feedback", {"answer_id": target, "helpful": helpful, "via": via})]
    if helpful:
        return Reply([Message(THANKS_YES, [BROWSE_BUTTON])], slots, stored)
    return Reply([Message(THANKS_NO, [REPHRASE_BUTTON, BROWSE_BUTTON, CONTACT_BUTTON])], slots, stored)
