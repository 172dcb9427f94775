"""The launcher's fix: action server answers are validated as by Rasa, without re-checking the schema."""

import jsonschema
import pytest
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

from addons import patches

VALID = {
    "events": [{"event": "slot", "name": "last_answer_id", "value": "qhn_cout_certification"}],
    "responses": [
        {
            "text": "Cette réponse vous a-t-elle été utile ?",
            "buttons": [{"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}],
        }
    ],
}
INVALID = {"events": "not a list", "responses": []}


def _patched():
    patches.apply()
    return RemoteAction._validate_action_result


def test_same_verdicts_as_rasa():
    validate = _patched()
    assert validate(None, VALID) is True
    jsonschema.validate(VALID, RemoteAction.action_response_format_spec())  # Rasa's own check agrees
    with pytest.raises(jsonschema.ValidationError) as rasa_error:
        jsonschema.validate(INVALID, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        validate(None, INVALID)
    assert ours.value.message.startswith(rasa_error.value.message)
    assert "Failed to validate Action server response" in ours.value.message


def test_schema_checked_once_not_per_message(monkeypatch):
    """Rasa checks the schema itself, then the answer, at every message; here the schema is checked
    once per process (the validator is kept)."""
    validate = _patched()
    patches._validator.cache_clear()
    patches._valid_answers.clear()
    checked = []
    cls = validator_for(RemoteAction.action_response_format_spec())
    check_schema = cls.check_schema.__func__
    monkeypatch.setattr(
        cls, "check_schema", classmethod(lambda c, schema: checked.append(schema) or check_schema(c, schema))
    )
    for n in range(5):
        validate(None, {**VALID, "events": [{**VALID["events"][0], "value": f"answer_{n}"}]})
    assert len(checked) == 1


def test_tracker_store_on_a_sqlite_file_keeps_its_connection(tmp_path):
    import asyncio

    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    patches.apply()
    patches.apply()  # applying twice wraps once
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert isinstance(store.engine.pool, sa.pool.QueuePool)

    async def roundtrip():
        tracker = await store.get_or_create_tracker("c1")
        tracker.update(UserUttered("bonjour"))
        await store.save(tracker)
        return await store.retrieve("c1")

    assert [e.text for e in asyncio.run(roundtrip()).events if isinstance(e, UserUttered)] == ["bonjour"]
    memory = SQLTrackerStore(Domain.empty(), dialect="sqlite", db="")
    assert not isinstance(memory.engine.pool, sa.pool.QueuePool)


def test_an_answer_found_valid_is_not_validated_again(monkeypatch):
    validate = _patched()
    patches._valid_answers.clear()
    calls = []
    validator = patches._validator()
    monkeypatch.setattr(
        type(validator), "validate", lambda self, result: calls.append(1) or jsonschema.validate(result, self.schema)
    )
    same = {"responses": VALID["responses"], "events": VALID["events"]}  # the same JSON, keys in another order
    assert validate(None, VALID) is True and validate(None, same) is True
    assert calls == [1]
    other = {**VALID, "events": []}
    assert validate(None, other) is True and calls == [1, 1]
    for _ in range(2):  # an invalid answer is checked, and refused, each time
        with pytest.raises(jsonschema.ValidationError):
            validate(None, INVALID)
    assert calls == [1, 1, 1, 1]
    monkeypatch.setattr(patches, "VALID_ANSWERS_KEPT", 2)  # bounded: full, it starts again
    assert validate(None, {"events": [], "responses": []}) is True
    assert len(patches._valid_answers) == 1
