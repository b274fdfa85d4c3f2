"""Bad input at the accounts endpoints: always a 4xx problem+json, never a 500, and nothing stored.

Each test sends a batch of cases through one handler over one moto instance (a fresh moto per case
would make this file slow) and lists every case that got a different answer.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from boxoffice.config import settings
from devserver.gateway import LambdaContext
from tests.integration.test_accounts import ADA, ADA_LOGIN, assert_problem, register_and_login, stored_users
from tests.support.handlers import Api, Result, sample_event

LIMIT = 64 * 1024
ENDPOINTS = ["register", "login", "update_me"]
# A valid body for each endpoint, so that only the thing under test is wrong.
VALID = {"register": ADA, "login": ADA_LOGIN, "update_me": {"name": "Ada King"}}


class Session:
    """A registered user and their token, and a check that bad requests change nothing."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.token = register_and_login(api, email="owner@example.com")
        self.before = stored_users()

    def send(self, name: str, raw: str | bytes, content_type: str | None = "application/json") -> Result:
        """POST/PATCH `raw` as the body, as API Gateway delivers it: bytes arrive base64-encoded."""
        event = sample_event(name)
        event["headers"].pop("content-type", None)
        event["headers"]["authorization"] = f"Bearer {self.token}"
        if content_type is not None:
            event["headers"]["content-type"] = content_type
        event["isBase64Encoded"] = isinstance(raw, bytes)
        event["body"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
        response = self.api.handler(name)(event, LambdaContext(function_name=name, aws_request_id="edge"))
        return Result(response["statusCode"], response["headers"], json.loads(response["body"]))

    def assert_unchanged(self) -> None:
        assert stored_users() == self.before


@pytest.fixture
def session(api: Api) -> Session:
    return Session(api)


def answers(cases: Iterable[tuple[str, Callable[[], Result]]], status: int, code: str) -> dict[str, Any]:
    """The cases that did not answer `status` problem+json with `code`, and what they answered instead."""
    wrong: dict[str, Any] = {}
    for label, call in cases:
        result = call()
        body = result.body if isinstance(result.body, dict) else {}
        if (result.status, result.content_type, body.get("code")) != (status, "application/problem+json", code):
            wrong[label] = (result.status, body.get("code"), body.get("errors"))
    return wrong


# --- the edge: JSON, media type, size, base64 ---

MALFORMED = ['{"name": "Ada",', "{'name': 'Ada'}", "not json", '{"a": 1} trailing', '{"a": NaN', '{"a": "\\x"}', "{"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_malformed_json_is_400(session: Session, name: str) -> None:
    cases = [(raw, lambda raw=raw: session.send(name, raw)) for raw in MALFORMED]
    assert answers(cases, 400, "MALFORMED_BODY") == {}
    session.assert_unchanged()


@pytest.mark.parametrize("name", ENDPOINTS)
def test_json_nested_too_deeply_is_400_not_500(session: Session, name: str) -> None:
    assert_problem(session.send(name, "[" * 20_000 + "]" * 20_000), 400, "MALFORMED_BODY")
    session.assert_unchanged()


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_body_that_is_not_json_is_415(session: Session, name: str) -> None:
    json_body = json.dumps(VALID[name])
    form_body = "&".join(f"{k}={v}" for k, v in VALID[name].items())
    cases = [
        ("text/plain", lambda: session.send(name, json_body, "text/plain")),
        ("no content type", lambda: session.send(name, json_body, None)),
        ("empty content type", lambda: session.send(name, json_body, "")),
        ("form", lambda: session.send(name, form_body, "application/x-www-form-urlencoded")),
        ("multipart", lambda: session.send(name, json_body, "multipart/form-data; boundary=x")),
        ("xml", lambda: session.send(name, "<user/>", "application/xml")),
        ("json-ish", lambda: session.send(name, json_body, "application/jsonp")),
    ]
    assert answers(cases, 415, "UNSUPPORTED_MEDIA_TYPE") == {}
    session.assert_unchanged()


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"]
)
def test_every_spelling_of_json_is_accepted(api: Api, content_type: str) -> None:
    result = api.call("register", raw_body=json.dumps(ADA), headers={"content-type": content_type})
    assert result.status == 201, result.body


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_body_over_64_kib_is_413(session: Session, name: str) -> None:
    assert settings().max_body_bytes == LIMIT
    valid = json.dumps(VALID[name])
    cases = [
        ("big valid JSON", lambda: session.send(name, valid[:-1] + " " * LIMIT + "}")),
        ("big field", lambda: session.send(name, json.dumps({**VALID[name], "name": "x" * LIMIT}))),
        ("big and malformed", lambda: session.send(name, "{" * (LIMIT + 1))),
        ("big and not JSON", lambda: session.send(name, "x" * (LIMIT + 1), "text/plain")),
        (
            "big in bytes, not in characters",
            lambda: session.send(name, json.dumps({"name": "€" * (LIMIT // 3)}, ensure_ascii=False)),
        ),
        ("big base64", lambda: session.send(name, valid.encode() + b" " * LIMIT)),
    ]
    assert answers(cases, 413, "PAYLOAD_TOO_LARGE") == {}
    session.assert_unchanged()


def padded(body: dict[str, Any], size: int) -> str:
    """`body` as JSON, padded with whitespace to exactly `size` bytes."""
    text = json.dumps(body)
    return text[:-1] + " " * (size - len(text.encode())) + "}"


def test_a_body_of_exactly_64_kib_is_accepted(api: Api) -> None:
    assert len(padded(ADA, LIMIT).encode()) == LIMIT
    assert api.call("register", raw_body=padded(ADA, LIMIT), headers={"content-type": "application/json"}).status == 201


def test_a_base64_encoded_json_body_works(session: Session) -> None:
    result = session.send("register", json.dumps(ADA).encode())
    assert result.status == 201, result.body
    assert result.body["email"] == "ada@example.com"


def test_a_base64_body_of_exactly_64_kib_is_accepted(session: Session) -> None:
    # 65,536 bytes encode to 87,384 characters with "==" padding: the size is the decoded one.
    assert session.send("register", padded(ADA, LIMIT).encode()).status == 201


def test_a_base64_body_that_is_not_utf8_is_400(session: Session) -> None:
    cases = [
        (repr(raw), lambda raw=raw: session.send("register", raw))
        for raw in (b"\xff\xfe{}", b'{"name": "\xc3"}', b'{"name": "\xed\xa0\x80"}')
    ]
    assert answers(cases, 400, "MALFORMED_BODY") == {}
    session.assert_unchanged()


def test_a_base64_body_of_another_media_type_is_415(session: Session) -> None:
    assert_problem(session.send("register", b"\x89PNG\r\n", "image/png"), 415, "UNSUPPORTED_MEDIA_TYPE")
    session.assert_unchanged()


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_body_that_is_not_an_object_is_422(session: Session, name: str) -> None:
    cases = [
        (raw or "empty", lambda raw=raw: session.send(name, raw)) for raw in ["", "null", "[]", '"x"', "42", "[{}]"]
    ]
    assert answers(cases, 422, "VALIDATION_FAILED") == {}
    session.assert_unchanged()


# --- the fields ---

WRONG_TYPES: dict[str, list[Any]] = {
    "name": [42, None, True, ["Ada"], {"first": "Ada"}],
    "email": [42, None, True, ["ada@example.com"]],
    "password": [12345678, None, False, ["correct horse"], {"$ne": ""}],  # a NoSQL operator is a wrong type
    "current_password": [42, True, ["correct horse"], {"$ne": ""}],
}
BAD_VALUES: dict[str, list[str]] = {
    "name": ["", " \t ", "x" * 101, "Ada\x00Lovelace", "Ada\u0007", "Ada\nLovelace", "Ada\x1b[2J", "Ada\u0085King"],
    "email": [
        "",
        "not-an-email",
        "ada\x00@example.com",
        "ada@example.com\r\nBcc: eve@example.com",
        "a@b",
        "a" * 250 + "@b.co",
    ],
    "password": ["", "1234567", "pass\x00word", "pass\nword", "é" * 36 + "a", "é" * 72],
}


FIELDS = {
    "register": ["name", "email", "password"],
    "login": ["email", "password"],
    "update_me": ["name", "password", "current_password"],
}
# PATCH /users/me changes only what it is given: each field is sent alone, with what it needs.
PATCH_COMPANION = {
    "name": {},
    "password": {"current_password": "correct horse"},
    "current_password": {"password": "new password"},
}


def field_failures(session: Session, name: str, table: dict[str, list[Any]]) -> dict[str, Any]:
    """Send every value of `table` in each of the endpoint's fields; the ones not answered 422."""

    def call(field: str, value: Any) -> Result:
        body = {field: value, **PATCH_COMPANION[field]} if name == "update_me" else {**VALID[name], field: value}
        return session.api.call(name, body=body, token=session.token)

    cases = [
        (f"{field}={value!r}"[:60], lambda field=field, value=value: call(field, value))
        for field in FIELDS[name]
        for value in table.get(field, [])
    ]
    return answers(cases, 422, "VALIDATION_FAILED")


@pytest.mark.parametrize("name", ENDPOINTS)
def test_wrong_types_are_422(session: Session, name: str) -> None:
    assert field_failures(session, name, WRONG_TYPES) == {}
    session.assert_unchanged()


@pytest.mark.parametrize("name", ["register", "update_me"])
def test_bad_values_are_422(session: Session, name: str) -> None:
    assert field_failures(session, name, BAD_VALUES) == {}
    session.assert_unchanged()


def test_login_refuses_only_what_bcrypt_cannot_check(session: Session) -> None:
    bad = {"email": BAD_VALUES["email"], "password": ["", "é" * 36 + "a"]}
    assert field_failures(session, "login", bad) == {}
    session.assert_unchanged()


@pytest.mark.parametrize("name", ENDPOINTS)
def test_unknown_fields_are_422(session: Session, name: str) -> None:
    extras = [{"role": "admin"}, {"id": "x"}, {"token_version": 0}, {"password_hash": "$2b$12$x"}, {"Name": "Ada"}]
    cases = [
        (str(extra), lambda extra=extra: session.api.call(name, body={**VALID[name], **extra}, token=session.token))
        for extra in extras
    ]
    assert answers(cases, 422, "VALIDATION_FAILED") == {}
    session.assert_unchanged()


def test_errors_name_each_bad_field_and_never_echo_the_input(session: Session) -> None:
    result = session.api.call(
        "register", body={"name": "", "email": "secret-email", "password": "tiny-pw", "role": "x"}
    )
    assert_problem(result, 422, "VALIDATION_FAILED")
    assert sorted(e["field"] for e in result.body["errors"]) == ["email", "name", "password", "role"]
    assert "tiny-pw" not in json.dumps(result.body)
    assert "secret-email" not in json.dumps(result.body)
    session.assert_unchanged()


INERT = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "Robert'); DROP TABLE users;--",
    "' OR '1'='1",
    "{{7*7}} ${7*7} %s %n",
    '{"$gt": ""}',
    "Zoë Ångström 李小龙 مريم 🎟️",
    "\u202eevil",
]


def test_script_and_sql_names_are_stored_and_returned_inert(api: Api) -> None:
    for number, name in enumerate(INERT):
        email = f"inert{number}@example.com"
        created = api.call("register", body={**ADA, "name": name, "email": email})
        assert (created.status, created.content_type, created.body["name"]) == (201, "application/json", name)
        token = api.call("login", body={"email": email, "password": ADA["password"]}).body["access_token"]
        assert api.call("get_me", token=token).body["name"] == name
        assert api.call("update_me", token=token, body={"name": name + "!"}).body["name"] == name + "!"


def test_sql_strings_as_credentials_are_just_wrong_credentials(session: Session) -> None:
    cases = [
        (
            "password",
            lambda: session.api.call(
                "login", body={**ADA_LOGIN, "email": "owner@example.com", "password": "' OR '1'='1"}
            ),
        ),
        ("email", lambda: session.api.call("login", body={"email": "owner'--@example.com", "password": "x"})),
    ]
    assert answers(cases, 401, "INVALID_CREDENTIALS") == {}
    # A top-level domain is letters: this is no email address at all (the document's pattern says so too).
    bad = session.api.call("login", body={"email": "owner@example.com'--", "password": "x"})
    assert (bad.status, bad.body["code"]) == (422, "VALIDATION_FAILED")
