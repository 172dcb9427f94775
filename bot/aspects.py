"""What a question asks about (a cost, a date or duration, an obligation) against what an answer says.

Vendors ask in-domain questions that no answer covers: how long a QHN audit lasts, whether a
label must be renewed, what a référencement costs. The nearest answer of the same product talks
about something else, and giving it is a wrong answer. When a question asks about one of these
aspects and the chosen answer (its title and text) never speaks of it, the answer is not given
straight away.

The words are few and plain on purpose: each aspect is a question word vendors use, and each
must appear in an answer that really speaks of it. Measured on the training examples of every
answer (`bench/crossval.py`): a guard that blocks an answer's own examples costs right answers.
"""

from __future__ import annotations

import functools
import re
from typing import Dict, FrozenSet, Pattern, Tuple

from bot.knowledge import Answer
from bot.normalise import fold

_COST = (
    r"couts?|coute\w*|prix|tarifs?|tarification|tarife\w*|payante?s?|gratuite?s?|gratuitement|budget\w*"
    r"|factur\w*|montants?|euros?|cher|chere|frais|redevance"
)
_TIME = (
    r"^quand|(a partir de|jusqu a|d ici|depuis) quand|quand (est ce|sera|seront|pourr\w*|faut|doit|doivent|peut"
    r"|peuvent|aura|ouvr\w*|commenc\w*|deposer|candidater|publi\w*)|dates?|delais?|durees?|calendrier|planning"
    r"|echeances?|echeancier|combien de temps|dure|durent|renouvel\w*|valables?|validite|expir\w*|chaque annee"
    r"|tous les ans|jusqu a|deadline|date limite|combien de (jours|mois|semaines|ans|annees)"
)
_MUST = r"obligatoire\w*|obligation\w*|oblige\w*|imposee?s?|contraignant\w*|optionnel\w*|facultati\w*"
_GAIN = r"avantages?|interets?|benefices?|valeur ajoutee|qu est ce qu on y gagne|qu est ce qu on gagne|on y gagne|ca rapporte"

# aspect -> (words that make a question ask about it, words that show an answer speaks of it).
# An answer speaks of an obligation in more ways than a question asks about one ("doit être
# conforme", "est nécessaire"), and of time with its dates and months.
ASPECTS: Dict[str, Tuple[Pattern[str], Pattern[str]]] = {
    "cost": (re.compile(rf"\b({_COST})\b"), re.compile(rf"\b({_COST})\b")),
    "time": (
        re.compile(rf"\b({_TIME})\b"),
        re.compile(
            rf"\b({_TIME}|quand|annuel\w*|a partir d|janvier|fevrier|mars|avril|mai|juin|juillet|aout"
            rf"|septembre|octobre|novembre|decembre|20\d\d)\b"
        ),
    ),
    "obligation": (
        re.compile(rf"\b({_MUST})\b"),
        re.compile(rf"\b({_MUST}|necessaires?|doit|doivent|exige\w*|requise?s?|conformes?|responsable)\b"),
    ),
    # what one gains by it
    "gain": (re.compile(rf"\b({_GAIN})\b"), re.compile(rf"\b({_GAIN}|visibilite|garantie)\b")),
}


@functools.lru_cache(maxsize=4096)
def asked(text: str) -> FrozenSet[str]:
    """The aspects a question asks about."""
    folded = fold(text) if isinstance(text, str) else ""
    return frozenset(name for name, (question, _) in ASPECTS.items() if question.search(folded))


@functools.lru_cache(maxsize=None)
def spoken_of(answer: Answer) -> FrozenSet[str]:
    """The aspects an answer speaks of, in its title or its text."""
    folded = fold(f"{answer.title}\n{answer.text}")
    return frozenset(name for name, (_, spoken) in ASPECTS.items() if spoken.search(folded))


def missing(answer: Answer, text: str) -> FrozenSet[str]:
    """What the question asks about that the answer never speaks of (empty: the answer fits)."""
    return asked(text) - spoken_of(answer)


# --- the subject: a question must share a word with the answer it gets ---------------------

# Words too common in this FAQ's questions to tie a question to an answer.
COMMON_WORDS = frozenset(
    "alors aussi autre autres avec avoir avez avons cela cette comme comment dans depuis doit doivent donc "
    "elle elles encore entre est etre fait faire faut leur leurs mais meme notre nous nos peut peuvent plus "
    "pour pourquoi quand quel quelle quelles quels qui quoi sans sera sont sous tout tous toute toutes tres "
    "votre vous vos cest quest estce faudra faudrait possible question questions bonjour merci".split()
)
_STEM = 5  # words compared on their first letters: "référencer" and "référencement" meet


def _words(folded: str) -> FrozenSet[str]:
    return frozenset(w for w in folded.split() if len(w) >= 3 and w not in COMMON_WORDS)


def _stems(words: FrozenSet[str]) -> FrozenSet[str]:
    return frozenset(w[:_STEM] for w in words)


@functools.lru_cache(maxsize=None)
def subject_words(answer: Answer, facet_words: str = "") -> FrozenSet[str]:
    """The stems an answer is about: its title, its text and the names of its facet values."""
    return _stems(_words(fold(f"{answer.title}\n{answer.text}\n{facet_words}")))


def shares_subject(subject: FrozenSet[str], text: str) -> bool:
    """The question has at least one word of the answer's subject (aspect words aside).

    No text at all (a ranking without its question) checks nothing.
    """
    folded = fold(text) if isinstance(text, str) else ""
    if not folded:
        return True
    asked_words = {w for w in _words(folded) if not any(q.fullmatch(w) for q, _ in ASPECTS.values())}
    return bool(_stems(frozenset(asked_words)) & subject)
