"""Accounts over HTTP against `python -m devserver`, as a client of `make run` sees them."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import requests

from tests.support.live import LiveServer

PASSWORD = "correct horse"
PROBLEM = "application/problem+json"


def new_email() -> str:
    """The live server lives for the whole session: every test brings its own addresses."""
    return f"e2e-{uuid.uuid4().hex[:12]}@Example.com"


def register(live: LiveServer, email: str, name: str = "Ada Lovelace", password: str = PASSWORD) -> requests.Response:
    return live.request("POST", "/auth/register", json={"name": name, "email": email, "password": password})


def assert_problem(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


def assert_unauthenticated(response: requests.Response) -> None:
    assert_problem(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_register_login_profile_and_password_change(live: LiveServer) -> None:
    email = new_email()
    created = register(live, f"  {email} ")
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    user = created.json()
    assert set(user) == {"id", "name", "email", "role", "created_at"}
    assert (user["email"], user["role"]) == (email.lower(), "user")

    login = live.request("POST", "/auth/login", json={"email": email.upper(), "password": PASSWORD})
    assert login.status_code == 200
    assert login.json()["token_type"] == "Bearer"
    assert login.json()["user"] == user
    token = login.json()["access_token"]
    assert live.request("GET", "/users/me", token=token).json() == user

    renamed = live.request("PATCH", "/users/me", token=token, json={"name": "Ada King"})
    assert (renamed.status_code, renamed.json()["name"]) == (200, "Ada King")

    wrong = live.request("PATCH", "/users/me", token=token, json={"password": "new password", "current_password": "x"})
    assert_problem(wrong, 403, "WRONG_PASSWORD")
    change = {"password": "new password", "current_password": PASSWORD}
    assert live.request("PATCH", "/users/me", token=token, json=change).status_code == 200
    assert_unauthenticated(live.request("GET", "/users/me", token=token))
    assert_unauthenticated(live.request("PATCH", "/users/me", token=token, json={"name": "Mallory"}))
    assert live.login(email, "new password")


def test_one_email_registers_once_whatever_its_case(live: LiveServer) -> None:
    email = new_email()
    assert register(live, email).status_code == 201
    assert_problem(register(live, email.upper(), name="Eve"), 409, "EMAIL_TAKEN")
    assert_problem(register(live, f" {email.lower()} ", name="Eve"), 409, "EMAIL_TAKEN")


def test_racing_registrations_over_http_make_exactly_one_account(live: LiveServer) -> None:
    email = new_email()
    clients = 8
    start = threading.Barrier(clients)
    statuses: list[int] = []

    def client() -> None:
        start.wait()
        statuses.append(register(live, email).status_code)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {201: 1, 409: clients - 1}
    assert live.login(email, PASSWORD)


def test_concurrent_callers_each_see_their_own_profile(live: LiveServer) -> None:
    users = []
    for _ in range(4):
        email = new_email()
        register(live, email)
        users.append((email.lower(), live.login(email, PASSWORD)))

    def me(index: int) -> tuple[str, int, str]:
        email, token = users[index % len(users)]
        response = live.request("GET", "/users/me", token=token)
        return email, response.status_code, response.json().get("email", "")

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(me, range(64)))
    assert [answer for answer in answers if answer[1:] != (200, answer[0])] == []


def test_nobody_registers_an_admin(live: LiveServer) -> None:
    body = {"name": "Mallory", "email": new_email(), "password": PASSWORD, "role": "admin"}
    problem = assert_problem(live.request("POST", "/auth/register", json=body), 422, "VALIDATION_FAILED")
    assert problem["errors"] == [{"field": "role", "message": "Extra inputs are not permitted"}]
    assert live.request("POST", "/auth/login", json={"email": body["email"], "password": PASSWORD}).status_code == 401


def test_passwords_are_measured_in_bytes(live: LiveServer) -> None:
    email = new_email()
    assert_problem(register(live, email, password="é" * 36 + "a"), 422, "VALIDATION_FAILED")
    assert register(live, email, password="é" * 36).status_code == 201
    assert live.login(email, "é" * 36)


def test_bad_bodies_are_4xx_problems(live: LiveServer) -> None:
    url = "/auth/register"
    json_type = {"content-type": "application/json"}
    malformed = live.request("POST", url, data=b'{"name": ', headers=json_type)
    assert_problem(malformed, 400, "MALFORMED_BODY")
    text = live.request("POST", url, data=b"name=Ada", headers={"content-type": "application/x-www-form-urlencoded"})
    assert_problem(text, 415, "UNSUPPORTED_MEDIA_TYPE")
    binary = live.request("POST", url, data=b"\xff\xfe\x00", headers={"content-type": "application/octet-stream"})
    assert_problem(binary, 415, "UNSUPPORTED_MEDIA_TYPE")
    big = {"name": "Ada", "email": new_email(), "password": PASSWORD, "padding": "x" * (64 * 1024)}
    assert_problem(live.request("POST", url, json=big), 413, "PAYLOAD_TOO_LARGE")
    nested = live.request("POST", url, data=b"[" * 20_000 + b"]" * 20_000, headers=json_type)
    assert_problem(nested, 400, "MALFORMED_BODY")
    wrong_type = {"name": ["Ada"], "email": new_email(), "password": PASSWORD}
    assert_problem(live.request("POST", url, json=wrong_type), 422, "VALIDATION_FAILED")
    control = {"name": "Ada\u0000", "email": new_email(), "password": PASSWORD}
    assert_problem(live.request("POST", url, json=control), 422, "VALIDATION_FAILED")


def test_script_and_sql_come_back_as_inert_json(live: LiveServer) -> None:
    name = "<script>alert('x')</script> '; DROP TABLE users;-- 🎟️"
    email = new_email()
    created = register(live, email, name=name)
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    assert created.json()["name"] == name
    assert live.request("GET", "/users/me", token=live.login(email, PASSWORD)).json()["name"] == name


def test_unknown_email_and_wrong_password_look_the_same(live: LiveServer) -> None:
    email = new_email()
    register(live, email)
    wrong = live.request("POST", "/auth/login", json={"email": email, "password": "wrong horse"})
    unknown = live.request("POST", "/auth/login", json={"email": new_email(), "password": PASSWORD})
    assert_problem(wrong, 401, "INVALID_CREDENTIALS")
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())


def test_five_failures_lock_the_email_with_retry_after(live: LiveServer) -> None:
    email = new_email()
    register(live, email)
    for _ in range(5):
        live.request("POST", "/auth/login", json={"email": email, "password": "wrong horse"})
    locked = live.request("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    assert_problem(locked, 429, "TOO_MANY_ATTEMPTS")
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60


def b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def test_forged_tokens_are_401(live: LiveServer) -> None:
    email = new_email()
    register(live, email)
    token = live.login(email, PASSWORD)
    claims = jwt.decode(token, options={"verify_signature": False})
    admin = {**claims, "role": "admin"}
    forged = {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(admin)}.",
        "other secret": jwt.encode(admin, "not-the-server-secret-not-the-server-secret", algorithm="HS256"),
        "edited claims": f"{token.split('.')[0]}.{b64(admin)}.{token.split('.')[2]}",
        "garbage": "not.a.token",
    }
    for forgery in forged.values():
        assert_unauthenticated(live.request("GET", "/users/me", token=forgery))
    assert_unauthenticated(live.request("GET", "/users/me"))
    assert_unauthenticated(live.request("GET", "/users/me", headers={"Authorization": f"Basic {token}"}))
    assert live.request("GET", "/users/me", token=token).json()["role"] == "user"


def test_no_response_carries_a_hash(live: LiveServer) -> None:
    email = new_email()
    responses = [register(live, email), register(live, email)]
    login = live.request("POST", "/auth/login", json={"email": email, "password": PASSWORD})
    token = login.json()["access_token"]
    responses += [login, live.request("GET", "/users/me", token=token)]
    responses.append(live.request("PATCH", "/users/me", token=token, json={"name": "Ada King"}))
    for response in responses:
        assert "$2b$" not in response.text
        assert "password" not in response.text
