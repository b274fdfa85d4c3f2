"""Racing account requests: handlers called from threads against the embedded DynamoDB (moto's server).

Api.call runs each request on a free instance of the function (devserver.gateway.Instances), so the
threads of a race are separate Lambda instances, as concurrent requests are in AWS.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import bcrypt
import pytest

from boxoffice.config import settings
from tests.integration.test_accounts import ADA, ADA_LOGIN, stored_users
from tests.support.fixtures import serialised_moto
from tests.support.handlers import Api, Result
from tests.unit.test_auth_passwords import spy_checkpw
from tests.unit.test_auth_tokens import frozen_clock

RACERS = 8


@pytest.fixture(scope="module")
def embedded() -> Iterator[None]:
    with serialised_moto("race"):
        yield


@pytest.fixture
def api(embedded: None) -> Api:
    return Api()


@contextmanager
def in_flight(name: str, requests: list[dict[str, Any]]) -> Iterator[list[Result]]:
    """Send every request to function `name` at the same moment, each from its own thread; the
    block runs while they are in flight, and the results are all in when it ends."""
    start = threading.Barrier(len(requests))
    results: list[Result] = []
    errors: list[BaseException] = []

    def run(request: dict[str, Any]) -> None:
        start.wait()
        try:
            results.append(Api().call(name, **request))
        except BaseException as exc:  # noqa: BLE001 - a crash in a thread must fail the test, not vanish
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    try:
        yield results
    finally:
        for thread in threads:
            thread.join()
    assert errors == []


def race(name: str, requests: list[dict[str, Any]]) -> list[Result]:
    with in_flight(name, requests) as results:
        pass
    return results


def login_of(body: dict[str, str]) -> dict[str, str]:
    return {"email": body["email"], "password": body["password"]}


def unique(body: dict[str, str]) -> dict[str, str]:
    """`body` with an email no other test of the module uses (they share the tables)."""
    return {**body, "email": f"{uuid.uuid4().hex[:12]}-{body['email'].strip()}"}


def statuses(results: list[Result]) -> Counter[int]:
    return Counter(result.status for result in results)


def items(prefix: str, email: str = "") -> list[dict[str, Any]]:
    return [item for item in stored_users() if item["pk"].startswith(prefix) and email in item["pk"]]


def test_racing_registrations_of_one_email_make_exactly_one_account(api: Api) -> None:
    body = unique(ADA)
    results = race("register", [{"body": body}] * RACERS)
    assert statuses(results) == {201: 1, 409: RACERS - 1}
    assert {r.body["code"] for r in results if r.status == 409} == {"EMAIL_TAKEN"}
    winner = next(r.body for r in results if r.status == 201)
    email = body["email"].strip().lower()
    claims = items("EMAIL#", email)
    assert [claim["user_id"] for claim in claims] == [winner["id"]]
    assert [account["id"] for account in items("USER#") if account["email"] == email] == [winner["id"]]
    login = api.call("login", body={"email": email, "password": body["password"]})
    assert login.body["user"] == winner


def test_racing_registrations_in_different_cases_still_make_one_account(api: Api) -> None:
    body = unique(ADA)
    local, domain = body["email"].split("@")
    spellings = [body["email"].upper(), body["email"].lower(), f"  {local}@{domain.upper()} "] * 2
    results = race("register", [{"body": {**body, "email": spelling}} for spelling in spellings])
    assert statuses(results) == {201: 1, 409: len(spellings) - 1}
    assert len(items("EMAIL#", body["email"].strip().lower())) == 1


def test_racing_login_failures_are_all_counted(api: Api) -> None:
    body = unique(ADA)
    api.call("register", body=body)
    wrong = {"email": body["email"], "password": "wrong horse"}
    results = race("login", [{"body": wrong}] * settings().login_max_failures)
    assert statuses(results) == {401: settings().login_max_failures}
    [counter] = items("THROTTLE#", body["email"].strip().lower())
    assert counter["failures"] == settings().login_max_failures
    after = api.call("login", body=login_of(body))
    assert after.status == 429


def test_of_40_racing_wrong_logins_only_the_limit_is_ever_checked(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    body = unique(ADA)
    api.call("register", body=body)
    checked = spy_checkpw(monkeypatch)
    limit = settings().login_max_failures
    results = race("login", [{"body": {"email": body["email"], "password": f"guess {n}"}} for n in range(40)])
    assert statuses(results) == {401: limit, 429: 40 - limit}
    assert len(checked) == limit
    assert all(int(r.headers["Retry-After"]) > 0 for r in results if r.status == 429)


def test_a_right_password_sent_behind_a_burst_of_guesses_is_refused(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    body = unique(ADA)
    api.call("register", body=body)
    limit = settings().login_max_failures
    checking, finish = threading.Semaphore(0), threading.Event()
    real_checkpw = bcrypt.checkpw

    def slow_checkpw(password: bytes, hashed: bytes) -> bool:
        # Wrong guesses are held inside bcrypt: none of them has been answered (or, before the fix,
        # recorded) when the right password arrives.
        if password != body["password"].encode():
            checking.release()
            finish.wait(timeout=30)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", slow_checkpw)
    guesses = [{"body": {"email": body["email"], "password": f"guess {n}"}} for n in range(29)]
    with in_flight("login", guesses) as results:
        try:
            for _ in range(limit):
                assert checking.acquire(timeout=30)
            thirtieth = Api().call("login", body=login_of(body))
        finally:
            finish.set()
    assert thirtieth.status == 429
    assert statuses(results) == {401: limit, 429: 29 - limit}


def test_racing_logins_as_a_window_ends_count_the_limit_in_the_new_one(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    move_clock = frozen_clock(monkeypatch)
    body = unique(ADA)
    api.call("register", body=body)
    limit = settings().login_max_failures
    for n in range(limit):
        api.call("login", body={"email": body["email"], "password": f"guess {n}"})
    move_clock(settings().login_window_seconds)
    results = race("login", [{"body": {"email": body["email"], "password": f"late {n}"}} for n in range(40)])
    assert statuses(results) == {401: limit, 429: 40 - limit}
    [counter] = items("THROTTLE#", body["email"].strip().lower())
    assert counter["failures"] == limit


def test_racing_wrong_current_passwords_with_a_stolen_token_check_only_the_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = unique(ADA)
    api.call("register", body=body)
    token = api.call("login", body=login_of(body)).body["access_token"]
    checked = spy_checkpw(monkeypatch)
    limit = settings().login_max_failures
    guesses = [{"password": "new password", "current_password": f"guess {n}"} for n in range(40)]
    results = race("update_me", [{"body": guess, "token": token} for guess in guesses])
    assert statuses(results) == {403: limit, 429: 40 - limit}
    assert len(checked) == limit
    assert api.call("get_me", token=token).status == 200, "the password never changed"


def test_racing_password_changes_with_one_token_change_it_once(api: Api) -> None:
    body = unique(ADA)
    api.call("register", body=body)
    token = api.call("login", body=login_of(body)).body["access_token"]
    change = {"password": "new password", "current_password": ADA_LOGIN["password"]}
    results = race("update_me", [{"body": change, "token": token}] * 4)
    # One change wins; every other was made with a token that the winner has just revoked.
    assert statuses(results) == {200: 1, 401: 3}
    [account] = [item for item in items("USER#") if item["email"] == body["email"].strip().lower()]
    assert account["token_version"] == 1
    assert api.call("get_me", token=token).status == 401
