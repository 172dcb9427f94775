"""Every patch of Rasa 3.6 this assistant needs, applied in one place by `apply()`.

`python -m addons.cli` (Rasa's command line, which `make run`, `make shell`, `make train` and the
tests use) calls `apply()` before Rasa starts; applying twice changes nothing. A Rasa upgrade must
re-check each of them: `apply()` refuses a Rasa whose patched names are gone.

1. Action timeout. Rasa waits 5 minutes for the action server; a vendor on a web page will not.
   Rasa's `DEFAULT_REQUEST_TIMEOUT` constants become FAQ_ACTION_TIMEOUT (8 s), under the channels'
   own reply timeout (addons/guard.py), so that a stalled action server ends in "indisponible".
2. Validating the action server's answers. Rasa 3.6 checks each answer with
   `jsonschema.validate(result, schema)`, which first checks the *schema itself* against the JSON
   Schema 2020-12 metaschema, on every call: 20 to 45 ms of CPU per message on a 2-core machine,
   nearly half of the Rasa server's time under load (py-spy, bench/PROFILE.md), while validating
   the answer takes 0.3 ms. The schema is Rasa's and never changes: it is checked once here and
   its validator reused, with the same verdicts and the same error on failure.
3. SQLite connections. Rasa's SQL tracker store on a SQLite file opens and closes a connection per
   transaction (SQLAlchemy 1.4's default for SQLite files), several per message, and closing the
   last connection checkpoints the WAL with an fsync. Here its connections are pooled, as for any
   other database: same transactions, same durability.
4. Log level. The logistic regression of the NLU (addons/nlu_ensemble.py) is loaded with skops,
   whose import sets the root logger to WARNING: Rasa's INFO lines ("Rasa server is up and
   running.") would vanish. skops is imported here first, and the level restored.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Dict, Text

from rasa.shared.constants import DOCS_BASE_URL

from bot import settings


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
    import rasa.utils.endpoints
    from rasa.core import tracker_store
    from rasa.core.actions import action

    if (
        not callable(getattr(action.RemoteAction, "_validate_action_result", None))
        or not callable(getattr(tracker_store, "create_engine_kwargs", None))
        or not hasattr(action, "DEFAULT_REQUEST_TIMEOUT")
    ):
        raise RuntimeError("this Rasa version differs from 3.6: review addons/patches.py")
    timeout = settings.current().action_timeout
    action.DEFAULT_REQUEST_TIMEOUT = timeout
    rasa.utils.endpoints.DEFAULT_REQUEST_TIMEOUT = timeout
    action.RemoteAction._validate_action_result = validate_action_result
    tracker_store.create_engine_kwargs = pooled_sqlite(tracker_store.create_engine_kwargs)
    _import_skops_keeping_the_log_level()


def _import_skops_keeping_the_log_level() -> None:
    level = logging.root.level
    import skops.io  # noqa: F401

    logging.root.setLevel(level)
