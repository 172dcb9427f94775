"""What a question names: the facet values (offer, couloir, dispositif, product) it mentions.

The words come from `bot/data/faq.yml` (each option's `aliases` and `acronyms`), so the FAQ stays
the one source: a new product is recognised as soon as its entry names it. Aliases are compared
folded (case, accents, punctuation ignored), single words of six letters or more also with one
typo ("convergnece"); acronyms only as written in capitals, since "MES" is a product and "mes" a
French word.

Two uses: an answer whose facets contradict what the user named is never given straight away
(`contradicts`), and a vague message enters the guided tree where it points (`tree_path`).
"""

from __future__ import annotations

import functools
import re
from typing import Dict, FrozenSet, Iterable, List, Mapping, Set, Tuple

from bot.knowledge import Answer, KnowledgeBase
from bot.normalise import fold, one_edit_apart

Mentions = Mapping[str, FrozenSet[str]]  # facet id -> option ids the question names
GUARDED_FACETS = ("offre", "couloir", "dispositif", "produit")  # thematique is what the answer is about
FUZZY_MIN_LENGTH = 6


@functools.lru_cache(maxsize=8)
def _lexicon(kb: KnowledgeBase) -> Dict[str, List[Tuple[str, str]]]:
    """Folded alias -> the (facet, option) pairs it names ("convergence" names an offer and a product)."""
    lexicon: Dict[str, List[Tuple[str, str]]] = {}
    for facet in kb.facets:
        for option in facet.options:
            for alias in option.aliases:
                lexicon.setdefault(fold(alias), []).append((facet.id, option.id))
    return lexicon


_GAP = "|"  # stands where an alias was read, so that the words around it never make another one


@functools.lru_cache(maxsize=4096)
def _read(kb: KnowledgeBase, text: str) -> Tuple[Tuple[Tuple[str, str], ...], str]:
    """The (facet, option) pairs `text` names, and its folded words once the aliases are taken out.

    Longer aliases are read first and taken out of the text, so that "Qualité Hôpital
    Numérique" names QHN and not also the hospital couloir.
    """
    rest = f" {fold(text)} "
    named: List[Tuple[str, str]] = []
    lexicon = _lexicon(kb)
    for alias in sorted(lexicon, key=len, reverse=True):
        if f" {alias} " in rest:
            named += lexicon[alias]
            rest = rest.replace(f" {alias} ", f" {_GAP} ")
    words = rest.split()
    for alias, pairs in lexicon.items():
        if (
            " " not in alias
            and len(alias) >= FUZZY_MIN_LENGTH
            and any(
                len(word) >= FUZZY_MIN_LENGTH and word[0] == alias[0] and one_edit_apart(word, alias) for word in words
            )
        ):
            named += pairs
    for facet in kb.facets:
        for option in facet.options:
            for acronym in option.acronyms:
                if re.search(rf"(?<![A-Za-z0-9]){re.escape(acronym)}(?![A-Za-z0-9])", text):
                    named.append((facet.id, option.id))
                    rest = rest.replace(f" {fold(acronym)} ", f" {_GAP} ")
    return tuple(named), rest


def find(kb: KnowledgeBase, text: str) -> Dict[str, FrozenSet[str]]:
    """The facet values `text` names, by facet; facets it names nothing of are left out."""
    if not isinstance(text, str) or not text.strip():
        return {}
    found: Dict[str, Set[str]] = {}
    for facet_id, option_id in _read(kb, text)[0]:
        found.setdefault(facet_id, set()).add(option_id)
    return {facet_id: frozenset(values) for facet_id, values in found.items()}


def contradicts(answer: Answer, mentions: Mentions) -> bool:
    """The user named values of a facet, the answer has values for it, and none is shared.

    "Combien coûte la certification DMN ?" contradicts the QHN answer on cost (produit qhn);
    an answer silent on a facet (no couloir) contradicts nothing the user says about it.
    """
    for facet_id in GUARDED_FACETS:
        named = mentions.get(facet_id)
        values = answer.values(facet_id)
        if named and values and not (named & values):
            return True
    return False


def tree_path(kb: KnowledgeBase, mentions: Mentions) -> Tuple[Tuple[str, str], ...]:
    """A path of the guided tree with the values the user named already chosen.

    Only a value that alone names one option of its facet is taken (two products named: the
    tree asks), and only while some answer still fits, in the FAQ's order of facets.
    """
    path: Tuple[Tuple[str, str], ...] = ()
    for facet in kb.facets:
        named = mentions.get(facet.id) or frozenset()
        if len(named) != 1:
            continue
        value = next(iter(named))
        candidate = path + ((facet.id, value),)
        if any(all(v in a.values(f) for f, v in candidate) for a in kb.answers):
            path = candidate
    return path


def agreeing(answers: Iterable[Answer], mentions: Mentions) -> Tuple[Answer, ...]:
    return tuple(a for a in answers if not contradicts(a, mentions))


# Words that carry no subject of their own: "j'ai une question sur Convergence" only names a subject.
_EMPTY_WORDS = frozenset(
    "a ai jai au aux avec besoin bonjour c ca ce cela celle cet cette concernant d de des du en est et faire "
    "help info infos information informations j je l la le les m me moi merci mon ma mes n ne nous on "
    "parler pour propos qu que question questions quelque chose renseignement renseignements s sujet sur "
    "svp t te un une vous voudrais voudrai veux aimerais aimerai aide aider plait s il vous plait sil ok oui hello salut "
    "theme thematique rubrique domaine concerne concernent voir savoir certification certifications certif "
    "label referencement programme dispositif produit offre".split()
)
# Words that ask what a subject is ("c'est quoi Convergence", "MES kesako"). Such a message names
# a subject and asks nothing else of it: the tree, unless an answer is known to say what it is.
_WHAT_IS_WORDS = frozenset(
    "quoi kesako kezako kesaco definition definitions presentation exactement concretement sert servent servir "
    "utilite".split()
)
_WHAT_IS = re.compile(r"\b(quoi|kesako|kezako|kesaco|definitions?|presentation|qu est ce|ce qu est|utilite)\b")


def is_vague(kb: KnowledgeBase, text: str) -> bool:
    """The message names a subject and says nothing else ("une question sur Convergence",
    "c'est quoi Convergence ?")."""
    if not isinstance(text, str) or not find(kb, text):
        return False
    _, rest = _read(kb, text)
    return all(w == _GAP or w in _EMPTY_WORDS or w in _WHAT_IS_WORDS for w in rest.split())


def asks_what_it_is(kb: KnowledgeBase, text: str) -> bool:
    """The message only asks what the subject it names is ("qu'est-ce que le catalogue de services ?")."""
    if not isinstance(text, str) or not _WHAT_IS.search(fold(text)):  # most texts: no need to read them
        return False
    return is_vague(kb, text) and bool(_WHAT_IS.search(_read(kb, text)[1]))


def named_values(mentions: Mentions) -> FrozenSet[Tuple[str, str]]:
    """The (facet, option) pairs of `mentions`."""
    return frozenset((facet_id, value) for facet_id, values in mentions.items() for value in values)


@functools.lru_cache(maxsize=None)
def facet_words(kb: KnowledgeBase, answer: Answer) -> str:
    """The labels and aliases of an answer's facet values, as one text (its subject's names)."""
    names = []
    for facet in kb.facets:
        if facet.id not in GUARDED_FACETS:
            continue
        for option in facet.options:
            if option.id in answer.values(facet.id):
                names += [option.label, *option.aliases, *option.acronyms]
    return " ".join(names)
