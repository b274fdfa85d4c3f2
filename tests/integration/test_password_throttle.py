"""Password checks (login, password change) are limited per account and source address, with a
ceiling per account across addresses; role changes revoke older tokens. Handlers over moto."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.logic import accounts
from boxoffice.store import throttle, users
from tests.integration.test_accounts import ADA, ADA_LOGIN, assert_problem, register_and_login, stored_users
from tests.support.handlers import Api, Result
from tests.unit.test_auth_tokens import frozen_clock

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
WRONG = {**ADA_LOGIN, "password": "wrong horse"}
CHANGE = {"password": "new password", "current_password": ADA_LOGIN["password"]}


def login(api: Api, body: dict[str, str], source_ip: str) -> Result:
    return api.call("login", body=body, source_ip=source_ip)


def counter() -> dict[str, Any]:
    [item] = [item for item in stored_users() if item["pk"].startswith("THROTTLE#")]
    return item


def address_counts() -> list[int]:
    return sorted(int(value) for name, value in counter().items() if name.startswith("ip_"))


def test_an_address_is_locked_while_the_owner_still_logs_in_from_another(api: Api) -> None:
    api.call("register", body=ADA)
    for _ in range(settings().login_max_failures):
        assert login(api, WRONG, ATTACKER).status == 401
    locked = login(api, ADA_LOGIN, ATTACKER)
    assert_problem(locked, 429, "TOO_MANY_ATTEMPTS")
    assert int(locked.headers["Retry-After"]) > 0
    assert login(api, ADA_LOGIN, OWNER).status == 200


def test_the_account_ceiling_stops_a_distributed_attack_until_the_window_ends(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    move_clock = frozen_clock(monkeypatch)
    api.call("register", body=ADA)
    config = settings()
    addresses = [f"192.0.2.{n}" for n in range(config.login_max_account_failures // config.login_max_failures)]
    for address in addresses:
        for _ in range(config.login_max_failures):
            assert login(api, WRONG, address).status == 401
    move_clock(60)
    refused = login(api, ADA_LOGIN, OWNER)  # an address that never failed, with the right password
    assert_problem(refused, 429, "TOO_MANY_ATTEMPTS")
    assert refused.headers["Retry-After"] == str(config.login_window_seconds - 60)
    move_clock(config.login_window_seconds)
    assert login(api, ADA_LOGIN, OWNER).status == 200


def test_the_owners_logins_count_toward_neither_limit(api: Api) -> None:
    api.call("register", body=ADA)
    for _ in range(2 * settings().login_max_failures):
        assert login(api, ADA_LOGIN, OWNER).status == 200
    assert counter()["failures"] == 0
    assert address_counts() == []


def test_a_right_password_forgets_its_own_addresss_failures_only(api: Api) -> None:
    api.call("register", body=ADA)
    per_address = settings().login_max_failures
    for _ in range(per_address - 1):
        login(api, WRONG, ATTACKER)
    login(api, WRONG, OWNER)
    assert login(api, ADA_LOGIN, OWNER).status == 200
    # The attacker's failures still count, on its address and on the account.
    assert (counter()["failures"], address_counts()) == (per_address, [per_address - 1])
    assert login(api, WRONG, ATTACKER).status == 401
    assert_problem(login(api, ADA_LOGIN, ATTACKER), 429, "TOO_MANY_ATTEMPTS")


def test_the_counter_is_one_small_item_that_names_no_address(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    frozen_clock(monkeypatch)
    api.call("register", body=ADA)
    login(api, WRONG, ATTACKER)
    login(api, WRONG, "2001:db8::1")
    item = counter()
    assert item["pk"] == "THROTTLE#ada@example.com"
    assert ATTACKER not in str(item)
    assert "2001:db8" not in str(item)
    assert (item["failures"], address_counts()) == (2, [1, 1])
    # TTL only tidies up: expiry is decided by window_start in the writes.
    assert item["expires_at"] == item["window_start"] + settings().login_window_seconds


def test_a_check_released_after_its_window_ended_leaves_the_next_window_alone(aws: None) -> None:
    limits = throttle.Limits(window=900, per_address=5, per_account=100)
    late = throttle.claim("ada@example.com", OWNER, 1_000, limits)
    throttle.claim("ada@example.com", ATTACKER, 1_900, limits)  # the first window is over: a new one
    throttle.release(late)
    assert (counter()["window_start"], counter()["failures"], address_counts()) == (1_900, 1, [1])


# --- PATCH /users/me: the same limits ---


def test_wrong_current_passwords_count_toward_the_login_limit(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    move_clock = frozen_clock(monkeypatch)
    token = register_and_login(api)
    wrong = {**CHANGE, "current_password": "wrong horse"}
    for _ in range(settings().login_max_failures):
        assert_problem(api.call("update_me", token=token, body=wrong, source_ip=ATTACKER), 403, "WRONG_PASSWORD")
    refused = api.call("update_me", token=token, body=CHANGE, source_ip=ATTACKER)  # even the right one
    assert_problem(refused, 429, "TOO_MANY_ATTEMPTS")
    assert refused.headers["Retry-After"] == str(settings().login_window_seconds)
    assert_problem(login(api, ADA_LOGIN, ATTACKER), 429, "TOO_MANY_ATTEMPTS")
    assert login(api, ADA_LOGIN, OWNER).status == 200, "the password has not changed"
    move_clock(settings().login_window_seconds)
    assert api.call("update_me", token=token, body=CHANGE, source_ip=ATTACKER).status == 200


def test_login_failures_count_toward_a_password_change(api: Api) -> None:
    token = register_and_login(api)
    for _ in range(settings().login_max_failures):
        login(api, WRONG, ATTACKER)
    refused = api.call("update_me", token=token, body=CHANGE, source_ip=ATTACKER)
    assert_problem(refused, 429, "TOO_MANY_ATTEMPTS")
    assert api.call("get_me", token=token).status == 200, "nothing changed: the token is still current"


def test_a_name_change_checks_no_password_and_is_never_limited(api: Api) -> None:
    token = register_and_login(api)
    for _ in range(settings().login_max_failures):
        login(api, WRONG, ATTACKER)
    assert api.call("update_me", token=token, body={"name": "Ada King"}, source_ip=ATTACKER).status == 200


def test_right_current_passwords_give_their_count_back(api: Api) -> None:
    register_and_login(api)
    password = ADA_LOGIN["password"]
    for attempt in range(settings().login_max_failures + 1):
        token = login(api, {**ADA_LOGIN, "password": password}, OWNER).body["access_token"]
        new = f"new password {attempt}"
        body = {"password": new, "current_password": password}
        assert api.call("update_me", token=token, body=body, source_ip=OWNER).status == 200
        password = new


# --- role changes ---


def test_a_demoted_admins_token_stops_working_at_once(api: Api) -> None:
    register_and_login(api)
    accounts.create_account("Other", "other-admin@example.com", "other admin pw", role="admin")  # not the last
    assert accounts.change_role(ADA_LOGIN["email"], "admin")
    admin = api.call("login", body=ADA_LOGIN).body
    assert admin["user"]["role"] == "admin"
    missing = {"event_id": "00000000-0000-4000-8000-000000000000"}
    assert_problem(api.call("delete_event", token=admin["access_token"], path=missing), 404, "EVENT_NOT_FOUND")
    assert accounts.change_role(ADA_LOGIN["email"], "user")
    assert_problem(api.call("delete_event", token=admin["access_token"], path=missing), 401, "UNAUTHENTICATED")
    assert_problem(api.call("get_me", token=admin["access_token"]), 401, "UNAUTHENTICATED")
    assert api.call("login", body=ADA_LOGIN).body["user"]["role"] == "user"


def test_a_promotion_revokes_the_tokens_issued_before_it(api: Api) -> None:
    token = register_and_login(api)
    assert accounts.change_role(ADA_LOGIN["email"], "admin")
    assert_problem(api.call("get_me", token=token), 401, "UNAUTHENTICATED")


def test_giving_an_account_the_role_it_has_changes_nothing(api: Api) -> None:
    token = register_and_login(api)
    assert not accounts.change_role(ADA_LOGIN["email"], "user")
    assert api.call("get_me", token=token).status == 200


def test_an_unknown_account_has_no_role_to_change(api: Api) -> None:
    assert not accounts.change_role("nobody@example.com", "admin")
    assert not users.set_role("00000000-0000-4000-8000-000000000000", "admin")
    assert stored_users() == []
