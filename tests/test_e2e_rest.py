"""End to end over the REST channel, against a real `rasa run` and action server."""

from concurrent.futures import ThreadPoolExecutor

from bot import texts as bot_texts
from bot.knowledge import default_kb
from ops.rest_client import answers_shown, click, new_sender, send, texts

KB = default_kb()


def test_greeting_buttons_clicks_answer_feedback(bot_url):
    sender = new_sender()
    replies = send(bot_url, sender, "Bonjour")
    assert texts(replies).startswith(bot_texts.WELCOME)
    assert replies[-1]["text"] == "Votre question concerne quel type d'offre ?"
    replies = click(
        bot_url, sender, replies, "Certifications et labels (QHN, DMN, label e-santé Maisons et Centres de Santé)"
    )
    assert replies[-1]["text"] == "Votre question concerne quel produit ou service produit?"
    replies = click(bot_url, sender, replies, "QHN")
    assert replies[-1]["text"] == bot_texts.LISTING
    replies = click(bot_url, sender, replies, "Quel est le coût d'une certification ?")
    assert answers_shown(replies) == ["qhn_cout_certification"]
    assert KB.answer("qhn_cout_certification").text in replies[0]["text"]
    assert replies[-1]["text"] == "Cette réponse vous a-t-elle été utile ?"
    replies = click(bot_url, sender, replies, "Oui")
    assert replies[0]["text"] == bot_texts.THANKS_YES


def test_free_question_with_typo_gets_its_answer_then_feedback(bot_url):
    replies = send(bot_url, new_sender(), "combien coute une certfication QHN ?")
    assert answers_shown(replies) == ["qhn_cout_certification"]
    assert replies[-1]["text"] == bot_texts.FEEDBACK_QUESTION


def test_an_off_topic_first_message_is_told_the_faq_does_not_cover_it(bot_url):
    replies = send(bot_url, new_sender(), "quel temps fait-il à Paris ?")
    assert answers_shown(replies) == []
    assert [r["text"] for r in replies[:2]] == [bot_texts.GREETING, bot_texts.NOT_FOUND]
    assert replies[-1]["text"] == KB.facets[0].question


def test_off_topic_question_gets_no_faq_answer(bot_url):
    sender = new_sender()
    send(bot_url, sender, "bonjour")
    replies = send(bot_url, sender, "quelle est la recette de la tarte aux pommes ?")
    assert answers_shown(replies) == []
    assert replies[0]["text"] == bot_texts.NOT_FOUND
    assert replies[-1]["text"] == KB.facets[0].question


def test_no_then_contact(bot_url):
    sender = new_sender()
    replies = send(bot_url, sender, '/ask_mes_fonctionnalites{"via":"guide"}')
    replies = click(bot_url, sender, replies, "Non")
    assert replies[0]["text"] == bot_texts.THANKS_NO
    replies = click(bot_url, sender, replies, "Contacter l'ANS")
    assert "ans-support-convergence@esante.gouv.fr" in texts(replies)


def test_restart_and_an_old_button_still_work(bot_url):
    sender = new_sender()
    first = send(bot_url, sender, "salut")
    replies = click(bot_url, sender, first, "Référencement Mon espace santé")
    replies = click(bot_url, sender, replies, "Recommencer")
    assert replies[-1]["text"] == KB.facets[0].question
    # a button from the very first message, clicked now
    replies = click(bot_url, sender, first, "Convergence / doctrine du numérique en santé")
    assert replies[-1]["text"] == bot_texts.LISTING


def test_small_talk_in_french(bot_url):
    sender = new_sender()
    assert "plaisir" in texts(send(bot_url, sender, "merci beaucoup"))
    assert "Au revoir" in texts(send(bot_url, sender, "au revoir"))
    assert "FAQ des industriels" in texts(send(bot_url, sender, "que sais-tu faire ?"))
    assert "industriels.esante.gouv.fr" in texts(send(bot_url, sender, "je veux parler à un humain"))


def test_two_senders_in_parallel_do_not_share_state(bot_url):
    def guided_answer(n):
        sender = new_sender()
        replies = send(
            bot_url,
            sender,
            '/ask_qhn_cout_certification{"via":"guide"}' if n % 2 else '/ask_mes_fonctionnalites{"via":"guide"}',
        )
        replies2 = send(bot_url, sender, "non")
        return n, answers_shown(replies), replies2

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(guided_answer, range(16)))
    for n, shown, after in results:
        assert shown == (["qhn_cout_certification"] if n % 2 else ["mes_fonctionnalites"])
        assert after[0]["text"] == bot_texts.THANKS_NO
    # a sender who never saw an answer has nothing to give feedback on
    fresh = send(bot_url, new_sender(), "oui")
    assert fresh[0]["text"] == bot_texts.NO_PENDING_ANSWER
