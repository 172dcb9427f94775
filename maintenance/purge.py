"""Delete what is older than N days (RGPD: keep data no longer than needed).

    python -m maintenance.purge --days 30      (or: make purge DAYS=30)

Purges the maintainers' database (feedback, answers shown, unanswered questions) and Rasa's
conversation history (the SQL tracker store: every message typed). Recent rows stay, so
conversations going on keep going. Rows go in batches through an index; a SQLite file is then
compacted (VACUUM, emptied WAL) so that the purged text is gone from the disk too (bot/store.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, Optional

import yaml
from sqlalchemy.engine import make_url

from bot import store as store_module

ROOT = Path(__file__).resolve().parents[1]


def tracker_store_url(endpoints_file: Path = ROOT / "endpoints.yml") -> Optional[str]:
    endpoints = yaml.safe_load(endpoints_file.read_text(encoding="utf-8")) or {}
    return store_module.tracker_url(endpoints.get("tracker_store"))


def purge(days: float, url: Optional[str] = None, tracker_url: Optional[str] = None) -> Dict[str, int]:
    """Rows deleted per table; `events` is Rasa's conversation history."""
    store = store_module.Store(url)
    try:
        deleted = store.purge(days)
    finally:
        store.dispose()
    if tracker_url:
        deleted["events"] = store_module.purge_tracker_store(tracker_url, days)
    return deleted


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, required=True, help="delete what is older than this many days")
    parser.add_argument("--url", help="database URL (default: FAQ_STORE_URL, else sqlite:///var/faq.db)")
    parser.add_argument("--tracker-url", help="tracker store URL (default: FAQ_TRACKER_STORE_URL, else endpoints.yml)")
    parser.add_argument("--keep-conversations", action="store_true", help="leave Rasa's conversation history alone")
    args = parser.parse_args(argv)
    if args.days < 0:
        parser.error("--days must be 0 or more")
    tracker_url = (
        None
        if args.keep_conversations
        else (store_module.resolve_url(args.tracker_url) if args.tracker_url else tracker_store_url())
    )
    deleted = purge(args.days, args.url, tracker_url)
    where = make_url(store_module.resolve_url(args.url) if args.url else store_module.store_url())
    print(
        f"Supprimé (plus de {args.days:g} jours, {where.render_as_string(hide_password=True)}) : "
        + ", ".join(f"{table} {count}" for table, count in deleted.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
