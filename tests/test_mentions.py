"""What a question names (bot/mentions.py) and what it asks about (bot/aspects.py)."""

import pytest

from bot import aspects, mentions
from bot.knowledge import default_kb

KB = default_kb()


@pytest.mark.parametrize(
    "text, facet, value",
    [
        ("Combien coûte la certification DMN ?", "produit", "dmn"),
        ("certif qualite hopital numerique", "produit", "qhn"),
        ("QUALITÉ HÔPITAL NUMÉRIQUE", "produit", "qhn"),
        ("comptes sur convergnece", "produit", "convergence"),  # one swap of letters
        ("éligible à MES ?", "offre", "mes"),
        ("référencement dans mon espace santé", "produit", "mes_catalogue"),
        ("dossier Ségur de notre LGC", "dispositif", "dsr_lgc"),
        ("notre RIS", "dispositif", "dsr_ris"),
        ("label maisons de santé", "produit", "label_mcs"),
        ("flux HL7 ADT", "produit", "ci_sis"),
    ],
)
def test_named_values_are_found(text, facet, value):
    assert value in mentions.find(KB, text).get(facet, ())


@pytest.mark.parametrize(
    "text",
    [
        "où déposer mes preuves ?",  # "mes", a French word, not the product
        "nos ris de veau",  # "ris" in lower case is not the RIS
        "bonjour",
        "",
    ],
)
def test_ordinary_words_name_nothing(text):
    found = mentions.find(KB, text)
    assert "mes" not in found.get("offre", ()) and "dsr_ris" not in found.get("dispositif", ())


def test_a_longer_name_is_read_before_the_words_inside_it():
    found = mentions.find(KB, "certification Qualité Hôpital Numérique")
    assert found == {"produit": frozenset({"qhn"})}  # not the hospital couloir


def test_contradiction_needs_a_named_value_the_answer_does_not_have():
    qhn_cost = KB.answer("qhn_cout_certification")
    assert mentions.contradicts(qhn_cost, mentions.find(KB, "prix de la certification DMN"))
    assert not mentions.contradicts(qhn_cost, mentions.find(KB, "prix de la certification"))
    assert not mentions.contradicts(qhn_cost, mentions.find(KB, "prix QHN et DMN"))  # one of them fits
    # an answer silent on a facet contradicts nothing named in it
    assert not mentions.contradicts(qhn_cost, mentions.find(KB, "QHN pour notre logiciel d'hôpital (DPI)"))


def test_tree_path_follows_the_faq_order_and_skips_ambiguity():
    path = mentions.tree_path(KB, mentions.find(KB, "pharmacie LGO ségur"))
    assert path == (("offre", "segur"), ("couloir", "officine"), ("dispositif", "dsr_lgo"))
    assert mentions.tree_path(KB, mentions.find(KB, "QHN ou DMN")) == ()


def test_vague_messages_only_name_a_subject():
    assert mentions.is_vague(KB, "j'ai une question sur Convergence")
    assert mentions.is_vague(KB, "jai une question sur convergence")  # typed without the apostrophe
    assert mentions.is_vague(KB, "DMN")
    assert not mentions.is_vague(KB, "Combien coûte la certification QHN ?")
    assert not mentions.is_vague(KB, "une question")  # names nothing


def test_a_message_asking_what_a_subject_is_is_vague_and_says_so():
    for text in (
        "c'est quoi Convergence ?",
        "c quoi convergence",
        "qu'est-ce que le DMN ?",
        "MES kesako",
        "à quoi sert Convergence",
    ):
        assert mentions.is_vague(KB, text) and mentions.asks_what_it_is(KB, text), text
    assert not mentions.asks_what_it_is(KB, "j'ai une question sur Convergence")  # vague, asks nothing
    assert not mentions.asks_what_it_is(KB, "c'est quoi le coût de la certification QHN ?")  # not vague


@pytest.mark.parametrize(
    "text, aspect",
    [
        ("Combien coûte la certification ?", "cost"),
        ("c'est gratuit ?", "cost"),
        ("Combien de temps dure un audit ?", "time"),
        ("Quand pourra-t-on déposer le dossier ?", "time"),
        ("le label doit-il être renouvelé ?", "time"),
        ("Est-ce obligatoire ?", "obligation"),
    ],
)
def test_aspects_asked(text, aspect):
    assert aspect in aspects.asked(text)


def test_quand_as_a_conjunction_asks_nothing():
    assert aspects.asked("qui est responsable quand un prestataire intervient ?") == frozenset()


def test_answers_speak_of_their_own_aspects():
    assert "cost" in aspects.spoken_of(KB.answer("qhn_cout_certification"))
    assert "time" in aspects.spoken_of(KB.answer("mes_calendrier_referencement"))
    assert "obligation" in aspects.spoken_of(KB.answer("mes_referencement_obligatoire"))
    assert aspects.missing(KB.answer("qhn_cout_certification"), "Combien de temps dure l'audit QHN ?") == {"time"}
