"""A quick, honest check of what new training examples do, in seconds, without training Rasa.

It is NOT the bot's model: a linear classifier (logistic regression fitted by SGD on character n-grams, the
same kind of features as the bot's CountVectorsFeaturizer) stands in for DIET, and its intent
ranking goes through the bot's own decision (`bot.matching.decide`: answer, "Vouliez-vous
dire… ?", no answer). Figures are right / wrong / asked back / no answer, by 5-fold
cross-validation, for:

- the examples already in data/nlu.yml, before and after (same folds; after, the new examples are
  added to every training fold): did the new examples spoil what already worked?
- the new examples: before, predicted by a model trained on the old data (how the bot handled
  them, roughly); after, by cross-validation over the new data.

The reference measure with the bot's own model is the benchmark's cross-validation (slow).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np

from bot.matching import DecisionKind

FOLDS = 5
OUT_OF_SCOPE = "out_of_scope"
OUTCOMES = ("juste", "faux", "redemandé", "sans réponse")
LABEL = (
    "Contrôle rapide (approximation : régression logistique (SGD) sur n-grammes de caractères, validation croisée "
    f"en {FOLDS} plis, décision du bot ; ce n'est pas le modèle du bot, réentraîné par make train)"
)


@dataclass
class Outcome:
    counts: Dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def pct(self, outcome: str) -> float:
        return 100.0 * self.counts.get(outcome, 0) / self.total if self.total else 0.0


def _model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), lowercase=True, strip_accents="unicode", sublinear_tf=True
        ),
        SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=50, tol=None, random_state=0),
    )


def _outcome(kb, model, texts: Sequence[str], intents: Sequence[str]) -> Dict[str, int]:
    from bot import matching

    counts = collections.Counter({o: 0 for o in OUTCOMES})
    if not texts:
        return dict(counts)
    probabilities = model.predict_proba(list(texts))
    classes = list(model.classes_)
    for text, intent, row in zip(texts, intents, probabilities):
        ranking = [{"name": classes[i], "confidence": float(row[i])} for i in np.argsort(-row)[:10]]
        decision = matching.decide(kb, ranking, text)
        expected = kb.answer_for_intent(intent)
        if expected is None:  # out of scope: right when the bot does not answer
            counts["faux" if decision.kind is DecisionKind.ANSWER else "juste"] += 1
        elif decision.kind is DecisionKind.ANSWER:
            counts["juste" if decision.answer_ids[0] == expected.id else "faux"] += 1
        elif decision.kind in (DecisionKind.SUGGEST, DecisionKind.BROWSE):
            counts["redemandé"] += 1
        else:
            counts["sans réponse"] += 1
    return dict(counts)


def _pairs(examples: Mapping[str, Sequence[str]]) -> Tuple[List[str], List[str]]:
    texts, intents = [], []
    for intent, items in examples.items():
        for text in items:
            texts.append(text)
            intents.append(intent)
    return texts, intents


def _scored(kb, intent: str) -> bool:
    return intent == OUT_OF_SCOPE or kb.answer_for_intent(intent) is not None


def compare(
    kb, before: Mapping[str, Sequence[str]], new: Mapping[str, Sequence[str]], seed: int = 0
) -> Dict[str, Outcome]:
    """Outcomes of the old examples before/after and of the new examples before/after."""
    from sklearn.model_selection import KFold, StratifiedKFold

    texts, intents = _pairs(before)
    new_texts, new_intents = _pairs(new)
    counts = collections.Counter(intents)
    stratify = [i if counts[i] >= FOLDS else "_rare" for i in intents]
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(texts, stratify))
    old_before, old_after = collections.Counter(), collections.Counter()
    for train, test in folds:
        test = [i for i in test if _scored(kb, intents[i])]
        x_train, y_train = [texts[i] for i in train], [intents[i] for i in train]
        x_test, y_test = [texts[i] for i in test], [intents[i] for i in test]
        old_before.update(_outcome(kb, _model().fit(x_train, y_train), x_test, y_test))
        if new_texts:
            old_after.update(_outcome(kb, _model().fit(x_train + new_texts, y_train + new_intents), x_test, y_test))
    result = {"existants_avant": Outcome(dict(old_before))}
    if not new_texts:
        return result
    result["existants_apres"] = Outcome(dict(old_after))
    result["nouveaux_avant"] = Outcome(_outcome(kb, _model().fit(texts, intents), new_texts, new_intents))
    new_after = collections.Counter()
    splits = min(FOLDS, len(new_texts))
    if splits >= 2:
        for train, test in KFold(splits, shuffle=True, random_state=seed).split(new_texts):
            model = _model().fit(texts + [new_texts[i] for i in train], intents + [new_intents[i] for i in train])
            new_after.update(_outcome(kb, model, [new_texts[i] for i in test], [new_intents[i] for i in test]))
    else:  # one new example: leave it out, which is the "before" figure; say so
        new_after.update(result["nouveaux_avant"].counts)
    result["nouveaux_apres"] = Outcome(dict(new_after))
    return result


ROWS = (
    ("existants_avant", "Exemples déjà présents, avant"),
    ("existants_apres", "Exemples déjà présents, après"),
    ("nouveaux_avant", "Questions ajoutées, avant"),
    ("nouveaux_apres", "Questions ajoutées, après"),
)


def render(result: Mapping[str, Outcome]) -> str:
    lines = [LABEL, f"{'':34}" + "".join(f"{o:>14}" for o in OUTCOMES) + f"{'(sur)':>8}"]
    for key, label in ROWS:
        if key in result:
            outcome = result[key]
            lines.append(f"{label:34}" + "".join(f"{outcome.pct(o):13.1f}%" for o in OUTCOMES) + f"{outcome.total:8}")
    if "existants_apres" in result:
        delta = result["existants_apres"].pct("juste") - result["existants_avant"].pct("juste")
        wrong = result["existants_apres"].pct("faux") - result["existants_avant"].pct("faux")
        verdict = (
            "sans changement notable"
            if abs(delta) < 0.5 and abs(wrong) < 0.5
            else f"juste {delta:+.1f} points, faux {wrong:+.1f} points"
        )
        lines.append(f"Sur les exemples déjà présents : {verdict}.")
    return "\n".join(lines)
