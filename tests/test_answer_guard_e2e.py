"""End to end over REST: the bot never gives an answer that does not fit the question.

Against the real Rasa server and action server (trained model): a question that names one product
but reads like another product's answer is asked back, with the named product's answer first; an
in-domain question that no answer of the FAQ covers gets no FAQ answer; a message that only names a
subject opens the guided tree there.
"""

import pytest

from bot import store
from bot import texts as bot_texts
from bot.knowledge import default_kb
from ops.rest_client import answers_offered, answers_shown, buttons, new_sender, send, texts

KB = default_kb()


def _candidates_recorded(sender: str):
    rows = [r for r in store.Store(store.store_url()).rows(store.unanswered) if r["conversation_id"] == sender]
    assert len(rows) == 1, rows
    return [answer_id for answer_id, _ in rows[0]["candidates"]]


def test_a_dmn_question_worded_like_the_qhn_answer_is_asked_back_with_the_dmn_answer_first(bot_url):
    sender = new_sender()
    question = (
        "Notre DMN s'appuie sur des sous-traitants extérieurs à notre organisation : "
        "restons-nous responsables de la conformité de nos processus ?"
    )
    replies = send(bot_url, sender, question)
    assert answers_shown(replies) == [], texts(replies)
    # the NLU's first candidate is the QHN answer on third parties: the wording is its own
    assert _candidates_recorded(sender)[0] == "qhn_processus_tiers"
    assert replies[0]["text"] == bot_texts.DID_YOU_MEAN
    titles = [b["title"] for b in replies[0]["buttons"]]
    assert titles[0] == KB.answer("dmn_mandat_composants_tiers").title
    assert KB.answer("qhn_processus_tiers").title not in titles


@pytest.mark.parametrize(
    "question",
    [
        "Combien de temps dure un audit de certification QHN ?",
        "Le label Maisons et Centres de Santé doit-il être renouvelé tous les ans ?",
        "Le référencement Ségur est-il obligatoire pour vendre notre DPI ?",
        "Combien coûte la certification DMN ?",
        "Quel est le délai d'instruction d'une demande de référencement dans Mon espace santé ?",
        "mot de passe oublié sur Convergence, comment le réinitialiser ?",
    ],
)
def test_in_domain_questions_no_answer_covers_get_no_faq_answer(bot_url, question):
    sender = new_sender()
    send(bot_url, sender, "bonjour")
    replies = send(bot_url, sender, question)
    assert answers_shown(replies) == [], texts(replies)
    assert bot_texts.FEEDBACK_QUESTION not in texts(replies)
    # asked back, or told plainly, with a way on: the tree or a choice of answers
    assert replies[0]["text"] in (bot_texts.DID_YOU_MEAN, bot_texts.NOT_FOUND)
    assert buttons(replies)


def test_a_message_naming_only_a_product_opens_the_tree_there(bot_url):
    replies = send(bot_url, new_sender(), "j'ai une question sur la certification QHN")
    assert answers_shown(replies) == []
    assert replies[-1]["text"] == bot_texts.LISTING
    titles = {b["title"] for b in buttons(replies)}
    qhn = {a.title for a in KB.answers if "qhn" in a.values("produit")}
    assert qhn <= titles and not {a.title for a in KB.answers if "dmn" in a.values("produit")} & titles


def test_what_a_subject_is_gets_the_tree_unless_an_answer_says_it(bot_url):
    # the accounts answer names Convergence but does not say what it is: the tree opens there
    replies = send(bot_url, new_sender(), "c quoi convergence")
    assert answers_shown(replies) == [], texts(replies)
    assert replies[-1]["text"] == bot_texts.LISTING
    # taken by the NLU for a question about the assistant, a subject named still opens the tree
    replies = send(bot_url, new_sender(), "c'est quoi le ségur")
    assert answers_shown(replies) == [] and replies[-1]["text"] == bot_texts.LISTING, texts(replies)
    # the catalogue's answer does (data/nlu.yml asks it so): it is given
    replies = send(bot_url, new_sender(), "qu'est-ce que le catalogue de services ?")
    assert answers_shown(replies) == ["mes_catalogue_definition"], texts(replies)


def test_the_answers_offered_are_read_from_the_did_you_mean_buttons_in_order(bot_url):
    # what bench/quality.py counts as "one click from the answer"
    question = (
        "Notre DMN s'appuie sur des sous-traitants extérieurs à notre organisation : "
        "restons-nous responsables de la conformité de nos processus ?"
    )
    replies = send(bot_url, new_sender(), question)
    offered = answers_offered(replies)
    assert offered and offered[0] == "dmn_mandat_composants_tiers"
    titles = [b["title"] for b in replies[0]["buttons"]]
    assert titles == [KB.answer(a).title for a in offered] + [bot_texts.NONE_OF_THESE_LABEL, bot_texts.BROWSE_LABEL]
    answered = send(bot_url, new_sender(), "Quel est le coût de la certification QHN ?")
    assert answers_shown(answered) == ["qhn_cout_certification"] and answers_offered(answered) == []
