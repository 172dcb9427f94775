"""Rasa's own command line (`python -m bot.tools.rasa_cli run ...`), with two speed fixes applied first.

1. Every reply of this assistant comes from a custom action, and Rasa 3.6 checks each answer of the
action server with `jsonschema.validate(result, schema)`. That call first checks the *schema
itself* against the JSON Schema 2020-12 metaschema, on every call: 20 to 45 ms of CPU per message
on this project's 2-core machines, nearly half of the Rasa server's time under load (profiled with
py-spy, see bench/PROFILE.md), while validating the answer takes 0.3 ms. The schema is Rasa's and
never changes, so it is checked once here and its validator reused: every answer of the action
server is still validated, against the same schema, with the same error on failure.

2. Rasa's SQL tracker store on a SQLite file opens and closes a connection per transaction
(SQLAlchemy 1.4's default for SQLite files), several per message, and closing the last connection
checkpoints the WAL with an fsync. Here its connections are pooled, as for any other database:
same transactions, same durability, no reconnect per message.

`bot.tools.serve` (so `make run`, `make shell` and the tests) starts Rasa through this module.
"""
from __future__ import annotations

import functools
import sys
from typing import Any, Dict, Text

from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def _validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once per process instead of once per message
    return cls(schema)


def validate_action_result(self, result: Dict[Text, Any]) -> bool:
    """Rasa's `RemoteAction._validate_action_result`, with the validator built once."""
    from jsonschema import ValidationError

    try:
        _validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


def pooled_sqlite(create_engine_kwargs):
    """Wrap Rasa's `create_engine_kwargs(url)`: a connection pool for SQLite files."""
    if getattr(create_engine_kwargs, "pooled_sqlite", False):
        return create_engine_kwargs

    def wrapped(url) -> Dict[Text, Any]:
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        kwargs = create_engine_kwargs(url)
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            kwargs.setdefault("poolclass", sa.pool.QueuePool)
            kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "check_same_thread": False}
        return kwargs

    wrapped.pooled_sqlite = True
    return wrapped


def apply() -> None:
    from rasa.core import tracker_store
    from rasa.core.actions.action import RemoteAction

    if not callable(getattr(RemoteAction, "_validate_action_result", None)) or not callable(
            getattr(tracker_store, "create_engine_kwargs", None)):
        raise RuntimeError("this Rasa version differs from 3.6: review bot/tools/rasa_cli.py")
    RemoteAction._validate_action_result = validate_action_result
    tracker_store.create_engine_kwargs = pooled_sqlite(tracker_store.create_engine_kwargs)


def main() -> None:
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
