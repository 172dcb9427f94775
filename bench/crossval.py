"""k-fold cross-validation on the training data alone: how models compare and where to set the thresholds.

    python -m bench.crossval                       # every variant, 5 folds -> test-output/crossval/
    python -m bench.crossval --variants ours --folds 3   # ours: config.yml's classifier

Each variant is a Rasa NLU pipeline (config.yml with its classifier swapped, and the sparse count
features Rasa's own classifiers need); each fold trains it on
4/5 of data/nlu.yml (stratified by intent, a fixed shuffle) and ranks the held-out fifth, as the
Rasa server would: the full intent ranking of every held-out example is kept. An ensemble combines
two variants' rankings on the same folds, which is what a pipeline running both classifiers on the
same features would give: their mean ran in config.yml before the TF-IDF logistic regression
(addons/tfidf_classifier.py); a weighted mean, a geometric mean and the lower confidence were tried
against it, as were other features.

The decision of `bot.matching` (answer model and guards) is then replayed on these rankings: an
example of an FAQ intent is *right* when its own answer is given, *wrong* when another one is,
*asked back* otherwise; an example of any other intent is *handled* when no answer is given.

The answer model (`bot.matching.AnswerModel`) is fitted here, on the training data, never on an
evaluation set: on each held-out example's signals, whether the best FAQ candidate was its answer;
its threshold is the one that gives the most right answers with at most 0.5 % wrong and 97 % of
out-of-scope examples handled, each fold decided by a model fitted on the other folds.
`--write` stores config.yml's classifier's model in bot/data/answer_model.json.

Rankings are cached by the hash of the pipeline, the data and the fold (test-output/crossval/cache).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import hashlib
import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from bench.common import NLU_FILE, ROOT, log, training_examples

OUT = ROOT / "test-output" / "crossval"
CACHE = OUT / "cache"
FOLDS = 5
SHUFFLE_SEED = 0
SEEDS = (42, 7, 2024)  # variants whose training is not seeded are trained once per seed


TFIDF = "addons.tfidf_classifier.TfidfIntentClassifier"
CLASSIFIERS = (TFIDF, "DIETClassifier", "LogisticRegressionClassifier")
# The sparse features Rasa's own classifiers are trained on (config.yml's until DIET and Rasa's
# logistic regression gave way to TFIDF): words, character 2-5-grams, the tokens' shape and place.
SPARSE_FEATURES = (
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
)
# DIET as config.yml ran it last (one small transformer layer, 45 epochs), and Rasa's default size
DIET = {
    "name": "DIETClassifier",
    "epochs": 45,
    "number_of_transformer_layers": 1,
    "transformer_size": 128,
    "entity_recognition": False,
    "constrain_similarities": True,
    "random_seed": 42,
}


def _config() -> dict:
    return yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))


def _component(config: dict, name: str) -> Optional[dict]:
    return next((dict(c) for c in config["pipeline"] if c["name"] == name), None)


def _with_classifier(config: dict, classifier: dict) -> dict:
    """`config` with its intent classifier replaced by `classifier`; Rasa's own classifiers get the
    sparse features they need, after the tokenizer."""
    config = copy.deepcopy(config)
    pipeline = []
    for component in config["pipeline"]:
        if component["name"] in CLASSIFIERS:
            if classifier["name"] != TFIDF:
                pipeline.extend(copy.deepcopy(list(SPARSE_FEATURES)))
            pipeline.append(classifier)
            continue
        pipeline.append(component)
    config["pipeline"] = pipeline
    return config


def deployed() -> str:
    """The variant config.yml runs."""
    names = [c["name"] for c in _config()["pipeline"]]
    if TFIDF in names:
        return "tfidf_linear"
    return "linear" if "LogisticRegressionClassifier" in names else "diet"


def variants() -> Dict[str, dict]:
    """name -> Rasa config (pipeline and policies) of each single model compared."""
    config = _config()
    tfidf = _component(config, TFIDF) or {"name": TFIDF}
    tfidf.pop("ranking_length", None)
    default_diet = {**DIET, "epochs": 100, "number_of_transformer_layers": 2, "transformer_size": 256}
    linear = {"name": "LogisticRegressionClassifier", "max_iter": 100}
    # lbfgs reads `tol` differently from liblinear (a gradient bound, not a relative one): the
    # multinomial variant keeps scikit-learn's own default rather than the deployed classifier's 0.01
    multinomial = {**tfidf, "solver": "lbfgs", "multi_class": "multinomial", "tol": 0.0001}
    return {
        "tfidf_linear": _with_classifier(config, tfidf),
        "tfidf_multinomial": _with_classifier(config, multinomial),
        "tfidf_single_words": _with_classifier(config, {**tfidf, "max_word_ngram": 1}),
        "diet": _with_classifier(config, dict(DIET)),
        "default_diet": _with_classifier(config, default_diet),
        "linear": _with_classifier(config, linear),
        # other features, tried on the faster classifier (the same ones would feed DIET)
        "linear_word_bigrams": _with_features(_with_classifier(config, linear), "word", max_ngram=2),
        "linear_char_1_5": _with_features(_with_classifier(config, linear), "char_wb", min_ngram=1),
    }


def _with_features(config: dict, analyzer: str, **settings) -> dict:
    """`config` with its CountVectorsFeaturizer of `analyzer` ("word" or "char_wb") changed."""
    config = copy.deepcopy(config)
    for component in config["pipeline"]:
        if component["name"] == "CountVectorsFeaturizer" and component.get("analyzer", "word") == analyzer:
            component.update(settings)
    return config


def describe(name: str, config: dict) -> str:
    if name in ENSEMBLES:
        first, second, how = ENSEMBLES[name]
        return f"{COMBINATIONS[how][0]} of {first} and {second}"
    classifier = next(c for c in config["pipeline"] if c["name"] in CLASSIFIERS)
    if classifier["name"] == TFIDF:
        how = "one multinomial" if classifier.get("multi_class") == "multinomial" else "one intent against the rest"
        words = "words and word pairs" if classifier.get("max_word_ngram", 2) >= 2 else "words"
        return (
            f"logistic regression ({how}, C {classifier.get('C', 100)}, class-balanced) on TF-IDF character "
            f"2-5-grams and {words} of the folded text (addons/tfidf_classifier.py)"
        )
    if classifier["name"] == "DIETClassifier":
        return (
            f"DIET {classifier.get('number_of_transformer_layers', 2)} layer(s) of "
            f"{classifier.get('transformer_size', 256)}, {classifier.get('epochs', 100)} epochs"
            + (" (Rasa's default size)" if name == "default_diet" else "")
        )
    features = {
        "linear_word_bigrams": ", words and word pairs instead of words",
        "linear_char_1_5": ", character 1-5-grams instead of 2-5",
    }
    return "Rasa's LogisticRegressionClassifier (class-balanced, C 1) on DIET's sparse count features" + features.get(
        name, ""
    )


def _geometric(first: Dict[str, float], second: Dict[str, float], names) -> Dict[str, float]:
    scores = {n: (first.get(n, 0.0) * second.get(n, 0.0)) ** 0.5 for n in names}
    total = sum(scores.values()) or 1.0
    return {n: v / total for n, v in scores.items()}


# name -> (first variant, second variant, how an intent's two confidences are combined); the mean
# of DIET and Rasa's logistic regression ran in config.yml before tfidf_linear, the others were tried against it
ENSEMBLES = {
    "diet+linear": ("diet", "linear", "mean"),
    "default_diet+linear": ("default_diet", "linear", "mean"),
    "diet+linear_weighted": ("diet", "linear", "weighted"),
    "diet+linear_geometric": ("diet", "linear", "geometric"),
    "diet+linear_min": ("diet", "linear", "min"),
}
# how -> (description, scores(first, second, names) of the intents; the mean is mean_ranking)
COMBINATIONS = {
    "mean": ("mean of the rankings", None),
    "weighted": (
        "0.35 x the first + 0.65 x the second",
        lambda a, b, names: {n: 0.35 * a.get(n, 0.0) + 0.65 * b.get(n, 0.0) for n in names},
    ),
    "geometric": ("geometric mean of the rankings, rescaled to sum to 1", _geometric),
    "min": (
        "the lower of the two confidences",
        lambda a, b, names: {n: min(a.get(n, 0.0), b.get(n, 0.0)) for n in names},
    ),
}


# --- folds --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    fold: int


def folds(examples: Dict[str, List[str]], k: int = FOLDS, seed: int = SHUFFLE_SEED) -> List[Example]:
    """Every example with its fold: each intent's examples shuffled, then dealt round-robin."""
    rng = random.Random(seed)
    dealt = []
    for intent in sorted(examples):
        items = list(dict.fromkeys(examples[intent]))
        rng.shuffle(items)
        offset = rng.randrange(k)
        dealt += [Example(text, intent, (offset + i) % k) for i, text in enumerate(items)]
    return dealt


def _nlu_yaml(examples: Sequence[Example]) -> str:
    by_intent: Dict[str, List[str]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(example.text)
    blocks = [{"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)} for intent, texts in by_intent.items()]
    return yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False, width=10_000)


# --- training and ranking -------------------------------------------------------------------


@dataclass
class FoldResult:
    rankings: List[List[Tuple[str, float]]]  # per held-out example, in order
    train_seconds: float


def _key(config: dict, train: str, test: Sequence[str]) -> str:
    """The cache key of a fold: the pipeline, the data, and our classifier's code when it is in the
    pipeline (its defaults and features live there, not in the config)."""
    digest = hashlib.sha256()
    for part in (json.dumps(config, sort_keys=True), train, "\n".join(test)):
        digest.update(part.encode("utf-8"))
    if any(c.get("name") == TFIDF for c in config.get("pipeline", [])):
        digest.update(_classifier_code())
    return digest.hexdigest()[:20]


@functools.lru_cache(maxsize=1)
def _classifier_code() -> bytes:
    return (ROOT / "addons" / "tfidf_classifier.py").read_bytes()


def run_fold(config: dict, train: Sequence[Example], test: Sequence[Example], workdir: Path) -> FoldResult:
    from rasa.core.agent import Agent  # heavy: imported only when a fold really has to be trained
    from rasa.model_training import train_nlu

    train_text = _nlu_yaml(train)
    key = _key(config, train_text, [e.text for e in test])
    cached = CACHE / f"{key}.json"
    if cached.exists():
        data = json.loads(cached.read_text(encoding="utf-8"))
        return FoldResult([[tuple(r) for r in ranking] for ranking in data["rankings"]], data["train_seconds"])
    folder = Path(tempfile.mkdtemp(dir=workdir))
    (folder / "nlu.yml").write_text(train_text, encoding="utf-8")
    (folder / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    started = time.monotonic()
    model = train_nlu(
        str(folder / "config.yml"), str(folder / "nlu.yml"), str(folder / "models"), fixed_model_name="fold"
    )
    seconds = time.monotonic() - started
    if not model:
        raise RuntimeError(f"training failed in {folder}")
    agent = Agent.load(model)

    async def rank_all() -> List[List[Tuple[str, float]]]:
        out = []
        for example in test:
            parsed = await agent.parse_message(example.text)
            out.append([(r["name"], round(float(r["confidence"]), 6)) for r in parsed.get("intent_ranking") or []])
        return out

    rankings = asyncio.run(rank_all())
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps({"rankings": rankings, "train_seconds": seconds}), encoding="utf-8")
    return FoldResult(rankings, seconds)


def with_full_ranking(config: dict) -> dict:
    """The same pipeline, with every intent kept in the ranking (ensembles average whole rankings)."""
    config = copy.deepcopy(config)
    for component in config["pipeline"]:
        if component["name"] in CLASSIFIERS:
            component["ranking_length"] = 0
    return config


@dataclass
class Predictions:
    """Held-out rankings of one variant over all folds, aligned with `examples`."""

    name: str
    examples: List[Example]
    rankings: List[List[Tuple[str, float]]]
    train_seconds: List[float] = field(default_factory=list)


def cross_validate(name: str, config: dict, examples: List[Example], k: int, workdir: Path) -> Predictions:
    rankings: Dict[int, List[Tuple[str, float]]] = {}
    seconds = []
    for fold in range(k):
        test_idx = [i for i, e in enumerate(examples) if e.fold == fold]
        train = [e for e in examples if e.fold != fold]
        log(f"cross-validation {name}: fold {fold + 1}/{k} ({len(train)} train, {len(test_idx)} held out)")
        result = run_fold(with_full_ranking(config), train, [examples[i] for i in test_idx], workdir)
        seconds.append(result.train_seconds)
        for i, ranking in zip(test_idx, result.rankings):
            rankings[i] = ranking
    return Predictions(name, examples, [rankings[i] for i in range(len(examples))], seconds)


def mean_ranking(first: List[dict], second: List[dict]) -> List[dict]:
    """The mean confidence of each intent over two rankings (an intent one of them omits counts 0):
    how two classifiers' held-out rankings are combined, as config.yml once combined DIET's and a
    logistic regression's."""
    scores: Dict[str, float] = {}
    for ranking in (first, second):
        for entry in ranking:
            scores[entry["name"]] = scores.get(entry["name"], 0.0) + float(entry["confidence"]) / 2
    return [{"name": name, "confidence": conf} for name, conf in sorted(scores.items(), key=lambda item: -item[1])]


def ensemble(name: str, a: Predictions, b: Predictions, how: str = "mean") -> Predictions:
    """Two rankings combined intent by intent (an intent missing from one counts 0 there): their
    mean (mean_ranking), or another COMBINATIONS."""

    def entries(ranking):  # the fallback's pseudo-intent is no classifier's vote
        return [{"name": n, "confidence": c} for n, c in ranking if n != "nlu_fallback"]

    def combined(left, right) -> List[Tuple[str, float]]:
        if how == "mean":
            return [(e["name"], e["confidence"]) for e in mean_ranking(entries(left), entries(right))]
        first, second = dict(left), dict(right)
        names = (set(first) | set(second)) - {"nlu_fallback"}
        scores = COMBINATIONS[how][1](first, second, names)
        return sorted(scores.items(), key=lambda item: -item[1])

    merged = [combined(left, right) for left, right in zip(a.rankings, b.rankings)]
    return Predictions(name, a.examples, merged, [x + y for x, y in zip(a.train_seconds, b.train_seconds)])


# --- replaying the decision -------------------------------------------------------------------


@dataclass
class Tally:
    right: int = 0
    wrong: int = 0
    asked_back: int = 0
    in_scope: int = 0
    handled: int = 0
    out_of_scope: int = 0
    wrong_examples: List[Tuple[str, str, str]] = field(default_factory=list)  # text, expected, given

    def add(self, example: Example, expected: Optional[str], given: Optional[str]) -> None:
        """`expected`: the example's answer id (None: out of scope); `given`: the bot's (None: none)."""
        if expected is None:
            self.out_of_scope += 1
            self.handled += given is None
            if given is not None:
                self.wrong_examples.append((example.text, example.intent, given))
            return
        self.in_scope += 1
        if given == expected:
            self.right += 1
        elif given is None:
            self.asked_back += 1
        else:
            self.wrong += 1
            self.wrong_examples.append((example.text, expected, given))

    def figures(self) -> Dict[str, float]:
        return {
            "right": self.right / self.in_scope if self.in_scope else float("nan"),
            "wrong": self.wrong / self.in_scope if self.in_scope else float("nan"),
            "asked_back": self.asked_back / self.in_scope if self.in_scope else float("nan"),
            "out_of_scope_handled": self.handled / self.out_of_scope if self.out_of_scope else float("nan"),
        }


@functools.lru_cache(maxsize=4)
def fold_wording(kb, examples: Tuple[Example, ...]) -> dict:
    """Per fold, what each answer is asked with, from that fold's training part only (bot/wording.py):
    a held-out example's own words must not count as known."""
    from bot.wording import Wording

    out = {}
    for fold in sorted({e.fold for e in examples}):
        train: Dict[str, List[str]] = {}
        for e in examples:
            if e.fold != fold:
                train.setdefault(e.intent, []).append(e.text)
        out[fold] = Wording.build(kb, train)
    return out


@functools.lru_cache(maxsize=4)
def unseen(examples: Tuple[Example, ...]) -> Tuple[bool, ...]:
    """Per held-out example: True when no example of its training folds nearly repeats it (bot/normalise.py).

    Vendors' wordings repeat one another in data/nlu.yml; a held-out example whose near twin was
    trained on is recognised by memory. The figures on the unseen examples alone say what a new
    wording gets."""
    from bot.normalise import fold, near_duplicate

    training = {
        k: [(fold(e.text), e.text) for e in examples if e.fold != k] for k in {e.fold for e in examples}
    }  # each fold's training part, folded once
    return tuple(near_duplicate(example.text, training[example.fold]) is None for example in examples)


def replay(predictions: Predictions, model=None, guards: bool = True, only_unseen: bool = False) -> Tally:
    """What the bot would have answered to each held-out example (or each unseen one), with this
    answer model (default: the bot's, bot/data/answer_model.json)."""
    from bot import matching
    from bot.knowledge import default_kb

    kb = default_kb()
    words = fold_wording(kb, tuple(predictions.examples))
    kept = unseen(tuple(predictions.examples)) if only_unseen else (True,) * len(predictions.examples)
    tally = Tally()
    for example, ranking, keep in zip(predictions.examples, predictions.rankings, kept):
        if not keep:
            continue
        ranked = [{"name": n, "confidence": c} for n, c in ranking]
        decision = matching.decide(kb, ranked, example.text if guards else "", None, words[example.fold], model)
        given = decision.answer_ids[0] if decision.kind == matching.DecisionKind.ANSWER else None
        expected = kb.answer_for_intent(example.intent)
        tally.add(example, expected.id if expected else None, given)
    return tally


# --- fitting the answer model -----------------------------------------------------------------

MAX_WRONG = 0.005  # of in-scope questions
MIN_HANDLED = 0.97  # of out-of-scope questions
THRESHOLD_GRID = tuple(round(0.30 + 0.01 * i, 2) for i in range(70))  # 0.30 .. 0.99
REGULARISATION = 1.0  # the answer model's C: seven weights, thousands of examples


@dataclass(frozen=True)
class Case:
    """A held-out example as the answer model sees it."""

    example: Example
    signals: Optional[Tuple[float, ...]]  # None when the ranking has no FAQ candidate
    given_if_sure: Optional[str]  # the answer the bot gives if the model is sure (None: a guard stops it)
    right_candidate: bool  # the best FAQ candidate is the example's own answer
    expected: Optional[str]  # the example's answer id (None: out of scope)


def cases(predictions: Predictions) -> List[Case]:
    """Each held-out example's signals, and what the bot would answer if the model were sure."""
    from bot import matching
    from bot.knowledge import default_kb

    kb = default_kb()
    words = fold_wording(kb, tuple(predictions.examples))
    always = matching.AnswerModel((0.0,) * len(matching.SIGNALS), 0.0, 0.0)  # sure of everything
    out = []
    for example, ranking in zip(predictions.examples, predictions.rankings):
        ranked = [{"name": n, "confidence": c} for n, c in ranking]
        faq = matching.faq_candidates(kb, ranked)
        expected = kb.answer_for_intent(example.intent)
        signals = (
            matching.signals(faq, matching.out_of_scope_confidence(ranked), example.text, words[example.fold])
            if faq
            else None
        )
        decision = matching.decide(kb, ranked, example.text, None, words[example.fold], always)
        given = decision.answer_ids[0] if decision.kind == matching.DecisionKind.ANSWER else None
        right = bool(faq) and expected is not None and faq[0][0].id == expected.id
        out.append(Case(example, signals, given, right, expected.id if expected else None))
    return out


def _fit(rows: Sequence[Case]):
    """(weights, bias) of a logistic regression of "the best candidate is right" on the signals."""
    from sklearn.linear_model import LogisticRegression

    rows = [c for c in rows if c.signals is not None]
    fitted = LogisticRegression(C=REGULARISATION, max_iter=5000)
    fitted.fit([c.signals for c in rows], [int(c.right_candidate) for c in rows])
    return tuple(float(w) for w in fitted.coef_[0]), float(fitted.intercept_[0])


def fold_models(rows: Sequence[Case], threshold: float = 1.0) -> Dict[int, object]:
    """Per fold, the answer model (bot.matching.AnswerModel) fitted on the other folds' cases only: what
    decides a held-out example without having seen it."""
    from bot.matching import AnswerModel

    models = {}
    for fold in sorted({c.example.fold for c in rows}):
        weights, bias = _fit([c for c in rows if c.example.fold != fold])
        models[fold] = AnswerModel(weights, bias, threshold)
    return models


def held_out_probabilities(rows: Sequence[Case], models: Optional[Dict[int, object]] = None) -> List[float]:
    """Each case's probability under a model fitted on the other folds' cases (`models`, when they are
    already fitted: `fold_models`)."""
    models = models or fold_models(rows)
    return [models[c.example.fold].probability(c.signals) if c.signals is not None else 0.0 for c in rows]


def tally_at(rows: Sequence[Case], probabilities: Sequence[float], threshold: float, keep=None) -> Tally:
    tally = Tally()
    for i, (c, p) in enumerate(zip(rows, probabilities)):
        if keep is None or keep[i]:
            tally.add(c.example, c.expected, c.given_if_sure if c.signals is not None and p >= threshold else None)
    return tally


def threshold_curve(rows: Sequence[Case], probabilities: Sequence[float]) -> List[Tuple[float, Dict[str, float]]]:
    """The figures at each threshold of THRESHOLD_GRID."""
    return [(t, tally_at(rows, probabilities, t).figures()) for t in THRESHOLD_GRID]


def _admissible(figures: Dict[str, float]) -> bool:
    return figures["wrong"] <= MAX_WRONG and figures["out_of_scope_handled"] >= MIN_HANDLED


def choose(curve: List[Tuple[float, Dict[str, float]]]) -> Optional[Tuple[float, Dict[str, float]]]:
    """Most right answers with at most 0.5 % wrong and 97 % of out-of-scope examples handled;
    among equals, the highest threshold (the safer side)."""
    admissible = [point for point in curve if _admissible(point[1])]
    if not admissible:
        return None
    return max(admissible, key=lambda point: (round(point[1]["right"], 4), point[0]))


@dataclass
class Fitted:
    model: object  # bot.matching.AnswerModel: weights on every case, the chosen threshold
    figures: Dict[str, float]  # at the chosen threshold, each fold decided by a model fitted without it
    curve: List[Tuple[float, Dict[str, float]]]
    unseen: Dict[str, float]


def fit_answer_model(predictions: Predictions) -> Optional[Fitted]:
    """The answer model of these rankings: its threshold chosen on held-out probabilities (each fold's
    cases scored by a model fitted on the other folds), its weights then fitted on every case."""
    from bot.matching import AnswerModel

    rows = cases(predictions)
    probabilities = held_out_probabilities(rows)
    curve = threshold_curve(rows, probabilities)
    chosen = choose(curve)
    if chosen is None:
        return None
    weights, bias = _fit(rows)
    kept = unseen(tuple(predictions.examples))
    return Fitted(
        AnswerModel(weights, bias, chosen[0]),
        chosen[1],
        curve,
        tally_at(rows, probabilities, chosen[0], kept).figures(),
    )


def write_answer_model(fitted: Fitted, path: Optional[Path] = None) -> Path:
    """bot/data/answer_model.json: the model, and what it was fitted on (for the maintainers)."""
    from bot.matching import ANSWER_MODEL_FILE

    path = Path(path or ANSWER_MODEL_FILE)
    doc = {
        **fitted.model.to_json(),
        "fitted_on": {
            "data_sha256": hashlib.sha256(NLU_FILE.read_bytes()).hexdigest()[:16],
            "classifier": deployed(),
            "cross_validation": {k: round(v, 4) for k, v in fitted.figures.items()},
        },
    }
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def run_all(k: int = FOLDS, names: Optional[Sequence[str]] = None, write: bool = False) -> dict:
    """Cross-validate the variants (cached folds are not retrained) and summarise them."""
    examples = folds(training_examples(), k)
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="crossval-"))
    predictions: Dict[str, Predictions] = {}
    configs = variants()
    for name in names or list(configs):
        predictions[name] = cross_validate(name, configs[name], examples, k, workdir)
    for name, (a, b, how) in ENSEMBLES.items():
        if a in predictions and b in predictions:
            predictions[name] = ensemble(name, predictions[a], predictions[b], how)
    return summarise(predictions, write)


def resolve(names: str) -> List[str]:
    """The variants of a comma-separated list; "ours" is config.yml's, whichever it is."""
    known = variants()
    chosen = [deployed() if name.strip() == "ours" else name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise SystemExit(f"unknown variant(s): {', '.join(unknown)}; known: ours, {', '.join(known)}")
    return chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument(
        "--variants",
        default=",".join(variants()),
        help="comma-separated, of: ours (config.yml's, today " + deployed() + "), " + ", ".join(variants()),
    )
    parser.add_argument("--out", default=str(OUT / "crossval.json"))
    parser.add_argument(
        "--write",
        action="store_true",
        help="write config.yml's classifier's answer model to bot/data/answer_model.json",
    )
    args = parser.parse_args(argv)
    names = resolve(args.variants)
    if args.write and deployed() not in names:
        names.append(deployed())
    summary = run_all(args.folds, names, write=args.write)
    Path(args.out).write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    print(format_summary(summary))
    return 0


def summarise(predictions: Dict[str, Predictions], write: bool = False) -> dict:
    """The figures of each variant (JSON-ready); with `write`, config.yml's classifier's answer model
    is stored first, and the bot's figures are those of the new model."""
    from bot.matching import answer_model_record, default_answer_model

    configs = variants()
    first = next(iter(predictions.values()))
    models = {name: fit_answer_model(p) for name, p in predictions.items()}
    if write and models.get(deployed()):
        log(f"answer model written to {write_answer_model(models[deployed()])}")
        answer_model_record.cache_clear()
        default_answer_model.cache_clear()
    current = default_answer_model()
    out = {
        "folds": max(e.fold for e in first.examples) + 1,
        "examples": len(first.examples),
        "data_sha256": hashlib.sha256(NLU_FILE.read_bytes()).hexdigest()[:16],
        "current_model": current.to_json(),
        "deployed": deployed(),
        "unseen_examples": sum(unseen(tuple(first.examples))),
        "variants": {},
    }
    for name, p in predictions.items():
        top1 = sum(1 for e, r in zip(p.examples, p.rankings) if r and r[0][0] == e.intent) / len(p.examples)
        fitted = models[name]
        at_bot_model = replay(p)
        out["variants"][name] = {
            "description": describe(name, configs.get(name, {})),
            "intent_accuracy": top1,
            "train_seconds_per_fold": sum(p.train_seconds) / len(p.train_seconds) if p.train_seconds else None,
            "at_bot_model": at_bot_model.figures(),
            "at_bot_model_without_guards": replay(p, guards=False).figures(),
            "fitted": ({**fitted.model.to_json(), **fitted.figures, "unseen": fitted.unseen} if fitted else None),
            "curve": [{"threshold": t, **f} for t, f in (fitted.curve if fitted else [])],
            "wrong_at_bot_model": at_bot_model.wrong_examples[:40],
        }
    return out


def format_summary(summary: dict) -> str:
    lines = [
        f"{summary['examples']} examples, {summary['folds']} folds",
        "variant | intent acc. | train s/fold | right | wrong | asked back | OOS handled (the bot's answer model) "
        "| its own answer model, held out",
    ]
    for name, v in summary["variants"].items():
        f, c = v["at_bot_model"], v["fitted"]
        own = (
            f"p≥{c['threshold']:.2f}: right {c['right']:.1%} wrong {c['wrong']:.1%} OOS {c['out_of_scope_handled']:.1%}"
            if c
            else "none admissible"
        )
        seconds = v["train_seconds_per_fold"]
        lines.append(
            f"{name} | {v['intent_accuracy']:.1%} | {'-' if seconds is None else f'{seconds:.0f}'} | {f['right']:.1%} | "
            f"{f['wrong']:.1%} | {f['asked_back']:.1%} | {f['out_of_scope_handled']:.1%} | {own}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
