"""The words each answer is asked and spoken about with, against the words of a new question.

An in-domain question the FAQ does not answer ("mot de passe oublié sur Convergence, comment le
réinitialiser ?") often gets a confident NLU score for the nearest answer of the same product. What
gives it away is its words: several of them are known to the assistant (they occur somewhere in
its training data or its answers) but never with this answer, neither in its title, its text, the
names of its facet values nor the examples it was trained on. Such a question is not answered
straight away; the answer is offered as a suggestion instead.

A word the assistant has never seen at all (a typo, a new term) says nothing either way and is not
counted. Words are compared on their first letters, after folding (bot/normalise.py), so that
"référencer" and "référencement" meet. The limits are chosen by cross-validation on data/nlu.yml,
each fold's vocabulary built from its own training part only (bench/crossval.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Mapping, Tuple

import yaml

from bot import aspects
from bot.knowledge import Answer, KnowledgeBase
from bot.normalise import fold, one_edit_apart

NLU_FILE = Path(__file__).resolve().parents[1] / "data" / "nlu.yml"
STEM = 5  # letters compared
MIN_LENGTH = 4  # shorter words (articles, "MES", "DPI"...) are left to the facets (bot/mentions.py)


def parse_examples(text: str) -> Dict[str, List[str]]:
    """The text of a Rasa NLU file: intent -> its examples."""
    doc = yaml.safe_load(text) or {}
    examples: Dict[str, List[str]] = {}
    for block in doc.get("nlu") or []:
        if "intent" not in block:
            continue
        lines = [
            line.strip()[2:].strip()
            for line in str(block.get("examples") or "").splitlines()
            if line.strip().startswith("- ")
        ]
        examples.setdefault(block["intent"], []).extend(lines)
    return examples


def read_examples(path: Path = NLU_FILE) -> Dict[str, List[str]]:
    """data/nlu.yml (the bot's training data): intent -> its examples."""
    return parse_examples(Path(path).read_text(encoding="utf-8"))


def stems(text: str) -> FrozenSet[str]:
    """The content words of a text, folded and cut to their first letters."""
    folded = fold(text) if isinstance(text, str) else ""
    return frozenset(w[:STEM] for w in folded.split() if len(w) >= MIN_LENGTH and w not in aspects.COMMON_WORDS)


@dataclass(frozen=True)
class Wording:
    """Per answer id, the stems it is known with; and every stem the assistant knows. And per
    answer id, the subjects it says what they are: the facet values named by its title or
    examples that only ask what a subject is ("catalogue MES c'est quoi")."""

    by_answer: Mapping[str, FrozenSet[str]]
    known: FrozenSet[str]
    defines: Mapping[str, FrozenSet[Tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def build(cls, kb: KnowledgeBase, examples: Mapping[str, Iterable[str]]) -> "Wording":
        from bot import mentions

        by_answer: Dict[str, FrozenSet[str]] = {}
        defines: Dict[str, FrozenSet[Tuple[str, str]]] = {}
        for answer in kb.answers:
            own = stems(f"{answer.title}\n{answer.text}\n{mentions.facet_words(kb, answer)}")
            for example in examples.get(answer.intent, ()):
                own |= stems(example)
            by_answer[answer.id] = own
            defines[answer.id] = frozenset().union(
                *(
                    mentions.named_values(mentions.find(kb, question))
                    for question in (answer.title, *examples.get(answer.intent, ()))
                    if mentions.asks_what_it_is(kb, question)
                )
            )
        known = frozenset().union(*by_answer.values(), *(stems(e) for lines in examples.values() for e in lines))
        return cls(by_answer, known, defines)

    def says_what_it_is(self, answer: Answer, named: FrozenSet[Tuple[str, str]]) -> bool:
        """The answer is known to say what each of these subjects is."""
        return bool(named) and named <= self.defines.get(answer.id, frozenset())

    def unknown_to(self, answer: Answer, text: str) -> FrozenSet[str]:
        """The question's words the assistant knows, but never with this answer; a word one typo
        away from one of the answer's own is its own ("certfication" for "certification")."""
        own = self.by_answer.get(answer.id, frozenset())
        return frozenset(
            stem for stem in (stems(text) & self.known) - own if not any(one_edit_apart(stem, o) for o in own)
        )

    def strays(self, answer: Answer, text: str) -> Tuple[int, int]:
        """How many of the question's content words are known to the assistant but never used with
        this answer, and how many content words it has."""
        return len(self.unknown_to(answer, text)), len(stems(text))


@functools.lru_cache(maxsize=4)
def _default(kb: KnowledgeBase, path: Path) -> Wording:
    return Wording.build(kb, read_examples(path) if path.exists() else {})


def default_wording(kb: KnowledgeBase) -> Wording:
    """The wording of `kb` with the examples of data/nlu.yml (built once per knowledge base)."""
    return _default(kb, NLU_FILE)
