"""Replies as plain data: what the user sees at each step, without Rasa running."""

import json

import yaml

from bot import conversation as conv
from bot import texts
from bot.knowledge import default_kb
from bot.matching import DecisionKind
from bot.screening import DOMAIN_FILE
from bot.vocabulary import RecordKind, Via

KB = default_kb()


def _payload_entities(payload):
    intent, _, rest = payload[1:].partition("{")
    return intent, (json.loads("{" + rest) if rest else {})


def test_welcome_then_first_question_with_buttons():
    reply = conv.welcome(KB)
    assert reply.messages[0].text == texts.WELCOME
    question = reply.messages[1]
    assert question.text == "Votre question concerne quel type d'offre ?"
    titles = [b["title"] for b in question.buttons]
    assert "Référencement Mon espace santé" in titles and titles[-1] == texts.SKIP_LABEL
    assert texts.RESTART_LABEL not in titles  # nothing to restart yet


def test_a_choice_leads_to_the_next_question_with_restart():
    reply = conv.guide(KB, "offre=mes")
    message = reply.messages[0]
    assert message.text == "Votre question concerne quelle thématique ?"
    assert [b["title"] for b in message.buttons][-2:] == [texts.SKIP_LABEL, texts.RESTART_LABEL]
    intent, entities = _payload_entities(message.buttons[0]["payload"])
    assert intent == "browse" and entities["facet_path"].startswith("offre=mes;thematique=")


def test_listing_shows_titles_that_answer_in_one_click():
    reply = conv.guide(KB, "offre=convergence")
    message = reply.messages[0]
    assert message.text == texts.LISTING
    titles = {b["title"] for b in message.buttons} - {texts.RESTART_LABEL}
    assert "Quels types de comptes un mandataire peut-il créer sur Convergence ?" in titles
    click = next(b for b in message.buttons if b["title"].startswith("Quels types de comptes"))
    intent, entities = _payload_entities(click["payload"])
    assert intent == "ask_convergence_types_comptes" and entities == {"via": "guide"}


def test_single_candidate_is_answered_directly():
    reply = conv.guide(KB, "offre=certifications;produit=label_mcs")
    assert "Suite à la labellisation d’un logiciel" in reply.messages[0].text
    assert reply.messages[1].text == texts.FEEDBACK_QUESTION


def test_answer_is_verbatim_with_title_link_and_feedback_buttons():
    answer = KB.answer("mes_services_eligibles")
    reply = conv.answer(KB, answer.id, Via.FREE_TEXT)
    text = reply.messages[0].text
    assert answer.text in text and answer.title in text and answer.url in text
    assert "\n- applications mobiles ;\n- sites web." in text  # lists stay lists
    assert "\n\n" not in text  # channels would split the answer into pieces
    feedback = reply.messages[1]
    assert feedback.text == "Cette réponse vous a-t-elle été utile ?"
    assert [b["title"] for b in feedback.buttons] == ["Oui", "Non"]
    assert _payload_entities(feedback.buttons[1]["payload"]) == (
        "deny",
        {"answer_id": answer.id, "via": Via.FREE_TEXT},
    )
    assert reply.slots == {conv.SLOT_LAST_ANSWER: answer.id, conv.SLOT_LAST_VIA: Via.FREE_TEXT}


def test_invalid_path_or_unknown_answer_restarts_politely():
    reply = conv.guide(KB, "offre=inexistante")
    assert reply.messages[0].text == texts.INVALID_CHOICE
    assert reply.messages[1].text == KB.facets[0].question
    reply = conv.answer(KB, "nope", Via.GUIDE)
    assert reply.messages[0].text == texts.UNKNOWN_ANSWER and not reply.slots


def _ranking(*pairs):
    return [{"name": n, "confidence": c} for n, c in pairs]


def test_confident_free_text_answers(sure_at_80):
    reply = conv.free_text(KB, _ranking(("ask_qhn_cout_certification", 0.93), ("ask_qhn_iso_9001_13485", 0.03)), False)
    assert KB.answer("qhn_cout_certification").text in reply.messages[0].text
    assert reply.slots[conv.SLOT_LAST_VIA] == Via.FREE_TEXT


def test_close_candidates_ask_did_you_mean_with_three_titles():
    reply = conv.free_text(
        KB,
        _ranking(
            ("ask_mes_catalogue_definition", 0.45),
            ("ask_mes_avantages_referencement", 0.35),
            ("ask_mes_services_eligibles", 0.12),
            ("ask_qhn_cout_certification", 0.05),
        ),
        False,
    )
    message = reply.messages[0]
    assert message.text == "Vouliez-vous dire… ?"
    titles = [b["title"] for b in message.buttons]
    assert titles[:3] == [
        KB.answer(i).title
        for i in ("mes_catalogue_definition", "mes_avantages_referencement", "mes_services_eligibles")
    ]
    assert not reply.slots


def test_nothing_confident_says_so_and_offers_the_tree():
    ranking = _ranking(("out_of_scope", 0.9), ("ask_qhn_cout_certification", 0.05))
    later = conv.free_text(KB, ranking, first_turn=False)
    assert later.messages[0].text == texts.NOT_FOUND
    assert later.messages[-1].text == KB.facets[0].question
    assert all(a.text not in m.text for m in later.messages for a in KB.answers)
    first = conv.free_text(KB, ranking, first_turn=True)
    assert [m.text for m in first.messages[:2]] == [texts.GREETING, texts.NOT_FOUND]
    assert first.messages[-1].text == KB.facets[0].question


def test_an_unplaceable_first_message_is_taken_as_a_hello():
    """Nothing wins, not even out-of-scope ("bonsoir", "test"): the welcome, not "no answer"."""
    ranking = _ranking(("nlu_fallback", 0.3), ("out_of_scope", 0.2), ("greet", 0.2))
    first = conv.free_text(KB, ranking, first_turn=True, text="test")
    assert first.messages[0].text == texts.WELCOME
    assert texts.NOT_FOUND not in [m.text for m in first.messages]
    later = conv.free_text(KB, ranking, first_turn=False, text="test")
    assert later.messages[0].text == texts.NOT_FOUND


def test_feedback_is_recorded_for_the_answer_the_button_names():
    reply = conv.feedback(KB, True, "qhn_cout_certification", "guide", "mes_fonctionnalites", "free_text")
    assert reply.records == [
        conv.Record(RecordKind.FEEDBACK, {"answer_id": "qhn_cout_certification", "helpful": True, "via": Via.GUIDE})
    ]
    assert reply.slots == {conv.SLOT_LAST_ANSWER: None}  # nothing that grows with use
    assert reply.messages[0].text == texts.THANKS_YES


def test_typed_no_applies_to_the_last_answer_and_offers_three_ways_out():
    reply = conv.feedback(KB, False, None, None, "mes_fonctionnalites", "free_text")
    record = reply.records[-1].data
    assert (record["answer_id"], record["helpful"], record["via"]) == ("mes_fonctionnalites", False, Via.FREE_TEXT)
    titles = [b["title"] for b in reply.messages[0].buttons]
    assert titles == ["Poser ma question autrement", "Parcourir la FAQ", "Contacter l'ANS"]


def test_a_via_that_is_none_of_ours_counts_as_free_text():
    reply = conv.feedback(KB, True, "mes_fonctionnalites", "autre", "mes_fonctionnalites", "inconnu")
    assert reply.records[-1].data["via"] == Via.FREE_TEXT


def test_yes_without_any_answer_records_nothing():
    reply = conv.feedback(KB, True, None, None, None, None)
    assert reply.messages[0].text == texts.NO_PENDING_ANSWER and not reply.slots


def test_an_in_domain_question_no_answer_covers_says_so_and_opens_the_tree_where_it_points():
    ranking = _ranking(("ask_qhn_cout_certification", 0.85), ("ask_qhn_iso_9001_13485", 0.05))
    reply = conv.free_text(KB, ranking, first_turn=True, text="Combien de temps dure un audit QHN ?")
    assert [m.text for m in reply.messages[:2]] == [texts.GREETING, texts.NOT_FOUND]
    assert all(a.text not in m.text for m in reply.messages for a in KB.answers)
    listed = [b["title"] for b in reply.messages[-1].buttons]
    assert KB.answer("qhn_cout_certification").title in listed  # the QHN answers, to read for oneself
    assert KB.answer("dmn_ihe_pam_transport").title not in listed
    assert reply.records[-1].kind == RecordKind.UNANSWERED and reply.records[-1].data["kind"] == DecisionKind.NONE


def test_a_message_naming_only_a_subject_gets_the_tree_there_and_records_nothing():
    reply = conv.free_text(
        KB, _ranking(("ask_convergence_types_comptes", 0.9)), first_turn=True, text="une question sur Convergence svp"
    )
    assert reply.messages[-1].text == texts.LISTING
    titles = [b["title"] for b in reply.messages[-1].buttons]
    convergence = [a.title for a in KB.answers if "convergence" in a.values("produit")]
    assert titles == convergence + [texts.RESTART_LABEL]
    assert not reply.records


def test_a_subject_with_one_answer_named_in_free_text_offers_it_by_its_title():
    # the label's one answer is about communicating on it, not about what it is
    reply = conv.free_text(
        KB, _ranking(("ask_label_mcs_communication", 0.9)), first_turn=False, text="c'est quoi le label MCS ?"
    )
    assert all(a.text not in m.text for m in reply.messages for a in KB.answers)
    assert reply.messages[-1].text == texts.LISTING
    assert [b["title"] for b in reply.messages[-1].buttons] == [
        KB.answer("label_mcs_communication").title,
        texts.RESTART_LABEL,
    ]


def test_after_the_faq_does_not_say_a_single_answer_of_the_subject_is_offered_not_shown():
    ranking = _ranking(("out_of_scope", 0.9), ("ask_label_mcs_communication", 0.07))
    reply = conv.free_text(KB, ranking, first_turn=False, text="Le label Maisons et Centres de Santé expire-t-il ?")
    assert reply.messages[0].text == texts.NOT_FOUND
    assert all(a.text not in m.text for m in reply.messages for a in KB.answers)
    assert [b["title"] for b in reply.messages[-1].buttons] == [
        KB.answer("label_mcs_communication").title,
        texts.RESTART_LABEL,
    ]


def test_domain_buttons_are_the_python_ones():
    """domain.yml's responses (utter_thanks) repeat a button of the Python
    replies: same title, same payload, so the two cannot drift apart."""
    python_buttons = {
        b["title"]: b for b in (conv.BROWSE_BUTTON, conv.RESTART_BUTTON, conv.CONTACT_BUTTON, conv.REPHRASE_BUTTON)
    }
    with open(DOMAIN_FILE, encoding="utf-8") as handle:
        responses = yaml.safe_load(handle)["responses"]
    domain_buttons = [b for variants in responses.values() for v in variants for b in v.get("buttons", [])]
    assert domain_buttons, "domain.yml has no button left: drop this test"
    for b in domain_buttons:
        assert b["title"] in python_buttons, f"{b['title']!r}: a button title that is not in bot/texts.py"
        assert b == python_buttons[b["title"]]
    assert conv.BROWSE_BUTTON == {"title": texts.BROWSE_LABEL, "payload": "/browse"} == domain_buttons[0]
