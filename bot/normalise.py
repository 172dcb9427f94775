"""One way to compare French texts whatever their case, accents, apostrophes and punctuation.

Vendors type without accents, with typographic apostrophes and hyphens or none: "Ségur",
"segur", "SEGUR" and "ségur-" must all look alike to the guards and to the data checks.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics one space: "L’INS-é ?" -> "l ins e"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", plain).strip()
