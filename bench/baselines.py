"""Baseline (a): what a site search does, a character n-gram TF-IDF search over the answers.

Each answer is one document (title + text, from bot/data/faq.yml). A question is vectorised the
same way; the answer with the best cosine similarity is shown if the similarity reaches a
threshold, else "no answer". The threshold is picked on the bot's training data (data/nlu.yml),
never on the evaluation set: the one that maximises the balanced accuracy between the FAQ intents'
examples (right answer shown) and the other intents' examples (no answer shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bench.common import training_examples
from bot.knowledge import default_kb

NGRAMS = (2, 5)


@dataclass
class TfidfSearch:
    vectorizer: TfidfVectorizer
    matrix: "np.ndarray"
    ids: List[str]
    threshold: float = 0.0

    @classmethod
    def build(cls) -> "TfidfSearch":
        answers = default_kb().answers
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=NGRAMS, lowercase=True, strip_accents="unicode", sublinear_tf=True
        )
        matrix = vectorizer.fit_transform([f"{a.title}\n{a.text}" for a in answers])
        search = cls(vectorizer, matrix, [a.id for a in answers])
        search.threshold = search.pick_threshold()
        return search

    def best(self, question: str) -> Tuple[str, float]:
        scores = (self.matrix @ self.vectorizer.transform([question]).T).toarray().ravel()
        index = int(np.argmax(scores))
        return self.ids[index], float(scores[index])

    def answer(self, question: str) -> Optional[str]:
        answer_id, score = self.best(question)
        return answer_id if score >= self.threshold else None

    def pick_threshold(self) -> float:
        kb = default_kb()
        positives, negatives = [], []
        for intent, examples in training_examples().items():
            answer = kb.answer_for_intent(intent)
            for example in examples:
                answer_id, score = self.best(example)
                if answer:
                    positives.append((score, answer_id == answer.id))
                else:
                    negatives.append(score)
        candidates = sorted({round(s, 4) for s, _ in positives} | {round(s, 4) for s in negatives})

        def balanced(threshold: float) -> float:
            right = sum(1 for s, ok in positives if ok and s >= threshold) / len(positives)
            rejected = sum(1 for s in negatives if s < threshold) / len(negatives)
            return (right + rejected) / 2

        return max(candidates, key=lambda t: (balanced(t), -t))

    def describe(self) -> str:
        return (
            f"char_wb {NGRAMS[0]}-{NGRAMS[1]}-grams, accents stripped, sublinear tf, over each answer's "
            f"title + text; answers when the best cosine ≥ {self.threshold:.3f} (threshold that maximises "
            f"the balanced accuracy on data/nlu.yml, never on the evaluation set)"
        )
