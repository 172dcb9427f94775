"""What to do with a free-text question, given the NLU's intent ranking and the question's words.

A wrong answer costs the user more than a question back: the ANS's text is official, and a
vendor trusts it. So an answer is given straight away only when three signals agree:
- the bot is sure enough that the NLU's best FAQ candidate is the right answer: `AnswerModel` weighs
  the ranking (the three best FAQ candidates, out of scope) and how the question's words fit the
  candidate's wording (`bot.wording`);
- the winner's facets do not contradict what the question names (a DMN question never gets a
  QHN-only answer: `bot.mentions`);
- the winner speaks of what the question asks about (a question on how long an audit lasts
  never gets the answer on what it costs: `bot.aspects`).
Otherwise: "Vouliez-vous dire… ?" with the candidates that fit the question's words, or an honest
"the FAQ does not say" with the guided tree opened where the question points.

The answer model and its threshold are fitted by cross-validation on the training data alone
(`python -m bench.crossval --write`, figures in bench/RESULTS.md), never on an evaluation set.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from bot import aspects, mentions
from bot.knowledge import Answer, KnowledgeBase
from bot.vocabulary import TextEnum
from bot.wording import Wording, default_wording

OUT_OF_SCOPE_INTENT = "out_of_scope"
SUGGESTIONS = 3


@dataclass(frozen=True)
class Thresholds:
    """What is worth suggesting once the bot has decided not to answer straight away."""

    suggest: float = 0.10  # a candidate this weak is not worth a button...
    suggest_named: float = 0.0  # ...unless the winner was set aside for the product the user named
    out_of_scope_wins: float = 0.50  # an out-of-scope ranking this sure suppresses suggestions


# What AnswerModel weighs, in this order: the confidences of the three best FAQ candidates and of
# out of scope (as log-odds), the question's content words known to the assistant but never used
# with the best candidate (bot/wording.py), their share of the question's content words, and that
# number of content words.
SIGNALS = ("best", "second", "third", "out_of_scope", "strays", "stray_share", "words")
ANSWER_MODEL_FILE = Path(__file__).parent / "data" / "answer_model.json"


# Confidences below this weigh as this: a ranking without a third FAQ candidate (or without out of
# scope) does not weigh far beyond the smallest confidences Rasa's rankings hold. Chosen by
# cross-validation with the answer model (bench/crossval.py).
LOG_ODDS_FLOOR = 1e-3


def log_odds(p: float) -> float:
    """log(p / (1 - p)), p kept within LOG_ODDS_FLOOR of 0 and 1: the confidences of a ranking spread
    over orders of magnitude."""
    p = min(max(p, LOG_ODDS_FLOOR), 1 - LOG_ODDS_FLOOR)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class AnswerModel:
    """How likely the best FAQ candidate is the right answer: a logistic regression over SIGNALS.

    Fitted on the cross-validation rankings of data/nlu.yml: each held-out example says whether the
    best candidate was its answer; the threshold gives the most right answers with at most 0.5 %
    wrong and 97 % of out-of-scope examples without an answer (bench/crossval.py)."""

    weights: Tuple[float, ...]
    bias: float
    threshold: float  # answer straight away at or above this probability

    def probability(self, signals: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def sure(self, signals: Sequence[float]) -> bool:
        return self.probability(signals) >= self.threshold

    def to_json(self) -> dict:
        return {"signals": list(SIGNALS), "weights": list(self.weights), "bias": self.bias, "threshold": self.threshold}

    @classmethod
    def from_json(cls, doc: Mapping) -> "AnswerModel":
        if list(doc.get("signals") or []) != list(SIGNALS):
            raise ValueError(f"the answer model weighs {doc.get('signals')}, the bot computes {list(SIGNALS)}")
        return cls(tuple(float(w) for w in doc["weights"]), float(doc["bias"]), float(doc["threshold"]))


@functools.lru_cache(maxsize=1)
def answer_model_record() -> dict:
    """bot/data/answer_model.json as written by `python -m bench.crossval --write`: the model and what
    it was fitted on."""
    return json.loads(ANSWER_MODEL_FILE.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def default_answer_model() -> AnswerModel:
    """The answer model of bot/data/answer_model.json."""
    return AnswerModel.from_json(answer_model_record())


def signals(
    faq: Sequence[Tuple[Answer, float]], out_of_scope: float, text: str, words: Optional[Wording]
) -> Tuple[float, ...]:
    """SIGNALS of a question whose FAQ candidates are `faq` (best first, at least one)."""
    confidences = [conf for _, conf in faq[:3]] + [0.0] * (3 - len(faq[:3]))
    strays, content = words.strays(faq[0][0], text) if words is not None and text else (0, 0)
    return (
        *(log_odds(c) for c in confidences),
        log_odds(out_of_scope),
        float(strays),
        strays / content if content else 0.0,
        float(content),
    )


THRESHOLDS = Thresholds()


class DecisionKind(TextEnum):
    """Stored as text with the unanswered questions (bot/store.py): the values never change."""

    ANSWER = "answer"
    SUGGEST = "suggest"  # "Vouliez-vous dire… ?"
    NONE = "none"  # the FAQ does not say; the tree, opened where the question points
    BROWSE = "browse"  # a message that only names a subject: the tree, opened there


class Reason(str, Enum):
    """Why a free-text question was not answered straight away (for the record and the tests)."""

    CLEAR = "clear"
    UNSURE = "unsure"  # no clear winner
    CONTRADICTS = "contradicts"  # the winner's facets contradict what the question names
    OFF_SUBJECT = "off_subject"  # the winner does not speak of what the question asks, or shares no word with it
    OUT_OF_SCOPE = "out_of_scope"
    VAGUE = "vague"


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    answer_ids: Tuple[str, ...] = ()
    scores: Tuple[Tuple[str, float], ...] = ()  # FAQ candidates as ranked, for the record
    reason: Reason = Reason.CLEAR
    path: Tuple[Tuple[str, str], ...] = ()  # where to open the tree (values the question named)


def _confidence(entry: Mapping) -> float:
    try:
        return float(entry.get("confidence") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def faq_candidates(kb: KnowledgeBase, ranking: Iterable[Mapping]) -> List[Tuple[Answer, float]]:
    """The FAQ answers of Rasa's `intent_ranking`, best first."""
    ranked = sorted(
        ((r.get("name"), _confidence(r)) for r in ranking if isinstance(r, Mapping)), key=lambda item: -item[1]
    )
    return [(kb.answer_for_intent(name), conf) for name, conf in ranked if kb.answer_for_intent(name)]


def out_of_scope_confidence(ranking: Iterable[Mapping]) -> float:
    """The confidence of the out_of_scope intent in Rasa's ranking (0 when it is not ranked)."""
    return max(
        (_confidence(r) for r in ranking if isinstance(r, Mapping) and r.get("name") == OUT_OF_SCOPE_INTENT),
        default=0.0,
    )


def decide(
    kb: KnowledgeBase,
    ranking: Iterable[Mapping],
    text: str = "",
    thresholds: Optional[Thresholds] = None,
    words: Optional[Wording] = None,
    model: Optional[AnswerModel] = None,
) -> Decision:
    """`ranking` is Rasa's `intent_ranking`: [{"name": ..., "confidence": ...}, ...]; `text` the question;
    `words` what each answer is asked with (default: bot/data/faq.yml and data/nlu.yml); `model` the
    answer model (default: bot/data/answer_model.json)."""
    t = thresholds or THRESHOLDS
    model = model or default_answer_model()
    text = text if isinstance(text, str) else ""
    ranking = [r for r in (ranking or []) if isinstance(r, Mapping)]
    faq = faq_candidates(kb, ranking)
    scores = tuple((a.id, round(conf, 4)) for a, conf in faq[:SUGGESTIONS])
    named = mentions.find(kb, text)
    path = mentions.tree_path(kb, named)
    out_of_scope = out_of_scope_confidence(ranking)

    words = words or default_wording(kb)

    def fits(answer: Answer) -> bool:
        return (
            not mentions.contradicts(answer, named)
            and not aspects.missing(answer, text)
            and aspects.shares_subject(aspects.subject_words(answer, mentions.facet_words(kb, answer)), text)
        )

    def model_is_sure() -> bool:
        return model.sure(signals(faq, out_of_scope, text, words))

    if path and mentions.is_vague(kb, text):
        # "c'est quoi Convergence ?": the tree, unless the best answer is known to say what it is
        # ("qu'est-ce que le catalogue de services ?"); the answer that merely names it does not.
        if (
            faq
            and mentions.asks_what_it_is(kb, text)
            and words.says_what_it_is(faq[0][0], mentions.named_values(named))
            and fits(faq[0][0])
            and model_is_sure()
        ):
            return Decision(DecisionKind.ANSWER, (faq[0][0].id,), scores)
        return Decision(DecisionKind.BROWSE, (), scores, Reason.VAGUE, path)

    reason = Reason.UNSURE
    if faq:
        best = faq[0][0]
        clear = model_is_sure()
        if clear and fits(best):
            return Decision(DecisionKind.ANSWER, (best.id,), scores)
        if mentions.contradicts(best, named):
            reason = Reason.CONTRADICTS
        elif clear:
            reason = Reason.OFF_SUBJECT
    if out_of_scope >= t.out_of_scope_wins:
        return Decision(DecisionKind.NONE, (), scores, Reason.OUT_OF_SCOPE, path)
    # When the winner contradicts what the question names, the candidates that agree with it come
    # first even if the NLU ranks them low: "Combien coûte la certification DMN ?" gets the DMN answers.
    floor = t.suggest_named if reason == Reason.CONTRADICTS else t.suggest
    suggested = tuple(a.id for a, conf in faq if conf >= floor and fits(a))[:SUGGESTIONS]
    if suggested:
        return Decision(DecisionKind.SUGGEST, suggested, scores, reason, path)
    return Decision(DecisionKind.NONE, (), scores, reason, path)
