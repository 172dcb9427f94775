"""The FAQ knowledge base, loaded from the one data file that holds every answer.

`bot/data/faq.yml` is the single source of truth: answer texts (the ANS's words, verbatim),
titles, links and facet values. Everything else (tree, buttons, intents) is derived from it.

An answer marked `status: draft` (added by `make import-faq APPLY=1` from the ANS's site, its
title and facets still to write) is left out of the bot: not in `answers`, not in the tree, no
intent. `KnowledgeBase.drafts` lists them with what they still miss (`Draft.missing`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Tuple

import yaml

FAQ_FILE = Path(__file__).parent / "data" / "faq.yml"
INTENT_PREFIX = "ask_"


class KnowledgeBaseError(ValueError):
    """The data file is inconsistent (unknown facet value, duplicate id...)."""


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    aliases: Tuple[str, ...] = ()  # how vendors name it, compared folded (bot/mentions.py)
    acronyms: Tuple[str, ...] = ()  # compared as written: "MES" is the product, "mes" a French word


@dataclass(frozen=True)
class Facet:
    """One of the five qualifying questions of the FAQ page, with its options."""

    id: str
    question: str
    options: Tuple[Option, ...]

    def option(self, option_id: str) -> Optional[Option]:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Answer:
    id: str
    title: str
    title_source: str
    url: str
    text: str
    facets: Dict[str, FrozenSet[str]] = field(hash=False, compare=False)

    @property
    def intent(self) -> str:
        return INTENT_PREFIX + self.id

    def values(self, facet_id: str) -> FrozenSet[str]:
        return self.facets.get(facet_id, frozenset())


DRAFT = "draft"


@dataclass(frozen=True)
class Draft:
    """An answer being written: its entry in faq.yml as it stands (nothing checked but its id)."""

    id: str
    entry: Dict = field(hash=False, compare=False)

    @property
    def intent(self) -> str:
        return INTENT_PREFIX + self.id

    def missing(self, facets: Tuple[Facet, ...]) -> List[str]:
        """What is still to write before `status: draft` can go (French, for the maintainers)."""
        entry = self.entry
        out = []
        if not str(entry.get("title") or "").strip():
            out.append("titre (title)")
        if entry.get("title_source") not in ("ans", "ours"):
            out.append("origine du titre (title_source: ans ou ours)")
        if not str(entry.get("url") or "").startswith("https://"):
            out.append("lien officiel (url)")
        if not str(entry.get("text") or "").strip():
            out.append("texte (text)")
        known = {f.id: {o.id for o in f.options} for f in facets}
        values = entry.get("facets") or {}
        if not values.get("offre"):
            out.append("facettes (facets), au moins le type d'offre")
        for facet_id, option_ids in values.items():
            if facet_id not in known:
                out.append(f"facette inconnue {facet_id!r}")
            elif set(option_ids or ()) - known[facet_id]:
                out.append(f"valeurs inconnues de {facet_id} : {sorted(set(option_ids) - known[facet_id])}")
        return out


@dataclass(frozen=True)
class KnowledgeBase:
    facets: Tuple[Facet, ...]
    answers: Tuple[Answer, ...]
    drafts: Tuple[Draft, ...] = ()

    def facet(self, facet_id: str) -> Optional[Facet]:
        return next((f for f in self.facets if f.id == facet_id), None)

    def answer(self, answer_id: str) -> Optional[Answer]:
        return self._by_id.get(answer_id)

    def answer_for_intent(self, intent: str) -> Optional[Answer]:
        if not intent or not intent.startswith(INTENT_PREFIX):
            return None
        return self.answer(intent[len(INTENT_PREFIX) :])

    @property
    def intents(self) -> List[str]:
        return [a.intent for a in self.answers]

    @functools.cached_property
    def _by_id(self) -> Dict[str, Answer]:
        return {a.id: a for a in self.answers}

    def __hash__(self) -> int:
        """The dataclass's hash (of its fields), computed once: the knowledge base is the key of
        the caches of bot/mentions.py, bot/aspects.py and bot/wording.py, looked up several times
        per question, and hashing it walks every answer and facet."""
        return self._hash

    @functools.cached_property
    def _hash(self) -> int:
        return hash((self.facets, self.answers, self.drafts))


def _parse(doc: dict) -> KnowledgeBase:
    facets = tuple(
        Facet(
            id=f["id"],
            question=f["question"],
            options=tuple(
                Option(
                    id=o["id"],
                    label=o["label"],
                    aliases=tuple(o.get("aliases") or ()),
                    acronyms=tuple(o.get("acronyms") or ()),
                )
                for o in f["options"]
            ),
        )
        for f in doc["facets"]
    )
    known = {f.id: {o.id for o in f.options} for f in facets}
    answers, drafts = [], []
    for a in doc["answers"]:
        status = a.get("status")
        if status == DRAFT:
            drafts.append(Draft(id=str(a.get("id") or ""), entry=dict(a)))
            continue
        if status is not None:
            raise KnowledgeBaseError(f"{a.get('id')}: status must be absent or 'draft'")
        values = {}
        for facet_id, option_ids in (a.get("facets") or {}).items():
            if facet_id not in known:
                raise KnowledgeBaseError(f"{a['id']}: unknown facet {facet_id!r}")
            unknown = set(option_ids) - known[facet_id]
            if unknown:
                raise KnowledgeBaseError(f"{a['id']}: unknown {facet_id} values {sorted(unknown)}")
            values[facet_id] = frozenset(option_ids)
        if a.get("title_source") not in ("ans", "ours"):
            raise KnowledgeBaseError(f"{a['id']}: title_source must be 'ans' or 'ours'")
        answers.append(
            Answer(
                id=a["id"],
                title=a["title"],
                title_source=a["title_source"],
                url=a["url"],
                text=a["text"].rstrip("\n"),
                facets=values,
            )
        )
    ids = [a.id for a in answers] + [d.id for d in drafts]
    if len(ids) != len(set(ids)):
        raise KnowledgeBaseError("duplicate answer ids")
    if not all(ids):
        raise KnowledgeBaseError("an answer has no id")
    return KnowledgeBase(facets=facets, answers=tuple(answers), drafts=tuple(drafts))


def load(path: Path = FAQ_FILE) -> KnowledgeBase:
    with open(path, encoding="utf-8") as handle:
        return _parse(yaml.safe_load(handle))


@functools.lru_cache(maxsize=1)
def default_kb() -> KnowledgeBase:
    """The knowledge base, read once per process (not once per message)."""
    return load()
