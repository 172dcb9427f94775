"""docs/openapi.yaml against the real REST channel: every live reply fits the schema of its status.

The file must be OpenAPI 3.1 shaped (every operation with its statuses, every schema valid JSON
Schema 2020-12, every example valid against its schema). Then the running server (the `bot_url`
fixture: Rasa and the action server, as `make run` starts them) gets a request for each status:
a typed message, a button's payload, malformed JSON, a missing sender, a wrong Content-Type, an
oversized body, too many messages in one conversation, and the health check. A status the file
does not document fails the test, and so does a body that does not fit the documented schema.
"""

from __future__ import annotations

import copy
import http.client
import json
import re
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

import jsonschema
import pytest
import yaml

from bot import screening, texts
from bot.settings import Settings


def new_sender() -> str:
    """A random, unguessable conversation id, as integrators must use."""
    return uuid.uuid4().hex


SPEC_PATH = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
WEBHOOK = "/webhooks/rest/webhook"
HEALTH = "/webhooks/rest/"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# what each operation must document
REQUIRED_STATUSES = {(WEBHOOK, "post"): {"200", "400", "413", "415", "429"}, (HEALTH, "get"): {"200"}}


# --- the file ------------------------------------------------------------------------------


def resolve(node: Any, spec: Dict = SPEC, seen: Tuple[str, ...] = ()) -> Any:
    """`node` with every local `$ref` ("#/components/...") replaced by what it points to."""
    if isinstance(node, list):
        return [resolve(item, spec, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local references: {ref}"
        assert ref not in seen, f"circular reference: {ref}"
        target: Any = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(target, dict) and part in target, f"{ref} points to nothing"
            target = target[part]
        rest = {key: value for key, value in node.items() if key != "$ref"}
        return resolve({**copy.deepcopy(target), **rest}, spec, seen + (ref,))
    return {key: resolve(value, spec, seen) for key, value in node.items()}


def operations() -> Iterator[Tuple[str, str, Dict]]:
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def schema_of(path: str, method: str, status: int) -> Dict:
    """The JSON schema of the reply `status` to `method path`; fails if the file does not document it."""
    responses = SPEC["paths"][path][method]["responses"]
    assert str(status) in responses, (
        f"{method.upper()} {path} answered {status}, a status docs/openapi.yaml does not document "
        f"(documented: {', '.join(sorted(responses))})"
    )
    return resolve(responses[str(status)]["content"]["application/json"]["schema"])


def test_the_file_is_openapi_3_1():
    assert re.fullmatch(r"3\.1\.\d+", str(SPEC.get("openapi"))), "openapi: 3.1.x"
    assert SPEC["info"].get("title") and SPEC["info"].get("version")
    assert SPEC.get("paths"), "no paths"
    found = set()
    for path, method, operation in operations():
        assert path.startswith("/"), path
        assert operation.get("operationId") and operation.get("summary"), f"{method} {path}"
        responses = operation.get("responses")
        assert responses, f"{method.upper()} {path} has no responses"
        for status, response in responses.items():
            assert re.fullmatch(r"[1-5]\d\d", status), f"{method.upper()} {path}: status {status!r}"
            assert response.get("description"), f"{method.upper()} {path} {status}: no description"
            assert "schema" in response.get("content", {}).get(
                "application/json", {}
            ), f"{method.upper()} {path} {status}: no application/json schema"
        missing = REQUIRED_STATUSES.get((path, method), set()) - set(responses)
        assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"
        found.add((path, method))
    assert set(REQUIRED_STATUSES) <= found, f"operations missing: {set(REQUIRED_STATUSES) - found}"
    request = SPEC["paths"][WEBHOOK]["post"]["requestBody"]
    assert request["required"] and "schema" in request["content"]["application/json"]


def test_every_schema_is_valid_json_schema_2020_12():
    for name, schema in SPEC["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(resolve(schema))


def _media_types() -> Iterator[Tuple[str, Dict]]:
    for path, method, operation in operations():
        body = operation.get("requestBody")
        if body:
            yield f"{method.upper()} {path} request", body["content"]["application/json"]
        for status, response in operation["responses"].items():
            yield f"{method.upper()} {path} {status}", response["content"]["application/json"]


def test_every_example_fits_its_schema():
    count = 0
    for where, media in _media_types():
        schema = resolve(media["schema"])
        examples = [example["value"] for example in media.get("examples", {}).values()]
        if "example" in media:
            examples.append(media["example"])
        assert examples, f"{where}: no example"
        for value in examples:
            jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)
            count += 1
    assert count >= 10


def documented_examples(status: int) -> list:
    media = SPEC["paths"][WEBHOOK]["post"]["responses"][str(status)]["content"]["application/json"]
    return [example["value"] for example in media["examples"].values()]


def test_the_documented_messages_are_the_bots_own():
    """Each error the REST channel can send (bot/texts.py, with the default limits) is documented
    under its status, word for word, and nothing else is; so are the 200 replies the guard sends."""
    defaults = Settings()
    errors = {
        400: {
            texts.JSON_INVALID,
            texts.JSON_NOT_OBJECT,
            texts.json_too_deep(defaults.max_json_depth),
            texts.SENDER_MISSING,
            texts.SENDER_NOT_TEXT,
            texts.sender_malformed(screening.MAX_SENDER_CHARS),
            texts.MESSAGE_MISSING,
            texts.MESSAGE_NOT_TEXT,
        },
        413: {texts.body_too_large(defaults.max_body_bytes // 1024)},
        415: {texts.JSON_ONLY},
        429: {texts.RATE_LIMITED},
    }
    for status, expected in errors.items():
        assert {example["error"] for example in documented_examples(status)} == expected, status
    replies = {message["text"] for example in documented_examples(200) for message in example}
    assert {texts.WELCOME, texts.EMPTY, texts.UNAVAILABLE} <= replies


# --- the live server ---------------------------------------------------------------------


def request(
    base_url: str, path: str, body: Optional[bytes] = None, content_type: Optional[str] = "application/json"
) -> Tuple[int, str, Any]:
    """(status, Content-Type, decoded JSON body) of one request: a POST when there is a body, else
    a GET; no Content-Type header at all when `content_type` is None."""
    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        headers = {"Content-Type": content_type} if content_type and body is not None else {}
        connection.request("POST" if body is not None else "GET", path, body=body, headers=headers)
        response = connection.getresponse()
        status, media, raw = response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()
    try:
        payload = json.loads(raw.decode("utf-8"))
    except ValueError:
        pytest.fail(f"{path} answered {status} with a body that is not JSON: {raw[:200]!r}")
    return status, media, payload


def check(reply: Tuple[int, str, Any], path: str, method: str, expected: int) -> Any:
    """The reply's status is documented and the expected one; its body fits the documented schema."""
    status, media, payload = reply
    schema = schema_of(path, method, status)
    assert status == expected, f"{method.upper()} {path}: {status} instead of {expected}: {payload}"
    assert media.split(";")[0].strip() == "application/json", f"Content-Type {media!r}"
    jsonschema.validate(payload, schema, cls=jsonschema.Draft202012Validator)
    if path == WEBHOOK and status != 200:
        assert payload in documented_examples(status), f"{status}: {payload} is not among the documented examples"
    return payload


def post(base_url: str, data: Any, content_type: Optional[str] = "application/json") -> Tuple[int, str, Any]:
    body = data if isinstance(data, bytes) else json.dumps(data).encode("utf-8")
    return request(base_url, WEBHOOK, body, content_type)


def test_health(bot_url):
    assert check(request(bot_url, HEALTH), HEALTH, "get", 200) == {"status": "ok"}


def test_a_typed_message_then_a_button_payload(bot_url):
    sender = new_sender()
    replies = check(post(bot_url, {"sender": sender, "message": "Bonjour"}), WEBHOOK, "post", 200)
    assert all(message["recipient_id"] == sender for message in replies)
    buttons = [button for message in replies for button in message.get("buttons", [])]
    assert buttons, "the welcome offers buttons"
    # a click: the button's payload, sent back as the message
    replies = check(post(bot_url, {"sender": sender, "message": buttons[0]["payload"]}), WEBHOOK, "post", 200)
    assert all(message["recipient_id"] == sender for message in replies)
    assert any(message.get("buttons") for message in replies), "the next step of the tree offers buttons"


def test_a_free_question(bot_url):
    sender = new_sender()
    replies = check(
        post(bot_url, {"sender": sender, "message": "Combien coûte la certification QHN ?"}), WEBHOOK, "post", 200
    )
    assert replies[0]["text"].strip()


def test_the_documented_request_examples_are_answered(bot_url):
    media = SPEC["paths"][WEBHOOK]["post"]["requestBody"]["content"]["application/json"]
    for example in media["examples"].values():
        check(post(bot_url, {**example["value"], "sender": new_sender()}), WEBHOOK, "post", 200)


def test_an_empty_message_gets_a_reply_not_an_error(bot_url):
    check(post(bot_url, {"sender": new_sender(), "message": "   "}), WEBHOOK, "post", 200)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"sender": "abc", "message": ', id="malformed-json"),
        pytest.param(b'["abc", "bonjour"]', id="not-an-object"),
        pytest.param(b'{"message": "bonjour"}', id="missing-sender"),
        pytest.param(b'{"sender": "abc"}', id="missing-message"),
        pytest.param(b'{"sender": 42, "message": "bonjour"}', id="sender-not-a-string"),
        pytest.param(b'{"sender": "a b", "message": "bonjour"}', id="sender-with-a-space"),
        pytest.param(b'{"sender": "abc", "message": ["bonjour"]}', id="message-not-a-string"),
        pytest.param(b"[" * 50 + b"]" * 50, id="nested-too-deep"),
    ],
)
def test_bad_requests_are_400(bot_url, body):
    check(post(bot_url, body), WEBHOOK, "post", 400)


def test_an_oversized_body_is_413(bot_url):
    size = Settings().max_body_bytes
    check(post(bot_url, {"sender": new_sender(), "message": "x" * (size + 1)}), WEBHOOK, "post", 413)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_declared_json_is_415(bot_url, content_type):
    body = json.dumps({"sender": new_sender(), "message": "bonjour"}).encode("utf-8")
    check(post(bot_url, body, content_type), WEBHOOK, "post", 415)


def test_too_many_messages_in_one_conversation_is_429(bot_url):
    """The suite turns the per-address limit off; the per-conversation one stays at its default.
    Blank messages are answered without the NLU, so the burst is spent quickly."""
    limit = Settings().per_conversation
    sender = new_sender()
    accepted = 0
    for _ in range(limit + 10):
        reply = post(bot_url, {"sender": sender, "message": " "})
        if reply[0] != 200:
            break
        check(reply, WEBHOOK, "post", 200)
        accepted += 1
    else:
        pytest.fail(f"{limit + 10} messages in one conversation, no 429")
    assert accepted >= limit, f"refused after {accepted} messages, the limit is {limit} a minute"
    payload = check(reply, WEBHOOK, "post", 429)
    assert "patienter" in payload["error"]
    # another conversation is not held back
    check(post(bot_url, {"sender": new_sender(), "message": " "}), WEBHOOK, "post", 200)
