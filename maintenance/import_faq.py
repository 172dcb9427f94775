"""`make import-faq SCRAPE=file [APPLY=1]`: keep bot/data/faq.yml in step with the ANS's FAQ page.

    python -m maintenance.import_faq capture.txt [--apply] [--faq bot/data/faq.yml]

The capture is a text copy of https://industriels.esante.gouv.fr/faq-des-industriels in the
format of the seed: the five qualifying questions (one a line), then each answer's text followed
by the line "Cette réponse vous a-t-elle été utile ?". Each captured answer is matched to an
answer of faq.yml (drafts included) by its text: identical (unchanged), or the most similar one,
word for word, when at least half of the words match (changed, shown with a word diff); what is
left is new (on the site, not in faq.yml) or removed (in faq.yml, no longer on the site).
The last line is exactly `unchanged=N changed=N new=N removed=N`.

Nothing is written unless --apply (APPLY=1): then changed texts are replaced by the site's,
verbatim, and new answers are added as drafts (`status: draft`: title and facets to fill, left out
of the bot until then). Removed answers are only reported: deleting one (with its NLU examples)
is the maintainers' call. The rest of faq.yml (comments, order, layout) is kept as it is.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

from bot.knowledge import FAQ_FILE, KnowledgeBaseError, load

FEEDBACK_LINE = "Cette réponse vous a-t-elle été utile ?"
HEADINGS = 5
MIN_SIMILARITY = 0.5  # share of words in common (difflib ratio) for "the same answer, edited"
CONTEXT_WORDS = 6


class CaptureError(ValueError):
    pass


@dataclass
class Capture:
    headings: List[str]
    answers: List[str]
    trailing: str = ""  # text after the last answer, ignored


def parse_capture(text: str) -> Capture:
    """The five headings, then the answers' texts (each one as on the page, verbatim)."""
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if len(lines) <= HEADINGS:
        raise CaptureError("la capture n'a pas les cinq questions suivies des réponses")
    parts = [part.strip("\n") for part in "\n".join(lines[HEADINGS:]).split(FEEDBACK_LINE)]
    trailing = parts.pop()  # after the last "utile ?" line: not an answer
    answers = [a for a in parts if a.strip()]
    if not answers:
        raise CaptureError(f"aucune réponse : chaque réponse doit être suivie de « {FEEDBACK_LINE} »")
    return Capture(lines[:HEADINGS], answers, trailing.strip())


@dataclass
class Known:
    id: str
    title: str
    text: str
    draft: bool


@dataclass
class Comparison:
    unchanged: List[Tuple[Known, str]]
    changed: List[Tuple[Known, str, float]]
    new: List[str]
    removed: List[Known]

    def summary(self) -> str:
        return (
            f"unchanged={len(self.unchanged)} changed={len(self.changed)} new={len(self.new)} "
            f"removed={len(self.removed)}"
        )


def known_answers(doc: dict) -> List[Known]:
    return [
        Known(
            str(a.get("id")),
            str(a.get("title") or ""),
            str(a.get("text") or "").rstrip("\n"),
            a.get("status") == "draft",
        )
        for a in doc.get("answers") or []
    ]


def _words(text: str) -> List[str]:
    return text.split()


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _words(a), _words(b), autojunk=False).ratio()


def compare(captured: Sequence[str], known: Sequence[Known]) -> Comparison:
    unchanged, left_captured, left_known = [], [], list(known)
    for text in captured:
        same = next((k for k in left_known if k.text == text), None)
        if same is not None:
            unchanged.append((same, text))
            left_known.remove(same)
        else:
            left_captured.append(text)
    pairs = sorted(
        ((similarity(text, k.text), i, j) for i, text in enumerate(left_captured) for j, k in enumerate(left_known)),
        reverse=True,
    )
    used_captured, used_known, changed = set(), set(), []
    for score, i, j in pairs:
        if score < MIN_SIMILARITY:
            break
        if i in used_captured or j in used_known:
            continue
        used_captured.add(i)
        used_known.add(j)
        changed.append((left_known[j], left_captured[i], score))
    new = [t for i, t in enumerate(left_captured) if i not in used_captured]
    removed = [k for j, k in enumerate(left_known) if j not in used_known]
    return Comparison(unchanged, changed, new, removed)


def word_diff(old: str, new: str, context: int = CONTEXT_WORDS) -> str:
    """The changed words, [-removed-] {+added+}, with a few words of context around each change."""
    a, b = _words(old), _words(new)
    parts: List[str] = []
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            same = a[i1:i2]
            first, last = index == 0, index == len(opcodes) - 1
            if len(same) > 2 * context or (first and len(same) > context) or (last and len(same) > context):
                head = [] if first else same[:context]
                tail = [] if last else same[-context:]
                parts.append(" ".join(head + ["…"] + tail))
            else:
                parts.append(" ".join(same))
            continue
        if i2 > i1:
            parts.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            parts.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(p for p in parts if p)


def _cut(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render(comparison: Comparison, capture: Capture, facet_questions: Sequence[str]) -> str:
    lines = []
    if capture.headings != list(facet_questions):
        lines.append("Attention : les cinq questions de la capture diffèrent de celles de faq.yml :")
        lines += [f"  site : {h}" for h in capture.headings]
    if capture.trailing:
        lines.append(f"Attention : texte après la dernière réponse, ignoré : « {_cut(capture.trailing)} »")
    if comparison.unchanged:
        lines.append(
            f"inchangées ({len(comparison.unchanged)}) : "
            + ", ".join(k.id + (" (brouillon)" if k.draft else "") for k, _ in comparison.unchanged)
        )
    for known, text, score in comparison.changed:
        lines.append(f"modifiée : {known.id} — {_cut(known.title, 80)} (mots en commun : {score:.0%})")
        lines.append(f"    {word_diff(known.text, text)}")
    for text in comparison.new:
        lines.append(f"nouvelle : « {_cut(text)} »")
    for known in comparison.removed:
        lines.append(f"retirée du site : {known.id} — {_cut(known.title, 80)}")
    return "\n".join(lines)


def draft_id(text: str, taken: Sequence[str]) -> str:
    base = "brouillon_" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def apply(path: Path, comparison: Comparison) -> List[str]:
    """Update the changed texts verbatim and add the new answers as drafts; returns the drafts' ids."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import LiteralScalarString

    ruamel = YAML()
    ruamel.preserve_quotes = True
    ruamel.width = 4096
    original = path.read_text(encoding="utf-8")
    doc = ruamel.load(original)
    entries = {str(a["id"]): a for a in doc["answers"]}
    for known, text, _ in comparison.changed:
        entries[known.id]["text"] = LiteralScalarString(text)
    added = []
    for text in comparison.new:
        entry = CommentedMap()
        entry["id"] = draft_id(text, list(entries) + added)
        entry["status"] = "draft"
        entry["title"] = ""
        entry["title_source"] = "ours"
        entry["url"] = str(doc.get("source") or "")
        entry["facets"] = CommentedMap()
        entry["text"] = LiteralScalarString(text)
        entry.yaml_add_eol_comment("à compléter : titre, facettes, exemples NLU ; puis retirer cette ligne", "status")
        doc["answers"].append(entry)
        added.append(entry["id"])
    out = io.StringIO()
    ruamel.dump(doc, out)
    _write_checked(path, out.getvalue(), original, comparison)
    return added


def _write_checked(path: Path, text: str, original: str, comparison: Comparison) -> None:
    """Write atomically, then check the file loads and holds the site's texts verbatim; else restore it."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".faq-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, os.stat(path).st_mode & 0o777)
    os.replace(tmp, path)
    try:
        load(path)
        texts = {
            str(a.get("text") or "").rstrip("\n") for a in yaml.safe_load(path.read_text(encoding="utf-8"))["answers"]
        }
        wanted = [t for _, t, _ in comparison.changed] + comparison.new
        if not all(t in texts for t in wanted):
            raise KnowledgeBaseError("a text was not written verbatim")
    except Exception:
        path.write_text(original, encoding="utf-8")
        raise


def draft_lines(kb, examples: Dict[str, List[str]]) -> List[str]:
    """One French line per draft of the knowledge base: what it still misses (for `make test`)."""
    lines = []
    for draft in kb.drafts:
        missing = draft.missing(kb.facets)
        if len(examples.get(draft.intent, [])) < 10:
            missing.append(f"au moins 10 exemples NLU sous {draft.intent}")
        lines.append(
            f"brouillon {draft.id} : manque " + ", ".join(missing)
            if missing
            else f"brouillon {draft.id} : complet, retirer « status: draft »"
        )
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("capture", type=Path, help="text capture of the FAQ page (format of the seed)")
    parser.add_argument("--apply", action="store_true", help="write the changes to faq.yml")
    parser.add_argument("--faq", type=Path, default=FAQ_FILE, help="the knowledge base (default: bot/data/faq.yml)")
    args = parser.parse_args(argv)
    try:
        capture = parse_capture(args.capture.read_text(encoding="utf-8"))
    except (OSError, CaptureError) as error:
        print(f"Capture illisible ({args.capture}) : {error}")
        return 2
    doc = yaml.safe_load(args.faq.read_text(encoding="utf-8"))
    comparison = compare(capture.answers, known_answers(doc))
    print(render(comparison, capture, [f["question"] for f in doc.get("facets") or []]))
    if args.apply and (comparison.changed or comparison.new):
        drafts = apply(args.faq, comparison)
        print(
            f"Écrit dans {args.faq} : {len(comparison.changed)} texte(s) mis à jour, {len(drafts)} brouillon(s) "
            f"ajouté(s) ({', '.join(drafts) or '-'}) : titre, facettes et exemples NLU à écrire, puis retirer "
            "« status: draft »."
        )
    elif not args.apply and (comparison.changed or comparison.new):
        print("Rien n'est écrit sans APPLY=1.")
    if comparison.removed:
        print("Réponses retirées du site : à supprimer à la main de faq.yml et de data/nlu.yml si c'est confirmé.")
    print(comparison.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
