"""Request models of accounts: email normalisation, password byte limits, names, strictness."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from boxoffice.models.users import (
    MAX_PASSWORD_BYTES,
    LoginRequest,
    RegisterRequest,
    UpdateMeRequest,
    normalise_email,
    password_bytes,
)
from tests.support.conformance import DOCUMENT

VALID = {"name": "Ada Lovelace", "email": "ada@example.com", "password": "correct horse"}
# 36 two-byte characters: 36 characters, 72 bytes, bcrypt's exact limit.
PASSWORD_72_BYTES = "é" * 36


def register(**changes: Any) -> RegisterRequest:
    return RegisterRequest.model_validate({**VALID, **changes})


def rejected_fields(model: type[Any], body: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return {".".join(str(p) for p in error["loc"]) for error in caught.value.errors()}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada@Example.COM \t", "ada@example.com"),
        ("ADA+tickets@Sub.Example.org", "ada+tickets@sub.example.org"),
        ("Jürgen@Bücher.de", "jürgen@bücher.de"),
        ("Ju\u0308rgen@example.com", "jürgen@example.com"),  # decomposed ü is the same address as composed
    ],
)
def test_emails_are_trimmed_normalised_and_case_folded(given: str, stored: str) -> None:
    assert normalise_email(given) == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("\uff43arol@example.com", "carol@example.com"),  # fullwidth c
        ("Stra\u00dfe@example.com", "strasse@example.com"),  # case folding, not just lower()
        ("\u2460@example.com", "1@example.com"),  # circled digit one
        ("Ju\u0308rgen@ＥＸＡＭＰＬＥ.de", "jürgen@example.de"),
    ],
)
def test_look_alike_emails_normalise_to_one_address(given: str, stored: str) -> None:
    assert normalise_email(given) == stored


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"])
def test_emails_with_format_characters_are_refused(invisible: str) -> None:
    for email in (f"carol@example.com{invisible}", f"{invisible}carol@example.com", f"ca{invisible}rol@example.com"):
        with pytest.raises(ValueError, match="invisible"):
            normalise_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "ada",
        "ada@example",
        "@example.com",
        "ada@",
        "ada@@example.com",
        "ada@exa@mple.com",
        "ada lovelace@example.com",
        "ada@example.",
        "ada\x00@example.com",
        "ada@exam\x07ple.com",
        "ada\u0085@example.com",
        "ada\ud800@example.com",
        "ada@example.com\nBcc: eve@example.com",
        "a" * 243 + "@example.com",  # 255 characters
    ],
)
def test_malformed_emails_are_refused(email: str) -> None:
    with pytest.raises(ValueError, match=r"email|control|line breaks"):
        normalise_email(email)


def test_an_email_of_254_characters_is_accepted() -> None:
    email = "a" * 242 + "@example.com"
    assert len(email) == 254
    assert normalise_email(email) == email


@pytest.mark.parametrize(
    "password",
    ["12345678", "€€€", PASSWORD_72_BYTES, "x" * MAX_PASSWORD_BYTES, "  spaced  ", "🎟️🎟️"],
)
def test_passwords_are_counted_in_utf8_bytes(password: str) -> None:
    assert register(password=password).password == password


@pytest.mark.parametrize(
    "password",
    ["", "1234567", "€€", PASSWORD_72_BYTES + "a", "x" * (MAX_PASSWORD_BYTES + 1), "é" * 72],
)
def test_passwords_outside_8_to_72_bytes_are_refused_not_truncated(password: str) -> None:
    assert rejected_fields(RegisterRequest, {**VALID, "password": password}) == {"password"}


def test_password_byte_rule_reports_its_limits() -> None:
    with pytest.raises(ValueError, match="8 to 72 bytes"):
        password_bytes("é" * 37, 8)
    with pytest.raises(ValueError, match="Unicode"):
        password_bytes("abc\ud800defgh", 8)


def test_passwords_are_taken_exactly_as_typed() -> None:
    # Stripping would turn "  pass word  " into a different password without telling anyone.
    assert register(password="  pass word  ").password == "  pass word  "
    assert LoginRequest(email="ada@example.com", password=" x ").password == " x "


@pytest.mark.parametrize("password", ["pass\x00word", "pass\x1bword", "pass\nword", "pass\tword", "pass\x7fword"])
def test_new_passwords_with_control_characters_are_refused(password: str) -> None:
    assert rejected_fields(RegisterRequest, {**VALID, "password": password}) == {"password"}


def test_passwords_never_appear_in_a_models_repr() -> None:
    models = [
        register(password="hunter2-secret"),
        LoginRequest(email="ada@example.com", password="hunter2-secret"),
        UpdateMeRequest(password="hunter2-secret", current_password="hunter2-secret"),
    ]
    for model in models:
        assert "hunter2" not in repr(model)
        assert "hunter2" not in str(model)


@pytest.mark.parametrize(
    "name",
    [
        "A",
        "x" * 100,
        "Zoë Ångström-Łukasiewicz",
        "李小龙",
        "مريم",
        "🎭" * 100,
        "<script>alert(1)</script>",
        "'; DROP TABLE users; --",
    ],
)
def test_names_of_1_to_100_characters_are_accepted_as_text(name: str) -> None:
    assert register(name=name).name == name


def test_names_are_trimmed_and_nfc_normalised() -> None:
    assert register(name="  Zoe\u0308  ").name == "Zoë"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "x" * 101,
        "🎭" * 101,
        "Ada\x00",
        "Ada\nLovelace",
        "Ada\tLovelace",
        "Ada\x1b[31m",
        "Ada\u0085King",
        "Ada\ud83d",
    ],
)
def test_bad_names_are_refused(name: str) -> None:
    assert rejected_fields(RegisterRequest, {**VALID, "name": name}) == {"name"}


@pytest.mark.parametrize("extra", [{"role": "admin"}, {"id": "me"}, {"token_version": 9}, {"password_hash": "$2b$"}])
def test_unknown_fields_are_refused_so_nobody_registers_an_admin(extra: dict[str, Any]) -> None:
    assert rejected_fields(RegisterRequest, {**VALID, **extra}) == set(extra)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 42),
        ("name", None),
        ("name", ["Ada"]),
        ("email", 1),
        ("email", {"address": "ada@example.com"}),
        ("password", 12345678),
        ("password", True),
        ("password", None),
    ],
)
def test_wrong_types_are_refused(field: str, value: Any) -> None:
    assert rejected_fields(RegisterRequest, {**VALID, field: value}) == {field}


@pytest.mark.parametrize("missing", ["name", "email", "password"])
def test_every_registration_field_is_required(missing: str) -> None:
    body = {k: v for k, v in VALID.items() if k != missing}
    assert rejected_fields(RegisterRequest, body) == {missing}


def test_login_accepts_any_password_bcrypt_can_check() -> None:
    # Short or odd passwords are simply wrong (401 later), not a hint about the rules.
    assert LoginRequest(email=" ADA@example.com", password="x").email == "ada@example.com"
    assert LoginRequest(email="ada@example.com", password=PASSWORD_72_BYTES).password == PASSWORD_72_BYTES


@pytest.mark.parametrize("password", ["", PASSWORD_72_BYTES + "a", "é" * 72])
def test_login_refuses_passwords_bcrypt_cannot_check(password: str) -> None:
    assert rejected_fields(LoginRequest, {"email": "ada@example.com", "password": password}) == {"password"}


def test_update_needs_a_change() -> None:
    assert rejected_fields(UpdateMeRequest, {}) == {""}


@pytest.mark.parametrize("field", ["name", "password", "current_password"])
def test_an_update_field_sent_as_null_is_refused_by_name(field: str) -> None:
    assert rejected_fields(UpdateMeRequest, {"name": "Ada", field: None}) == {field}


def test_a_new_password_needs_the_current_one() -> None:
    assert rejected_fields(UpdateMeRequest, {"password": "new password"}) == {""}
    request = UpdateMeRequest(password="new password", current_password="old password")
    assert (request.password, request.current_password) == ("new password", "old password")


def test_a_name_change_alone_needs_no_password() -> None:
    assert UpdateMeRequest(name=" Ada King ").name == "Ada King"


def test_a_new_password_follows_the_registration_rules() -> None:
    assert rejected_fields(UpdateMeRequest, {"password": "short", "current_password": "x"}) == {"password"}
    body = {"password": PASSWORD_72_BYTES + "a", "current_password": "x"}
    assert rejected_fields(UpdateMeRequest, body) == {"password"}
    assert rejected_fields(UpdateMeRequest, {"name": "Ada", "role": "admin"}) == {"role"}


# --- one email rule: the document's and the server's ---

REFUSED_EMAILS = [
    "0@0.com*",  # schemathesis: a top-level domain is letters (or an xn-- label)
    "ada@example.c0m",
    "ada@example.c",
    "ada@example",
    "ada@example..com",
    "ada@.example.com",
    "ada@example.com.",
    "@example.com",
    "ada@",
    "ada@@example.com",
    "ada lovelace@example.com",
    "ada\u200b@example.com",
    "ada@exa\u202emple.com",
    "ada\x00@example.com",
    "ｃａｒｏｌ＠ｅｘａｍｐｌｅ．ｃｏｍ",  # no "@" the document knows: refused, not folded
]


def _document_email_schema(model: str) -> dict[str, Any]:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    schema: dict[str, Any] = document["components"]["schemas"][model]["properties"]["email"]
    return schema


def _document_accepts(schema: dict[str, Any], email: str) -> bool:
    return not list(Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(email))


def _server_accepts(model: type[Any], email: str) -> bool:
    body = {**VALID, "email": email} if model is RegisterRequest else {"email": email, "password": "x"}
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("model", [RegisterRequest, LoginRequest], ids=lambda m: m.__name__)
def test_the_document_and_the_server_accept_the_same_emails(model: type[Any]) -> None:
    schema = _document_email_schema(model.__name__)
    accepted = [
        *schema["examples"],
        "  Ada@Example.COM ",
        "Jürgen@Bücher.de",
        "\uff43arol@example.com",
        "ada@xn--80ak6aa92e.xn--p1ai",
    ]
    for email in accepted:
        assert (_document_accepts(schema, email), _server_accepts(model, email)) == (True, True), email
    for email in REFUSED_EMAILS:
        assert (_document_accepts(schema, email), _server_accepts(model, email)) == (False, False), email
