"""One way to compare French texts whatever their case, accents, apostrophes and punctuation.

Vendors type without accents, with typographic apostrophes and hyphens or none: "Ségur",
"segur", "SEGUR" and "ségur-" must all look alike to the guards and to the data checks.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Iterable, List, Optional, Tuple

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics one space: "L’INS-é ?" -> "l ins e"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", plain).strip()


NEAR_DUPLICATE = 0.8  # difflib ratio of the folded texts: at or above, two questions are the same one


def near_duplicate(
    question: str, folded: Iterable[Tuple[str, str]], limit: float = NEAR_DUPLICATE
) -> Optional[Tuple[str, float]]:
    """The first of `folded` ((folded text, original) pairs) that `question` nearly repeats, with the ratio.

    Why: an evaluation question, or a held-out example of the cross-validation, that nearly repeats
    a training example measures memory, not understanding (tests/test_data.py, bench/crossval.py).
    """
    matcher = difflib.SequenceMatcher(None, "", fold(question), autojunk=False)
    for candidate, original in folded:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= limit and matcher.quick_ratio() >= limit and matcher.ratio() >= limit:
            return original, round(matcher.ratio(), 2)
    return None


def near_duplicates(questions: Iterable[str], training: Iterable[str], limit: float = NEAR_DUPLICATE) -> List[tuple]:
    """(question, training example, ratio) for each question too close to a training example."""
    folded = [(fold(e), e) for e in training]
    found = []
    for question in questions:
        hit = near_duplicate(question, folded, limit)
        if hit:
            found.append((question, *hit))
    return found


def one_edit_apart(a: str, b: str) -> bool:
    """At most one insertion, deletion, substitution or swap of two neighbours."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1 :] == short:
            return True
    return False
