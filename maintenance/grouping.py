"""Unanswered questions grouped by similarity, each group with a verdict for the FAQ maintainers.

The questions the assistant did not answer with confidence (`unanswered` table of bot/store.py:
redacted text, "suggest" or "none", the top FAQ candidates with their scores) are grouped on
character n-grams of their content words (TF-IDF, cosine, average-linkage clustering), and each
group gets a verdict:

- ``near_miss`` (*formulation proche de la réponse X*): the NLU put answer X among its candidates
  and the questions are written like X's training examples: add them as examples of X;
- ``new_topic`` (*nouveau sujet*): about the sector, but no answer is close: a candidate for a new
  FAQ entry (or for out_of_scope);
- ``noise`` (*bruit*): no word of the sector (gibberish, greetings, insults, off-topic chatter):
  never a to-do.

Plain Python and scikit-learn/SciPy; nothing here imports Rasa.
"""

from __future__ import annotations

import collections
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from bot import wording
from bot.matching import DecisionKind

ROOT = Path(__file__).resolve().parents[1]
NLU_FILE = wording.NLU_FILE

NEAR_MISS = "near_miss"
NEW_TOPIC = "new_topic"
NOISE = "noise"
VERDICT_LABELS = {NEAR_MISS: "formulation proche", NEW_TOPIC: "nouveau sujet", NOISE: "bruit"}
# Why a new topic is one, as the report says it (French, for the FAQ maintainers)
LIKE_KNOWN_OUT_OF_SCOPE = "ressemble aux exemples hors sujet déjà connus"
NO_CLOSE_ANSWER = "aucune réponse proche"

# Two questions (or groups) join when their mean similarity reaches this; the similarity is half
# character n-grams, half closeness to the same FAQ answers (see `Grouper.similarities`). Chosen by
# cross-validation on data/nlu.yml (bench/grouping.py, figures in bench/GROUPING.md).
GROUP_MIN_SIMILARITY = 0.30
LEXICAL_WEIGHT = 0.5
PROFILE_POWER = 4
PROFILE_GATE = (0.4, 0.6)  # the closeness profile counts from 0.4 (not at all) to 0.6 (fully)


@dataclass(frozen=True)
class NearMissRule:
    """When a group is a new wording of an answer: the NLU proposed the answer (mean score at least
    `min_nlu`) and the questions read like its training examples (mean best cosine at least
    `min_text`), or, whatever the NLU said, they read very much like them (`strong_text`; infinite:
    never); in both cases more than like the out_of_scope examples (questions the maintainers
    already said the FAQ does not answer). Chosen by cross-validation on data/nlu.yml
    (bench/grouping.py): the text alone proposes only a near repeat of an answer's example; below
    that, proposals without the NLU's word were too often wrong."""

    min_nlu: float = 0.55
    min_text: float = 0.20
    strong_text: float = 0.95

    def proposes(self, closeness: "Closeness", out_of_scope: float) -> bool:
        return closeness.text > out_of_scope and (
            (closeness.nlu >= self.min_nlu and closeness.text >= self.min_text) or closeness.text >= self.strong_text
        )


NEAR_MISS_RULE = NearMissRule()
# Text closeness from which a group is said to read like known examples (the reason shown when it
# reads like the out_of_scope examples at least as much as like any answer's).
ALIKE_TEXT = 0.40
CLOSEST = 3
MAX_DISTINCT = 2000  # different questions grouped at once (memory grows as the square)

# Intents of data/nlu.yml that are not about the FAQ and not out_of_scope: chit-chat and commands.
OUT_OF_SCOPE = "out_of_scope"
CHAT_INTENTS = ("greet", "goodbye", "thank", "capabilities", "human_handoff", "affirm", "deny", "browse", "rephrase")
FAQ_PREFIX = "ask_"

# French function words and words that say nothing of a topic: left out of the n-grams and of
# the sector vocabulary.
STOPWORDS = frozenset(
    """
a afin ai aie aient ait alors as au aucun aucune aupres aussi autre autres aux avais avait avant avec avez avoir avons
bah bien bon c ca car ce ceci cela celle celles celui certains ces cet cette ceux chaque chez ci comme comment
d dans de des deja depuis devons dois doit doivent donc dont du elle elles en encore entre es est et etait ete etre eu
eux faire fait faut font il ils j je jusqu l la le les leur leurs lui m ma mais me meme mes moi mon n ne ni nos notre
nous on ont ou oui non par pas peu peut peuvent plus pour pourquoi pouvons puis puisque qu quand que quel quelle
quelles quels qui quoi s sa sans se ses si sinon soit son sont sous suis sur t ta te tes toi ton tous tout toute toutes
tres tu un une unes uns vers veut voici voila vont vos votre vous vu y svp stp merci bonjour salut allo ok okay dire
sais savoir voudrais veux aimerais souhaite souhaiterais besoin question questions demande info infos information
informations aide aider quoi combien ya chose choses truc trucs
""".split()
)

# Words of the e-health sector (curated): a question with one of them is about the sector, hence
# a possible new topic, never noise. Also how out_of_scope examples are split into sector questions
# and chit-chat for the noise classifier.
SECTOR_TERMS = frozenset(
    """
sante medical medicale medicaux medicales medecin medecins patient patients soin soins hopital hopitaux clinique
pharmacie pharmacien pharmaciens officine laboratoire biologie radiologie infirmier infirmiere kine dentiste ehpad
dmp cps ecps ins insi mssante hds hebergeur rgpd dpo cnil esante interoperabilite interop hl7 fhir ihe cda
certification certifier certifie label referencement segur ordonnance prescription teleconsultation telemedecine
teleexpertise telesurveillance ameli vitale rpps finess adeli cnam remboursement doctrine qhn dmn mes convergence
pgssi dpi lgc lgo sgl ris pacs drimbox pfi dsr sons latm pecan has ansm
""".split()
)


# --- text ------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lowercase, no accents, no punctuation, single spaces: "Coût QHN ?" and "cout qhn" group."""
    text = unicodedata.normalize("NFKD", (text or "").replace("’", "'").lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.replace("_", " ").split())


def words(text: str) -> List[str]:
    return normalise(text).split()


def content_words(text: str) -> List[str]:
    return [w for w in words(text) if w not in STOPWORDS and not w.isdigit()]


def content_text(text: str) -> str:
    """What the n-grams are taken from: the content words (the whole text if it has none)."""
    kept = content_words(text)
    return " ".join(kept) if kept else normalise(text)


STEM = 5


def stems(text: str) -> str:
    """Content words cut to their first letters: "certifiés", "certification" and "certif" meet."""
    return " ".join(w[:STEM] for w in content_words(text))


def key_hash(key: str) -> str:
    """The fingerprint of a normalised question, as kept in the review history (sha1)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def key_id(key: str) -> str:
    """A short stable id for a normalised question (groups are named after their main question)."""
    return key_hash(key)[:8]


# --- what the grouping learns from -----------------------------------------------------


def read_examples(path: Path = NLU_FILE) -> Dict[str, List[str]]:
    """data/nlu.yml: intent -> its examples."""
    return wording.read_examples(path)


parse_examples = wording.parse_examples


@dataclass(frozen=True)
class AnswerText:
    """What an answer is known by: its id, title and text (from bot/data/faq.yml)."""

    id: str
    title: str
    text: str = ""


@dataclass(frozen=True)
class Question:
    """One row of the `unanswered` table."""

    text: str
    kind: str  # DecisionKind.SUGGEST or DecisionKind.NONE, as stored
    candidates: Tuple[Tuple[str, float], ...] = ()
    created_at: Optional[datetime] = None

    @staticmethod
    def of(row: Mapping) -> "Question":
        candidates = tuple((str(a), float(s)) for a, s in (row.get("candidates") or []))
        return Question(
            str(row.get("text") or ""), str(row.get("kind") or DecisionKind.NONE), candidates, row.get("created_at")
        )


@dataclass(frozen=True)
class Closeness:
    answer_id: str
    nlu: float  # mean score the NLU gave it over the group's questions (0 when not a candidate)
    text: float  # mean best cosine between the questions and the answer's examples and title

    @property
    def score(self) -> float:
        return max(self.nlu, self.text)


@dataclass
class Group:
    id: str
    verdict: str
    questions: List[Tuple[str, int]]  # (most frequent spelling, times), most frequent first
    keys: List[str]  # normalised questions, same order
    size: int  # rows of the unanswered table
    suggested: int
    no_candidate: int
    closest: List[Closeness]
    answer_id: Optional[str] = None  # the answer of a near miss
    reason: str = ""
    first_seen: Optional[datetime] = None
    last_seen: Optional[datetime] = None

    @property
    def example(self) -> str:
        return self.questions[0][0]

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self.verdict]


class Grouper:
    """Groups questions and judges groups, from the training data and the FAQ answers."""

    def __init__(
        self,
        examples: Mapping[str, Sequence[str]],
        answers: Sequence[AnswerText],
        min_similarity: float = GROUP_MIN_SIMILARITY,
        rule: NearMissRule = NEAR_MISS_RULE,
    ):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.min_similarity = min_similarity
        self.rule = rule
        self.left_out = 0
        self.answers = {a.id: a for a in answers}
        faq_texts: Dict[str, List[str]] = {a.id: list(examples.get(FAQ_PREFIX + a.id, ())) + [a.title] for a in answers}
        corpus = (
            [t for texts in examples.values() for t in texts] + [a.title for a in answers] + [a.text for a in answers]
        )
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, preprocessor=content_text, min_df=1
        )
        self.vectorizer.fit(corpus)
        self.word_vectorizer = TfidfVectorizer(
            analyzer="word", preprocessor=stems, token_pattern=r"\S+", sublinear_tf=True
        )
        self.word_vectorizer.fit(corpus)
        # the sector terms each answer is asked with or speaks of: a question naming another one
        # (the DMP, HDS...) is not a new wording of that answer, however alike the rest reads
        self._sector_terms = {
            aid: frozenset(w for t in texts + [self.answers[aid].text] for w in words(t) if w in SECTOR_TERMS)
            for aid, texts in faq_texts.items()
        }
        self._answer_ids = [aid for aid in faq_texts for _ in faq_texts[aid]]
        self._answer_order = list(faq_texts)
        out_of_scope = list(examples.get(OUT_OF_SCOPE, ()))
        self._oos_matrix = self.vectorizer.transform(out_of_scope) if out_of_scope else None
        self._answer_matrix = self.vectorizer.transform([t for aid in faq_texts for t in faq_texts[aid]])

        # Noise or not: a linear classifier, sector questions (FAQ examples and titles, out_of_scope
        # examples naming the sector) against chit-chat (the other intents and out_of_scope examples).
        from sklearn.linear_model import LogisticRegression

        sector, chat = [], []
        for intent, texts in examples.items():
            for t in texts:
                if intent.startswith(FAQ_PREFIX) or (intent == OUT_OF_SCOPE and self.has_sector_term(t)):
                    sector.append(t)
                elif intent == OUT_OF_SCOPE or intent in CHAT_INTENTS:
                    chat.append(t)
        sector += [a.title for a in answers]
        self.noise_model = None
        if sector and chat:
            self.noise_model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
            self.noise_model.fit(self.vectors(sector + chat), [1] * len(sector) + [0] * len(chat))
        self.known = (
            frozenset(w for texts in examples.values() for t in texts for w in words(t))
            | frozenset(w for a in answers for w in words(a.title + " " + a.text))
            | SECTOR_TERMS
            | STOPWORDS
        )

    # --- words ---------------------------------------------------------------------

    @staticmethod
    def has_sector_term(text: str) -> bool:
        return any(w in SECTOR_TERMS for w in words(text))

    def foreign_terms(self, answer_id: str, texts: Sequence[str]) -> FrozenSet[str]:
        """Sector terms that every one of `texts` names and that the answer is never asked with."""
        named = [frozenset(w for w in words(t) if w in SECTOR_TERMS) for t in texts]
        common = frozenset.intersection(*named) if named else frozenset()
        return common - self._sector_terms.get(answer_id, frozenset())

    def sector_probability(self, texts: Sequence[str]) -> List[float]:
        """How likely each text is a question about the sector rather than chit-chat (0..1)."""
        if self.noise_model is None:
            return [1.0] * len(texts)
        matrix = self.vectors(texts)
        probabilities = self.noise_model.predict_proba(matrix)[:, 1]
        out = []
        for text, p, row in zip(texts, probabilities, range(matrix.shape[0])):
            if self.has_sector_term(text):
                out.append(1.0)
            elif matrix[row].nnz == 0 or self.is_gibberish(text):
                out.append(0.0)
            else:
                out.append(float(p))
        return out

    def is_gibberish(self, text: str) -> bool:
        """Mostly strings that are neither known words nor look like French words."""
        ws = words(text)
        if not ws:
            return True
        odd = [w for w in ws if w not in self.known and not _looks_like_a_word(w)]
        return len(odd) * 2 >= len(ws)

    # --- similarity ----------------------------------------------------------------

    def vectors(self, texts: Sequence[str]):
        return self.vectorizer.transform(list(texts))

    def profiles(self, texts: Sequence[str]) -> "np.ndarray":
        """texts x answers: the best cosine of each text with each answer's examples and title."""
        sims = (self.vectors(texts) @ self._answer_matrix.T).toarray()
        ids = np.array(self._answer_ids)
        return np.stack([sims[:, ids == aid].max(axis=1) for aid in self._answer_order], axis=1)

    def text_closeness(self, texts: Sequence[str], weights: Sequence[float]) -> Dict[str, float]:
        """Per answer: the weighted mean over `texts` of the best cosine with its examples and title."""
        w = np.asarray(weights, dtype=float)
        means = (self.profiles(texts) * w[:, None]).sum(axis=0) / w.sum()
        return {aid: float(m) for aid, m in zip(self._answer_order, means)}

    def out_of_scope_closeness(self, texts: Sequence[str], weights: Sequence[float]) -> float:
        """The weighted mean over `texts` of the best cosine with the out_of_scope examples."""
        if self._oos_matrix is None:
            return 0.0
        best = (self.vectors(texts) @ self._oos_matrix.T).toarray().max(axis=1)
        w = np.asarray(weights, dtype=float)
        return float((best * w).sum() / w.sum())

    def similarities(self, keys: Sequence[str]) -> "np.ndarray":
        """Pairwise similarity of questions: half their character n-grams, half how alike their
        closeness to the FAQ answers is (sharpened; counted only as far as both are close to some
        answer, so two unrelated questions far from every answer do not look alike)."""
        from scipy.spatial.distance import pdist, squareform

        lexical = np.zeros((len(keys), len(keys)))
        for vectorizer in (self.vectorizer, self.word_vectorizer):
            matrix = vectorizer.transform(list(keys))  # sparse, rows of norm 1 (or empty): dot = cosine
            lexical += (matrix @ matrix.T).toarray() / 2
        profiles = self.profiles(keys)
        sharp = profiles**PROFILE_POWER
        sharp[~sharp.any(axis=1), 0] = 1e-9
        alike = 1.0 - squareform(pdist(sharp, "cosine"))
        best = profiles.max(axis=1)
        low, high = PROFILE_GATE
        gate = np.clip((np.minimum.outer(best, best) - low) / (high - low), 0.0, 1.0)
        return (1.0 - gate) * lexical + gate * (LEXICAL_WEIGHT * lexical + (1.0 - LEXICAL_WEIGHT) * alike)

    def clusters(self, keys: Sequence[str], min_similarity: Optional[float] = None) -> List[List[int]]:
        """Average-linkage clusters of the normalised questions (see `similarities`), joined down to
        `min_similarity` (default: the grouper's)."""
        if len(keys) == 1:
            return [[0]]
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        distances = np.clip(1.0 - self.similarities(keys), 0.0, 2.0)
        np.fill_diagonal(distances, 0.0)
        labels = fcluster(
            linkage(squareform(distances, checks=False), "average"),
            t=1.0 - (self.min_similarity if min_similarity is None else min_similarity),
            criterion="distance",
        )
        found: Dict[int, List[int]] = collections.defaultdict(list)
        for index, label in enumerate(labels):
            found[label].append(index)
        return list(found.values())

    # --- the groups ----------------------------------------------------------------

    def group(self, questions: Iterable[Question]) -> List[Group]:
        """Groups of the questions, the largest first and noise last. Beyond MAX_DISTINCT different
        questions, the least asked are left out (their number is in `self.left_out`)."""
        by_key: Dict[str, List[Question]] = collections.defaultdict(list)
        for q in questions:
            key = normalise(q.text)
            if key:
                by_key[key].append(q)
        keys = sorted(by_key)
        self.left_out = 0
        if len(keys) > MAX_DISTINCT:
            kept = sorted(keys, key=lambda k: (-len(by_key[k]), k))[:MAX_DISTINCT]
            self.left_out = sum(len(by_key[k]) for k in keys) - sum(len(by_key[k]) for k in kept)
            keys = sorted(kept)
        if not keys:
            return []
        groups = [self._judge([keys[i] for i in members], by_key) for members in self.clusters(keys)]
        return sorted(
            groups,
            key=lambda g: (g.verdict == NOISE, -g.size, -(g.last_seen.timestamp() if g.last_seen else 0.0), g.example),
        )

    def _judge(self, keys: List[str], by_key: Mapping[str, List[Question]]) -> Group:
        rows = [q for k in keys for q in by_key[k]]
        keys = sorted(keys, key=lambda k: (-len(by_key[k]), k))
        spellings = [collections.Counter(q.text for q in by_key[k]).most_common(1)[0][0] for k in keys]
        counts = [len(by_key[k]) for k in keys]
        times = [q.created_at for q in rows if q.created_at is not None]
        group = Group(
            id=key_id(keys[0]),
            verdict=NEW_TOPIC,
            questions=list(zip(spellings, counts)),
            keys=keys,
            size=len(rows),
            suggested=sum(q.kind == DecisionKind.SUGGEST for q in rows),
            no_candidate=sum(q.kind != DecisionKind.SUGGEST for q in rows),
            closest=[],
            first_seen=min(times) if times else None,
            last_seen=max(times) if times else None,
        )
        closest, out_of_scope = self.closeness(spellings, counts, rows)
        group.closest = closest[:CLOSEST]

        noise = self.noise_reason(spellings, counts)
        if noise:
            group.verdict, group.reason = NOISE, noise
            return group
        best = self.near_miss(closest, out_of_scope, spellings)
        if best is not None:
            group.verdict, group.answer_id = NEAR_MISS, best.answer_id
            group.reason = f"proche de « {self.answers[best.answer_id].title} »"
        elif out_of_scope >= max(ALIKE_TEXT, max((c.text for c in closest), default=0.0)):
            group.reason = LIKE_KNOWN_OUT_OF_SCOPE
        else:
            group.reason = NO_CLOSE_ANSWER
        return group

    def noise_reason(self, spellings: Sequence[str], counts: Sequence[int]) -> Optional[str]:
        """Why the questions are noise (most of them are not about the sector), or None."""
        size = sum(counts)
        sector = sum(count for p, count in zip(self.sector_probability(spellings), counts) if p >= 0.5)
        if sector * 2 >= size:
            return None
        gibberish = sum(count for spelling, count in zip(spellings, counts) if self.is_gibberish(spelling))
        return "charabia" if gibberish * 2 >= size else "hors du domaine (salutation, bavardage…)"

    def closeness(
        self, spellings: Sequence[str], counts: Sequence[int], rows: Sequence[Question]
    ) -> Tuple[List[Closeness], float]:
        """How close the questions are to each answer (closest first) and to the out_of_scope examples."""
        nlu: Dict[str, float] = collections.defaultdict(float)
        for q in rows:
            for aid, score in q.candidates:
                nlu[aid] += score / len(rows)
        text = self.text_closeness(spellings, counts)
        closest = [
            Closeness(aid, round(nlu.get(aid, 0.0), 3), round(text.get(aid, 0.0), 3)) for aid in set(text) | set(nlu)
        ]
        closest.sort(key=lambda c: (-c.score, -c.text, c.answer_id))
        return closest, self.out_of_scope_closeness(spellings, counts)

    def near_miss(
        self,
        closest: Sequence[Closeness],
        out_of_scope: float,
        spellings: Sequence[str],
        rule: Optional[NearMissRule] = None,
    ) -> Optional[Closeness]:
        """The answer whose new wordings the questions are, if any (`rule`: default the grouper's)."""
        rule = rule or self.rule
        proposed = [
            c
            for c in closest
            if c.answer_id in self.answers
            and rule.proposes(c, out_of_scope)
            and not self.foreign_terms(c.answer_id, spellings)
        ]
        return max(proposed, key=lambda c: (c.nlu + c.text, c.text)) if proposed else None


_VOWELS = set("aeiouy")


def _looks_like_a_word(word: str) -> bool:
    """A rough check for keyboard mashing: vowels present, no long consonant run, not one letter repeated."""
    if word.isdigit() or len(word) <= 2:
        return True
    if not any(c in _VOWELS for c in word) or len(set(word)) <= 2:
        return False
    return not re.search(r"[^aeiouy\d]{5,}", word)


def default_grouper(kb=None, nlu_file: Path = NLU_FILE) -> Grouper:
    """The grouper of the shipped data: data/nlu.yml and the knowledge base's answers."""
    if kb is None:
        from bot.knowledge import default_kb

        kb = default_kb()
    answers = [AnswerText(a.id, a.title, a.text) for a in kb.answers]
    return Grouper(read_examples(nlu_file), answers)
