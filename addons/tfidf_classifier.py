"""The intent classifier: a logistic regression on TF-IDF character n-grams and words of the folded text.

Vendors type without accents, with typos and acronyms. Characters n-grams (2 to 5, within words) of
the text folded as `bot.normalise.fold` folds it (no case, no accents, no punctuation) match "segur"
with "Ségur" and "referencment" with "référencement"; the words are spaCy's tokens, folded the same
way, alone and in pairs ("combien coute", "est obligatoire", "mon espace": what a question asks
says itself in two words more than in one). TF-IDF with a sublinear term frequency weighs the rare, telling words; a weakly regularised
logistic regression, one intent against the rest (liblinear), each intent's examples weighed as
many as the others', gives the confidences `bot.matching`'s answer model weighs. One against the
rest ranks as well as one multinomial model in cross-validation and trains several times faster,
the more so as the FAQ grows (bench/crossval.py, bench/growth.py).

Chosen by cross-validation on data/nlu.yml against DIET, Rasa's own logistic regression on count
features and their ensemble (bench/crossval.py, figures in bench/RESULTS.md); it trains in seconds
where DIET took minutes.

Loaded by Rasa from config.yml (module path); the decision itself stays in `bot.matching`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.class_weight import compute_class_weight

from bot.normalise import fold

logger = logging.getLogger(__name__)

ARRAYS = "tfidf_classifier.npz"  # the idf weights and the regression's coefficients, read without pickle
SETTINGS = "tfidf_classifier.json"  # the vocabularies: each vectorizer's terms in column order


def _folded_words(message: Message) -> str:
    """spaCy's tokens of the message, folded, one space apart."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    if tokens:
        return " ".join(filter(None, (fold(t.text) for t in tokens)))
    return fold(message.get(TEXT) or "")


# The label of every other intent's examples while a share of the intents is fitted (it sorts
# first); its own model is dropped, and its weight weighs nothing else.
REST = ""


def _fit_share(clf: LogisticRegression, features, intents: List[str], share: List[str], weights: Dict[str, float]):
    """(intents, coefficients, intercepts) of `share`, each against every other example: liblinear
    weighs an intent's examples C x its weight and the rest C, as it does in one call for all intents."""
    inside = set(share)
    labels = np.array([i if i in inside else REST for i in intents], dtype=object)
    clf.set_params(class_weight={**{i: weights[i] for i in share}, REST: 1.0})
    clf.fit(features, labels)
    kept = clf.classes_ != REST
    return clf.classes_[kept], clf.coef_[kept], clf.intercept_[kept]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TfidfIntentClassifier(IntentClassifier, GraphComponent):
    """Intents from TF-IDF features of the folded text and a logistic regression."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """This file's text: Rasa's training cache does not reuse a model this code would store otherwise."""
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "min_ngram": 2,  # characters, within words
            "max_ngram": 5,
            "max_word_ngram": 2,  # words alone and in pairs
            "C": 100.0,  # the regression's inverse regularisation
            "solver": "liblinear",  # one intent against the rest...
            "multi_class": "ovr",  # ...their probabilities rescaled to sum to 1 (predict_proba)
            "max_iter": 1000,
            # liblinear stops when the gradient has shrunk to tol x its start: 0.01 instead of
            # scikit-learn's 0.0001 gives the same right / wrong / handled in cross-validation
            # (bench/crossval.py) and cuts the regression's time by about a quarter (bench/PROFILE.md)
            "tol": 0.01,
            "random_state": 42,
            "n_jobs": -1,  # processes fitting the intents (one against the rest): -1, one per CPU
            "ranking_length": 10,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.chars: Optional[TfidfVectorizer] = None
        self.words: Optional[TfidfVectorizer] = None
        self.clf: Optional[LogisticRegression] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TfidfIntentClassifier":
        return cls(config, model_storage, resource)

    def _vectorizers(self, chars: Optional[List[str]] = None, words: Optional[List[str]] = None):
        """The two vectorizers, new, or with the vocabularies (terms in column order) of a trained model."""

        def vocabulary(terms):
            return {term: i for i, term in enumerate(terms)} if terms is not None else None

        ngrams = (self.config["min_ngram"], self.config["max_ngram"])
        return (
            TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True, vocabulary=vocabulary(chars)),
            TfidfVectorizer(
                analyzer="word",
                token_pattern=r"[^ ]+",
                ngram_range=(1, self.config["max_word_ngram"]),
                sublinear_tf=True,
                vocabulary=vocabulary(words),
            ),
        )

    def _regression(self, **settings) -> LogisticRegression:
        c = self.config
        return LogisticRegression(
            C=c["C"], solver=c["solver"], multi_class=c["multi_class"], class_weight="balanced", **settings
        )

    def _fit(self, features, intents: List[str]) -> LogisticRegression:
        """The regression; one against the rest is fitted in several processes, each for a share of
        the intents (each intent against all other examples, weighed as in one call: the same model)."""
        settings = {key: self.config[key] for key in ("max_iter", "tol", "random_state")}
        names = np.unique(np.asarray(intents, dtype=object))
        jobs = min(effective_n_jobs(self.config["n_jobs"]), len(names) // 2)
        if (self.config["solver"], self.config["multi_class"]) != ("liblinear", "ovr") or jobs < 2:
            return self._regression(**settings).fit(features, intents)
        weights = dict(zip(names, compute_class_weight("balanced", classes=names, y=intents)))
        shares = Parallel(n_jobs=jobs)(
            delayed(_fit_share)(self._regression(**settings), features, intents, list(share), weights)
            for share in np.array_split(names, jobs)
        )
        classes = np.concatenate([share[0] for share in shares])
        order = np.argsort(classes)
        return self._fitted(
            classes[order],
            np.vstack([share[1] for share in shares])[order],
            np.concatenate([share[2] for share in shares])[order],
        )

    def _fitted(self, classes, coef, intercept) -> LogisticRegression:
        """A regression made of these arrays (a trained model's, or the shares' put together)."""
        clf = self._regression()  # how predict_proba turns scores into probabilities
        # scikit-learn multiplies a message's features by coef_.T: in Fortran order it is read in place
        clf.coef_ = np.asfortranarray(coef)
        clf.intercept_ = intercept
        clf.classes_ = classes
        clf.n_features_in_ = clf.coef_.shape[1]
        return clf

    def _features(self, messages: List[Message], fit: bool = False):
        chars = [fold(m.get(TEXT) or "") for m in messages]
        words = [_folded_words(m) for m in messages]
        how = "fit_transform" if fit else "transform"
        return hstack([getattr(self.chars, how)(chars), getattr(self.words, how)(words)]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if len({e.get(INTENT) for e in examples}) < 2:
            logger.warning("TfidfIntentClassifier: fewer than two intents to learn, not trained.")
            return self._resource
        self.chars, self.words = self._vectorizers()
        self.clf = self._fit(self._features(examples, fit=True), [e.get(INTENT) for e in examples])
        self.persist()
        return self._resource

    def persist(self) -> None:
        """What a prediction reads, as arrays and JSON: loading never unpickles anything."""
        vectorizers = {"chars": self.chars, "words": self.words}
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / ARRAYS,
                coef=self.clf.coef_,
                intercept=self.clf.intercept_,
                classes=self.clf.classes_.astype(str),
                **{f"{name}_idf": v.idf_ for name, v in vectorizers.items()},
            )
            settings = {name: sorted(v.vocabulary_, key=v.vocabulary_.get) for name, v in vectorizers.items()}
            (directory / SETTINGS).write_text(json.dumps(settings, ensure_ascii=False), encoding="utf-8")

    def _restore(self, directory) -> None:
        terms = json.loads((directory / SETTINGS).read_text(encoding="utf-8"))
        with np.load(directory / ARRAYS, allow_pickle=False) as arrays:
            self.chars, self.words = self._vectorizers(terms["chars"], terms["words"])
            self.chars.idf_, self.words.idf_ = arrays["chars_idf"], arrays["words_idf"]
            self.clf = self._fitted(arrays["classes"].astype(object), arrays["coef"], arrays["intercept"])

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TfidfIntentClassifier":
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                component._restore(directory)
        except (ValueError, FileNotFoundError):
            logger.warning("TfidfIntentClassifier: no trained model in storage, every message gets no intent.")
        return component

    def process(self, messages: List[Message]) -> List[Message]:
        if self.clf is None or not messages:
            return messages
        probabilities = self.clf.predict_proba(self._features(messages))
        for message, row in zip(messages, probabilities):
            ranking = sorted(
                ({"name": name, "confidence": float(p)} for name, p in zip(self.clf.classes_, row)),
                key=lambda entry: -entry["confidence"],
            )
            if self.config["ranking_length"] > 0:
                ranking = ranking[: self.config["ranking_length"]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
