"""Register, login, profile: each handler over moto with its events/ sample."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice import auth
from boxoffice.config import settings
from boxoffice.store import dynamo
from tests.support.handlers import Api, Result
from tests.unit.test_auth_passwords import spy_checkpw
from tests.unit.test_auth_tokens import frozen_clock

ADA = {"name": "Ada Lovelace", "email": "Ada@Example.com ", "password": "correct horse"}
ADA_LOGIN = {"email": "ada@example.com", "password": "correct horse"}
USER_FIELDS = {"id", "name", "email", "role", "created_at"}


def register_and_login(api: Api, **overrides: str) -> str:
    body = {**ADA, **overrides}
    assert api.call("register", body=body).status == 201
    result = api.call("login", body={"email": body["email"], "password": body["password"]})
    assert result.status == 200, result.body
    token: str = result.body["access_token"]
    return token


def stored_users() -> list[dict[str, Any]]:
    """Every item of the users table (a test-only Scan: no request path scans)."""
    raw = dynamo.client().scan(TableName=settings().users_table)["Items"]
    return [dynamo.load(item) for item in raw]


def assert_problem(result: Result, status: int, code: str) -> None:
    assert result.status == status, result.body
    assert result.content_type == "application/problem+json"
    assert result.body["status"] == status
    assert result.body["code"] == code
    assert {"type", "title", "detail"} <= set(result.body)


# --- register ---


def test_register_returns_the_user_without_the_hash(api: Api) -> None:
    result = api.call("register", body=ADA)
    assert result.status == 201
    assert result.content_type == "application/json"
    assert set(result.body) == USER_FIELDS
    assert result.body["name"] == "Ada Lovelace"
    assert result.body["email"] == "ada@example.com"
    assert result.body["role"] == "user"
    assert result.body["created_at"].endswith(("Z", "+00:00"))


def test_register_stores_a_bcrypt_hash_never_the_password(api: Api) -> None:
    user_id = api.call("register", body=ADA).body["id"]
    account = next(item for item in stored_users() if item["pk"] == f"USER#{user_id}")
    assert account["password_hash"].startswith("$2b$")
    assert auth.verify_password(ADA["password"], account["password_hash"])
    assert ADA["password"] not in str(stored_users())


def test_register_claims_the_normalised_email(api: Api) -> None:
    api.call("register", body={**ADA, "email": "  Ada@EXAMPLE.com\t"})
    claims = [item for item in stored_users() if item["pk"].startswith("EMAIL#")]
    assert [claim["pk"] for claim in claims] == ["EMAIL#ada@example.com"]


@pytest.mark.parametrize("again", ["ada@example.com", "ADA@EXAMPLE.COM", "  aDa@eXample.Com  ", "Ada@Example.com"])
def test_an_email_can_be_registered_once_whatever_its_case(api: Api, again: str) -> None:
    assert api.call("register", body=ADA).status == 201
    result = api.call("register", body={"name": "Someone Else", "email": again, "password": "other password"})
    assert_problem(result, 409, "EMAIL_TAKEN")
    assert len([item for item in stored_users() if item["pk"].startswith("USER#")]) == 1
    # The first owner's password still works; the second never got an account.
    assert api.call("login", body=ADA_LOGIN).status == 200
    assert api.call("login", body={"email": again, "password": "other password"}).status == 401


CAROL = {"name": "Carol", "email": "carol@example.com", "password": "correct horse"}


@pytest.mark.parametrize("look_alike", ["\uff43arol@example.com", "CAROL@EXAMPLE.COM", "carol@ｅxample.com"])
def test_a_look_alike_of_a_registered_email_is_the_same_address(api: Api, look_alike: str) -> None:
    carol = api.call("register", body=CAROL).body
    result = api.call("register", body={**CAROL, "name": "Mallory", "email": look_alike})
    assert_problem(result, 409, "EMAIL_TAKEN")
    login = api.call("login", body={"email": look_alike, "password": CAROL["password"]})
    assert login.status == 200, login.body
    assert login.body["user"] == carol


@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"])
def test_an_email_with_an_invisible_format_character_is_422(api: Api, invisible: str) -> None:
    assert api.call("register", body=CAROL).status == 201
    for email in (f"carol@example.com{invisible}", f"car{invisible}ol@example.com"):
        result = api.call("register", body={**CAROL, "email": email})
        assert_problem(result, 422, "VALIDATION_FAILED")
        assert [e["field"] for e in result.body["errors"]] == ["email"]
    assert len([item for item in stored_users() if item["pk"].startswith("USER#")]) == 1


def test_nobody_registers_an_admin(api: Api) -> None:
    result = api.call("register", body={**ADA, "role": "admin"})
    assert_problem(result, 422, "VALIDATION_FAILED")
    assert result.body["errors"] == [{"field": "role", "message": "Extra inputs are not permitted"}]
    assert stored_users() == []


def test_registered_accounts_are_plain_users_whose_tokens_say_so(api: Api) -> None:
    token = register_and_login(api)
    assert auth.read_token(f"Bearer {token}").role == "user"
    assert api.call("get_me", token=token).body["role"] == "user"


# --- login ---


def test_login_returns_a_bearer_token_and_the_user(api: Api) -> None:
    user = api.call("register", body=ADA).body
    result = api.call("login", body={"email": " ADA@example.COM", "password": "correct horse"})
    assert result.status == 200
    assert set(result.body) == {"access_token", "token_type", "expires_in", "user"}
    assert result.body["token_type"] == "Bearer"
    assert result.body["expires_in"] == settings().token_ttl_seconds
    assert result.body["user"] == user
    principal = auth.read_token(f"Bearer {result.body['access_token']}")
    assert (principal.user_id, principal.role, principal.token_version) == (user["id"], "user", 0)


def test_unknown_email_and_wrong_password_get_the_same_answer(api: Api) -> None:
    api.call("register", body=ADA)
    wrong_password = api.call("login", body={**ADA_LOGIN, "password": "wrong horse"})
    unknown_email = api.call("login", body={"email": "nobody@example.com", "password": "correct horse"})
    assert_problem(wrong_password, 401, "INVALID_CREDENTIALS")
    assert unknown_email.status == wrong_password.status
    assert unknown_email.body == wrong_password.body
    assert unknown_email.headers == wrong_password.headers


def test_unknown_email_costs_a_bcrypt_check_against_the_dummy_hash(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    checked_hashes = spy_checkpw(monkeypatch)
    api.call("login", body={"email": "nobody@example.com", "password": "correct horse"})
    assert checked_hashes == [auth.dummy_hash().encode()]


def test_a_wrong_password_is_checked_against_the_users_hash(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    checked_hashes = spy_checkpw(monkeypatch)
    user_id = api.call("register", body=ADA).body["id"]
    api.call("login", body={**ADA_LOGIN, "password": "wrong horse"})
    account = next(item for item in stored_users() if item["pk"] == f"USER#{user_id}")
    assert checked_hashes == [account["password_hash"].encode()]


def test_a_password_of_72_multibyte_bytes_registers_and_logs_in(api: Api) -> None:
    password = "é" * 36
    register_and_login(api, password=password)
    assert api.call("login", body={**ADA_LOGIN, "password": "é" * 35 + "è"}).status == 401


def test_login_with_a_password_bcrypt_cannot_check_is_422_not_500(api: Api) -> None:
    api.call("register", body=ADA)
    result = api.call("login", body={**ADA_LOGIN, "password": "é" * 72})
    assert_problem(result, 422, "VALIDATION_FAILED")
    assert result.body["errors"][0]["field"] == "password"


def test_five_failures_lock_the_email_for_the_window(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    move_clock = frozen_clock(monkeypatch)
    api.call("register", body=ADA)
    for _ in range(settings().login_max_failures):
        assert api.call("login", body={**ADA_LOGIN, "password": "wrong horse"}).status == 401
    move_clock(60)
    result = api.call("login", body=ADA_LOGIN)  # even the right password
    assert_problem(result, 429, "TOO_MANY_ATTEMPTS")
    window = settings().login_window_seconds
    assert result.headers["Retry-After"] == str(window - 60)
    assert result.body["retry_after"] == window - 60


def test_the_lock_lifts_when_the_window_ends(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    move_clock = frozen_clock(monkeypatch)
    api.call("register", body=ADA)
    for _ in range(settings().login_max_failures):
        api.call("login", body={**ADA_LOGIN, "password": "wrong horse"})
    window = settings().login_window_seconds
    move_clock(window - 1)
    assert api.call("login", body=ADA_LOGIN).headers["Retry-After"] == "1"
    move_clock(window)
    result = api.call("login", body=ADA_LOGIN)
    assert result.status == 200
    assert api.call("get_me", token=result.body["access_token"]).status == 200


def test_a_failure_after_the_window_starts_a_new_count(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    move_clock = frozen_clock(monkeypatch)
    api.call("register", body=ADA)
    for _ in range(settings().login_max_failures):
        api.call("login", body={**ADA_LOGIN, "password": "wrong horse"})
    move_clock(settings().login_window_seconds)
    assert api.call("login", body={**ADA_LOGIN, "password": "wrong horse"}).status == 401
    assert api.call("login", body=ADA_LOGIN).status == 200


def test_failures_spread_over_more_than_the_window_never_lock(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    move_clock = frozen_clock(monkeypatch)
    api.call("register", body=ADA)
    window = settings().login_window_seconds
    for attempt in range(2 * settings().login_max_failures):
        move_clock(attempt * window // 4)
        assert api.call("login", body={**ADA_LOGIN, "password": "wrong horse"}).status == 401


def test_unknown_emails_are_locked_the_same_way(api: Api) -> None:
    for _ in range(settings().login_max_failures):
        assert api.call("login", body={"email": "nobody@example.com", "password": "guess"}).status == 401
    assert_problem(
        api.call("login", body={"email": "nobody@example.com", "password": "guess"}), 429, "TOO_MANY_ATTEMPTS"
    )


def test_the_lock_is_per_email_and_case_insensitive(api: Api) -> None:
    api.call("register", body=ADA)
    api.call("register", body={**ADA, "email": "grace@example.com"})
    for _ in range(settings().login_max_failures):
        api.call("login", body={"email": "ADA@example.com", "password": "wrong horse"})
    assert api.call("login", body=ADA_LOGIN).status == 429
    assert api.call("login", body={"email": "grace@example.com", "password": "correct horse"}).status == 200


def test_a_successful_login_clears_the_count_of_its_address(api: Api) -> None:
    api.call("register", body=ADA)
    for _ in range(settings().login_max_failures - 1):
        api.call("login", body={**ADA_LOGIN, "password": "wrong horse"})
    assert api.call("login", body=ADA_LOGIN).status == 200
    [counter] = [item for item in stored_users() if item["pk"].startswith("THROTTLE#")]
    assert not [name for name in counter if name.startswith("ip_")]
    for _ in range(settings().login_max_failures - 1):
        assert api.call("login", body={**ADA_LOGIN, "password": "wrong horse"}).status == 401
    assert api.call("login", body=ADA_LOGIN).status == 200


# --- GET /users/me ---


def test_login_then_me(api: Api) -> None:
    token = register_and_login(api)
    result = api.call("get_me", token=token)
    assert result.status == 200
    assert set(result.body) == USER_FIELDS
    assert result.body["email"] == "ada@example.com"


def test_me_without_a_token_is_401(api: Api) -> None:
    result = api.call("get_me")
    assert_problem(result, 401, "UNAUTHENTICATED")
    assert result.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_for_an_account_that_does_not_exist_is_401(api: Api) -> None:
    token, _ = auth.issue_token("no-such-user", "user", 0)
    assert_problem(api.call("get_me", token=token), 401, "UNAUTHENTICATED")


# --- PATCH /users/me ---


def test_changing_the_name(api: Api) -> None:
    token = register_and_login(api)
    result = api.call("update_me", token=token, body={"name": "  Ada King  "})
    assert result.status == 200
    assert set(result.body) == USER_FIELDS
    assert result.body["name"] == "Ada King"
    assert api.call("get_me", token=token).body["name"] == "Ada King"


def test_a_name_change_keeps_the_token_valid(api: Api) -> None:
    token = register_and_login(api)
    api.call("update_me", token=token, body={"name": "Ada King"})
    assert api.call("get_me", token=token).status == 200


def test_a_password_change_needs_the_current_password(api: Api) -> None:
    token = register_and_login(api)
    result = api.call("update_me", token=token, body={"password": "new password"})
    assert_problem(result, 422, "VALIDATION_FAILED")
    assert api.call("login", body=ADA_LOGIN).status == 200


def test_a_wrong_current_password_is_403_and_changes_nothing(api: Api) -> None:
    token = register_and_login(api)
    body = {"name": "Mallory", "password": "new password", "current_password": "wrong horse"}
    result = api.call("update_me", token=token, body=body)
    assert_problem(result, 403, "WRONG_PASSWORD")
    assert api.call("get_me", token=token).body["name"] == "Ada Lovelace"
    assert api.call("login", body=ADA_LOGIN).status == 200


def test_a_password_change_revokes_every_older_token_at_once(api: Api) -> None:
    first = register_and_login(api)
    second = api.call("login", body=ADA_LOGIN).body["access_token"]
    body = {"password": "new password", "current_password": "correct horse"}
    result = api.call("update_me", token=first, body=body)
    assert result.status == 200
    assert set(result.body) == USER_FIELDS
    for old in (first, second):
        assert_problem(api.call("get_me", token=old), 401, "UNAUTHENTICATED")
        assert_problem(api.call("update_me", token=old, body={"name": "Mallory"}), 401, "UNAUTHENTICATED")
    assert api.call("login", body=ADA_LOGIN).status == 401
    fresh = api.call("login", body={**ADA_LOGIN, "password": "new password"})
    assert fresh.status == 200
    assert api.call("get_me", token=fresh.body["access_token"]).body["name"] == "Ada Lovelace"


def test_a_new_password_follows_the_registration_rules(api: Api) -> None:
    token = register_and_login(api)
    for bad in ("short", "é" * 36 + "a", "tab\there"):
        result = api.call("update_me", token=token, body={"password": bad, "current_password": "correct horse"})
        assert_problem(result, 422, "VALIDATION_FAILED")
        assert result.body["errors"][0]["field"] == "password"
    assert api.call("get_me", token=token).status == 200


def test_update_me_refuses_unknown_fields(api: Api) -> None:
    token = register_and_login(api)
    for extra in ({"role": "admin"}, {"email": "eve@example.com"}, {"token_version": 0}):
        assert_problem(api.call("update_me", token=token, body={"name": "Ada", **extra}), 422, "VALIDATION_FAILED")
    me = api.call("get_me", token=token).body
    assert (me["name"], me["email"], me["role"]) == ("Ada Lovelace", "ada@example.com", "user")


def test_update_me_needs_something_to_change(api: Api) -> None:
    token = register_and_login(api)
    assert_problem(api.call("update_me", token=token, body={}), 422, "VALIDATION_FAILED")


# --- hashes never leave the store ---


def test_no_response_ever_carries_a_hash_or_a_password(api: Api) -> None:
    token = register_and_login(api)
    results = [
        api.call("register", body=ADA),
        api.call("login", body=ADA_LOGIN),
        api.call("login", body={**ADA_LOGIN, "password": "wrong horse"}),
        api.call("get_me", token=token),
        api.call("update_me", token=token, body={"name": "Ada King"}),
        api.call("update_me", token=token, body={"password": "new password", "current_password": "nope"}),
        api.call("update_me", token=token, body={"password": "new password", "current_password": "correct horse"}),
    ]
    hashes = [item["password_hash"] for item in stored_users() if "password_hash" in item]
    for result in results:
        text = str(result.body) + str(result.headers)
        assert "password_hash" not in text
        assert "$2b$" not in text
        assert not any(h in text for h in hashes)
        assert "correct horse" not in text
        assert "new password" not in text
