"""Append training examples to data/nlu.yml without touching anything else in it.

The file is edited as text: its comments, order and layout stay as they are. New examples go at
the end of their intent's `examples: |` block, followed by a YAML comment (outside the block, so
that Rasa does not read it as an example) giving the date, the group and what was added.
A question already present as an example of any intent (compared lowercased, without accents or
punctuation) is never added again.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

from maintenance.grouping import normalise, read_examples

# Characters YAML may not hold, and what Rasa would read as entity annotations or a payload.
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_RASA_MARKUP = re.compile(r"[\[\]{}]")
MAX_LENGTH = 300


class NluFileError(ValueError):
    """The intent is not in the file, or its block is not in the expected `examples: |` form."""


def clean(text: str) -> Tuple[Optional[str], str]:
    """The question as a training example (one line), or None and the reason it cannot be one."""
    line = " ".join(_NOT_YAML.sub(" ", text or "").split())
    if not normalise(line):
        return None, "vide"
    if _RASA_MARKUP.search(line):
        return None, "contient [ ] { } (donnée masquée ou balisage Rasa)"
    if line.startswith("/"):
        return None, "commence par / (lu comme une commande par Rasa)"
    if len(line) > MAX_LENGTH:
        return None, f"plus de {MAX_LENGTH} caractères"
    return line, ""


def existing_keys(path: Path) -> Set[str]:
    """Every example of the file, normalised."""
    return {normalise(e) for examples in read_examples(path).values() for e in examples}


@dataclass
class Addition:
    intent: str
    examples: List[str]
    note: str  # what the comment after the block says (date, group)


def _block(lines: List[str], intent: str) -> Tuple[int, str, str]:
    """(index of the line after which to insert, examples' indent, comment indent) for `intent`."""
    head = re.compile(rf"^-\s+intent:\s*{re.escape(intent)}\s*$")
    starts = [i for i, line in enumerate(lines) if head.match(line)]
    if not starts:
        raise NluFileError(f"l'intention {intent} n'est pas dans le fichier")
    start = starts[-1]
    key = next(
        (i for i in range(start + 1, min(start + 4, len(lines))) if re.match(r"^\s+examples:\s*\|[-+]?\s*$", lines[i])),
        None,
    )
    if key is None:
        raise NluFileError(f"l'intention {intent} n'a pas de bloc « examples: | »")
    key_indent = len(lines[key]) - len(lines[key].lstrip())
    last, indent = key, None
    for i in range(key + 1, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        width = len(line) - len(line.lstrip())
        if indent is None:
            if width <= key_indent:
                break
            indent = width
        if width < indent:
            break
        last = i
    if indent is None:
        raise NluFileError(f"l'intention {intent} n'a aucun exemple")
    return last, " " * indent, " " * key_indent


def append(path: Path, additions: Sequence[Addition]) -> Dict[str, List[str]]:
    """Append the examples (those not already in the file) and write the file atomically.

    Returns intent -> the examples really added.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    seen = existing_keys(path)
    lines = text.split("\n")
    added: Dict[str, List[str]] = {}
    for addition in additions:
        fresh = []
        for example in addition.examples:
            line, _ = clean(example)
            if line is None or normalise(line) in seen:
                continue
            seen.add(normalise(line))
            fresh.append(line)
        if not fresh:
            continue
        after, indent, comment_indent = _block(lines, addition.intent)
        listed = " | ".join(fresh)
        new_lines = [f"{indent}- {e}" for e in fresh]
        new_lines.append(f"{comment_indent}# {addition.note} : {len(fresh)} exemple(s) ajouté(s) : {listed}")
        lines[after + 1 : after + 1] = new_lines
        added.setdefault(addition.intent, []).extend(fresh)
    if added:
        _write(path, "\n".join(lines))
    return added


def _write(path: Path, text: str) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nlu-", suffix=".yml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, os.stat(path).st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
