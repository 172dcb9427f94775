"""The maintainers' grouping (maintenance/grouping.py): its thresholds chosen by cross-validation on
data/nlu.yml, then judged on the tests' held-out set.

    python -m bench.grouping            # -> bench/GROUPING.md (and prints it)

Cross-validation, on the folds of bench/crossval.py: for each fold, a grouper learns from the other
folds' examples; the fold's examples that would reach the maintainers' report are the questions: the
FAQ examples the bot does not answer straight away (replayed on the deployed classifier's held-out
rankings, each fold decided by an answer model fitted on the other folds, with their three FAQ
candidates as the bot stores them) and the out_of_scope examples.
- Near-miss rule (`NearMissRule`): each question judged alone, on a grid of the three thresholds. A
  proposal is right when it names the question's own answer; an out_of_scope question proposed as an
  answer's wording is a wrong proposal. Chosen: the best F0.5 of the proposals' precision and of
  their recall over the FAQ questions (precision weighs twice: a maintainer who trusts a wrong
  proposal teaches the bot a wrong answer).
- Grouping similarity: each fold's questions clustered at each threshold. Two questions of the same
  answer in one group are a right pair; two of different answers, or an out_of_scope question with a
  FAQ question, a wrong pair (two out_of_scope questions: no label says whether they ask the same).
  Chosen: the best F0.5 of the grouped pairs' precision and of the right pairs' recall.
Then the chosen values are judged once on tests/data/heldout.yml (the questions the bot's model does
not answer straight away), never tuned on it.
"""

from __future__ import annotations

import argparse
import itertools
import math
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bench import crossval
from bench.common import HELDOUT, ROOT, evaluation_set, log, training_examples
from maintenance import grouping
from maintenance.grouping import Grouper, NearMissRule, Question

REPORT = ROOT / "bench" / "GROUPING.md"
MODEL = ROOT / "models" / "faq.tar.gz"  # the bot's model (`make train`)
BETA = 0.5  # F-measure's beta: precision weighs twice as much as recall
MIN_NLU = tuple(round(0.05 * i, 2) for i in range(1, 13))  # 0.05 .. 0.60
MIN_TEXT = tuple(round(0.05 * i, 2) for i in range(13))  # 0 .. 0.60
STRONG_TEXT = tuple(round(0.40 + 0.05 * i, 2) for i in range(13)) + (math.inf,)  # 0.40 .. 1.00, and never
SIMILARITY = tuple(round(0.15 + 0.05 * i, 2) for i in range(11))  # 0.15 .. 0.65


@dataclass
class Judged:
    """One question as the grouping sees it alone: its answer (None: out of scope), noise or not,
    and its closeness to the answers and to the out_of_scope examples."""

    text: str
    expected: Optional[str]
    noise: bool
    closest: List[grouping.Closeness]
    out_of_scope: float


@dataclass
class Fold:
    grouper: Grouper
    questions: List[Judged] = field(default_factory=list)


def _judged(grouper: Grouper, question: Question, expected: Optional[str]) -> Judged:
    closest, out_of_scope = grouper.closeness([question.text], [1], [question])
    return Judged(question.text, expected, bool(grouper.noise_reason([question.text], [1])), closest, out_of_scope)


def reported_questions(predictions: crossval.Predictions) -> Dict[int, List[Tuple[Question, Optional[str]]]]:
    """Per fold, the held-out examples that reach the report (not answered straight away), with the
    candidates the bot stores, and their answer (None: out of scope). Each fold is decided by an answer
    model fitted on the other folds' rankings (the bot's own was fitted on every fold's), at the
    threshold cross-validation chooses."""
    from bot import matching
    from bot.knowledge import default_kb

    kb = default_kb()
    words = crossval.fold_wording(kb, tuple(predictions.examples))
    rows = crossval.cases(predictions)
    models = crossval.fold_models(rows)
    chosen = crossval.choose(crossval.threshold_curve(rows, crossval.held_out_probabilities(rows, models)))
    threshold = chosen[0] if chosen else matching.default_answer_model().threshold
    models = {fold: replace(model, threshold=threshold) for fold, model in models.items()}
    out: Dict[int, List[Tuple[Question, Optional[str]]]] = {}
    for example, ranking in zip(predictions.examples, predictions.rankings):
        expected = kb.answer_for_intent(example.intent)
        if expected is None and example.intent != grouping.OUT_OF_SCOPE:
            continue  # chit-chat and commands get their own replies
        ranked = [{"name": n, "confidence": c} for n, c in ranking]
        decision = matching.decide(kb, ranked, example.text, None, words[example.fold], models[example.fold])
        if decision.kind == matching.DecisionKind.ANSWER:
            continue
        question = Question(example.text, decision.kind.value, decision.scores)
        out.setdefault(example.fold, []).append((question, expected.id if expected else None))
    return out


def _answers() -> List[grouping.AnswerText]:
    from bot.knowledge import default_kb

    return [grouping.AnswerText(a.id, a.title, a.text) for a in default_kb().answers]


def cross_validated_folds(predictions: crossval.Predictions) -> List[Fold]:
    answers = _answers()
    folds = []
    for fold, questions in sorted(reported_questions(predictions).items()):
        train: Dict[str, List[str]] = {}
        for e in predictions.examples:
            if e.fold != fold:
                train.setdefault(e.intent, []).append(e.text)
        grouper = Grouper(train, answers)
        folds.append(Fold(grouper, [_judged(grouper, q, expected) for q, expected in questions]))
    return folds


# --- near-miss proposals --------------------------------------------------------------------


@dataclass
class Proposals:
    faq: int = 0  # FAQ questions
    right: int = 0  # proposed as a wording of their own answer
    wrong: int = 0  # proposed as a wording of another answer
    out_of_scope: int = 0
    out_of_scope_proposed: int = 0  # out_of_scope questions proposed as an answer's wording
    faq_noise: int = 0  # FAQ questions taken for noise
    out_of_scope_noise: int = 0

    @property
    def precision(self) -> float:
        proposed = self.right + self.wrong + self.out_of_scope_proposed
        return self.right / proposed if proposed else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.faq if self.faq else 0.0

    @property
    def f(self) -> float:
        return _f(self.precision, self.recall)


def proposals(folds: Sequence[Fold], rule: NearMissRule) -> Proposals:
    tally = Proposals()
    for fold in folds:
        for q in fold.questions:
            proposed = None if q.noise else fold.grouper.near_miss(q.closest, q.out_of_scope, [q.text], rule)
            if q.expected is None:
                tally.out_of_scope += 1
                tally.out_of_scope_noise += q.noise
                tally.out_of_scope_proposed += proposed is not None
            else:
                tally.faq += 1
                tally.faq_noise += q.noise
                tally.right += proposed is not None and proposed.answer_id == q.expected
                tally.wrong += proposed is not None and proposed.answer_id != q.expected
    return tally


def choose_rule(folds: Sequence[Fold]) -> Tuple[NearMissRule, Proposals, List[Tuple[NearMissRule, Proposals]]]:
    """The rule of best F0.5 (ties: the stricter)."""
    grid = [
        NearMissRule(nlu, text, strong)
        for nlu, text, strong in itertools.product(MIN_NLU, MIN_TEXT, STRONG_TEXT)
        if strong >= text
    ]
    scored = [(rule, proposals(folds, rule)) for rule in grid]
    rule, tally = max(
        scored, key=lambda item: (round(item[1].f, 4), item[0].min_nlu, item[0].min_text, item[0].strong_text)
    )
    return rule, tally, scored


# --- groups -----------------------------------------------------------------------------------


@dataclass
class Pairs:
    right: int = 0  # grouped, same answer
    wrong: int = 0  # grouped, two answers or an out_of_scope question with a FAQ one
    to_find: int = 0  # pairs of questions of the same answer
    groups: int = 0

    @property
    def precision(self) -> float:
        return self.right / (self.right + self.wrong) if self.right + self.wrong else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.to_find if self.to_find else 0.0

    @property
    def f(self) -> float:
        return _f(self.precision, self.recall)


def _f(precision: float, recall: float) -> float:
    b2 = BETA * BETA
    return (1 + b2) * precision * recall / (b2 * precision + recall) if precision + recall else 0.0


def pairs(grouper: Grouper, questions: Sequence[Tuple[str, Optional[str]]], similarity: float) -> Pairs:
    """How `questions` (text, answer or None) group at `similarity`."""
    labels = {grouping.normalise(text): expected for text, expected in questions}
    keys = sorted(k for k in labels if k)
    tally = Pairs()
    answers = [labels[k] for k in keys if labels[k] is not None]
    tally.to_find = sum(n * (n - 1) // 2 for n in (answers.count(a) for a in set(answers)))
    for members in grouper.clusters(keys, similarity):
        tally.groups += 1
        for i, j in itertools.combinations(members, 2):
            a, b = labels[keys[i]], labels[keys[j]]
            if a is None and b is None:
                continue
            tally.right += a == b
            tally.wrong += a != b
    return tally


def _sum(tallies: Sequence[Pairs]) -> Pairs:
    return Pairs(*(sum(getattr(t, name) for t in tallies) for name in ("right", "wrong", "to_find", "groups")))


def choose_similarity(folds: Sequence[Fold]) -> Tuple[float, Pairs, List[Tuple[float, Pairs]]]:
    """The threshold of best F0.5 (ties: the higher)."""
    scored = []
    for similarity in SIMILARITY:
        scored.append(
            (
                similarity,
                _sum([pairs(f.grouper, [(q.text, q.expected) for q in f.questions], similarity) for f in folds]),
            )
        )
    similarity, tally = max(scored, key=lambda item: (round(item[1].f, 4), item[0]))
    return similarity, tally, scored


# --- the held-out set -------------------------------------------------------------------------


def judge_heldout(rule: NearMissRule, similarity: float, model: Path) -> Tuple[Proposals, Pairs]:
    """The chosen values on tests/data/heldout.yml: a grouper of all of data/nlu.yml; the questions
    the bot (`model`, trained on all of data/nlu.yml) does not answer straight away, each judged
    alone with the candidates the bot stores, then all grouped."""
    import asyncio

    from rasa.core.agent import Agent

    from bot import matching
    from bot.knowledge import default_kb

    kb = default_kb()
    agent = Agent.load(str(model))
    held = evaluation_set(path=HELDOUT)

    async def parse_all() -> List[dict]:
        return [await agent.parse_message(q.text) for q in held]

    grouper = Grouper(training_examples(), _answers(), similarity, rule)
    questions = []
    for q, parsed in zip(held, asyncio.run(parse_all())):
        decision = matching.decide(kb, parsed.get("intent_ranking") or [], q.text)
        if decision.kind != matching.DecisionKind.ANSWER:
            questions.append((Question(q.text, decision.kind.value, decision.scores), q.expected))
    fold = Fold(grouper, [_judged(grouper, question, expected) for question, expected in questions])
    return proposals([fold], rule), pairs(grouper, [(q.text, expected) for q, expected in questions], similarity)


# --- report -----------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def _strong(rule: NearMissRule) -> str:
    return "never" if math.isinf(rule.strong_text) else f"{rule.strong_text:.2f}"


def render(
    rule: NearMissRule,
    chosen: Proposals,
    rule_curve: List[Tuple[NearMissRule, Proposals]],
    similarity: float,
    grouped: Pairs,
    similarity_curve: List[Tuple[float, Pairs]],
    held: Tuple[Proposals, Pairs],
    examples: int,
) -> str:
    deployed = (grouping.NEAR_MISS_RULE, grouping.GROUP_MIN_SIMILARITY)
    lines = [
        "# Grouping of unanswered questions: thresholds and figures",
        "",
        "`python -m bench.grouping` (part of `make bench`): the thresholds of `maintenance/grouping.py`, chosen by "
        f"cross-validation on `data/nlu.yml` ({examples} examples, the folds of `bench/crossval.py`), then judged "
        "once on `tests/data/heldout.yml`. How it is done: the docstring of `bench/grouping.py`.",
        "",
        f"- Near-miss rule chosen: NLU score ≥ {rule.min_nlu:.2f} and text ≥ {rule.min_text:.2f}"
        + (", never on the text alone" if math.isinf(rule.strong_text) else f", or text ≥ {rule.strong_text:.2f}")
        + f" (best F{BETA:g} of the proposals' precision and recall).",
        f"- Grouping similarity chosen: {similarity:.2f} (best F{BETA:g} of the grouped pairs' precision and recall).",
        f"- In `maintenance/grouping.py` today: NLU ≥ {deployed[0].min_nlu:.2f} and text ≥ {deployed[0].min_text:.2f}, "
        + ("never on the text alone" if math.isinf(deployed[0].strong_text) else f"or text ≥ {_strong(deployed[0])}")
        + f", similarity {deployed[1]:.2f}"
        + (" (the chosen values)." if deployed == (rule, similarity) else ": NOT the chosen values."),
        "",
        "## Cross-validation",
        "",
        f"Questions: {chosen.faq} FAQ examples not answered straight away, {chosen.out_of_scope} out_of_scope examples.",
        "",
        "| rule: NLU / text / strong text | right proposals (of FAQ questions) | wrong answer proposed "
        "| out_of_scope proposed | proposals right | FAQ taken for noise | out_of_scope taken for noise |",
        "|---|---|---|---|---|---|---|",
    ]
    shown = [(rule, chosen)] + [(r, p) for r, p in rule_curve if r == deployed[0] and r != rule]
    for r, p in shown:
        name = "chosen" if r == rule else "today's"
        lines.append(
            f"| {name}: {r.min_nlu:.2f} / {r.min_text:.2f} / {_strong(r)} | {p.right} ({_pct(p.recall)}) "
            f"| {p.wrong} | {p.out_of_scope_proposed} | {_pct(p.precision)} | {p.faq_noise} | {p.out_of_scope_noise} |"
        )
    lines += [
        "",
        f"Near-miss proposals by rule (per strong-text threshold, the rule of best F{BETA:g}):",
        "",
        f"| strong text ≥ | NLU ≥ / text ≥ | right proposals | proposals right | F{BETA:g} |",
        "|---|---|---|---|---|",
    ]
    for strong in STRONG_TEXT:
        candidates = [(r, p) for r, p in rule_curve if r.strong_text == strong]
        if candidates:
            r, p = max(candidates, key=lambda item: item[1].f)
            lines.append(
                f"| {_strong(r)} | {r.min_nlu:.2f} / {r.min_text:.2f} | {p.right} ({_pct(p.recall)}) "
                f"| {_pct(p.precision)} | {p.f:.3f} |"
            )
    lines += [
        "",
        "Groups by similarity threshold (pairs of questions in one group):",
        "",
        f"| similarity ≥ | groups | right pairs (of pairs to find) | grouped pairs right | F{BETA:g} |",
        "|---|---|---|---|---|",
    ]
    for s, p in similarity_curve:
        mark = " (chosen)" if s == similarity else ""
        lines.append(f"| {s:.2f}{mark} | {p.groups} | {p.right} ({_pct(p.recall)}) | {_pct(p.precision)} | {p.f:.3f} |")
    proposed, held_pairs = held
    lines += [
        "",
        "## Judged on tests/data/heldout.yml",
        "",
        f"The chosen values, a grouper of all of data/nlu.yml; the {proposed.faq + proposed.out_of_scope} questions "
        "of the tests' held-out set (never trained on) that the bot (`models/faq.tar.gz`) does not answer straight "
        "away, each judged alone with the candidates the bot stores, then all grouped:",
        "",
        "| measure | result |",
        "|---|---|",
        f"| FAQ questions proposed as a wording of their own answer | {proposed.right} of {proposed.faq} |",
        f"| FAQ questions proposed as a wording of another answer | {proposed.wrong} |",
        f"| out-of-scope questions proposed as an answer's wording | {proposed.out_of_scope_proposed} of "
        f"{proposed.out_of_scope} |",
        f"| FAQ questions taken for noise | {proposed.faq_noise} |",
        f"| out-of-scope questions taken for noise | {proposed.out_of_scope_noise} of {proposed.out_of_scope} |",
        f"| groups | {held_pairs.groups} |",
        f"| grouped pairs that are right (precision) | {_pct(held_pairs.precision)} |",
        f"| pairs of questions of one answer grouped (recall) | {_pct(held_pairs.recall)} |",
        "",
    ]
    return "\n".join(lines)


def run(out: Path = REPORT, model: Path = MODEL) -> str:
    examples = crossval.folds(training_examples(), crossval.FOLDS)
    name = crossval.deployed()
    workdir = Path(tempfile.mkdtemp(prefix="grouping-"))
    predictions = crossval.cross_validate(name, crossval.variants()[name], examples, crossval.FOLDS, workdir)
    log("grouping: judging the held-out examples of each fold")
    folds = cross_validated_folds(predictions)
    rule, chosen, rule_curve = choose_rule(folds)
    similarity, grouped, similarity_curve = choose_similarity(folds)
    held = judge_heldout(rule, similarity, model)
    text = render(rule, chosen, rule_curve, similarity, grouped, similarity_curve, held, len(examples))
    out.write_text(text, encoding="utf-8")
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(REPORT))
    parser.add_argument("--model", default=str(MODEL), help="the bot's model, trained on all of data/nlu.yml")
    args = parser.parse_args(argv)
    print(run(Path(args.out), Path(args.model)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
