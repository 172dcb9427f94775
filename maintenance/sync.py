"""Keep domain.yml and data/rules.yml in step with bot/data/faq.yml.

The FAQ intents (`ask_<answer id>`) are listed between "BEGIN generated" / "END generated"
markers. `python -m maintenance.sync` rewrites them; `--check` only reports (exit 1 if stale).
Answers marked `status: draft` have no intent until they are filled in (bot/knowledge.py).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List

from bot.knowledge import default_kb

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^(?P<indent>[ ]*)# BEGIN generated[^\n]*\n(?P<body>.*?)^(?P=indent)# END generated", re.S | re.M)
TARGETS = {ROOT / "domain.yml": "- {intent}", ROOT / "data" / "rules.yml": "- intent: {intent}"}


def rewrite(text: str, line_format: str, intents: List[str]) -> str:
    def fill(match: re.Match) -> str:
        indent = match.group("indent")
        lines = "".join(f"{indent}{line_format.format(intent=i)}\n" for i in intents)
        return f"{indent}# BEGIN generated from bot/data/faq.yml (make sync)\n{lines}{indent}# END generated"

    new, count = BLOCK.subn(fill, text)
    if count != 1:
        raise SystemExit("expected exactly one generated block")
    return new


def stale_files() -> Dict[Path, str]:
    intents = default_kb().intents
    out = {}
    for path, line_format in TARGETS.items():
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, line_format, intents)
        if new != text:
            out[path] = new
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="report stale files, change nothing")
    args = parser.parse_args(argv)
    stale = stale_files()
    for path, new in stale.items():
        if args.check:
            print(f"{path.relative_to(ROOT)} is out of step with bot/data/faq.yml: run `make sync`")
        else:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path.relative_to(ROOT)}")
    drafts = default_kb().drafts
    if drafts:  # left out of the intents until filled in (bot/knowledge.py)
        print(f"{len(drafts)} brouillon(s) de bot/data/faq.yml laissé(s) de côté : " + ", ".join(d.id for d in drafts))
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
