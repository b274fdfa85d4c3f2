"""Register, login, profile: each handler over moto with its events/ sample."""

from __future__ import annotations

from tests.support.handlers import Api

ADA = {"name": "Ada Lovelace", "email": "Ada@Example.com ", "password": "correct horse"}


def register_and_login(api: Api, **overrides: str) -> str:
    body = {**ADA, **overrides}
    assert api.call("register", body=body).status == 201
    result = api.call("login", body={"email": body["email"], "password": body["password"]})
    assert result.status == 200, result.body
    token: str = result.body["access_token"]
    return token


def test_register_returns_the_user_without_the_hash(api: Api) -> None:
    result = api.call("register", body=ADA)
    assert result.status == 201
    assert result.body["email"] == "ada@example.com"
    assert result.body["role"] == "user"
    assert set(result.body) == {"id", "name", "email", "role", "created_at"}


def test_login_then_me(api: Api) -> None:
    token = register_and_login(api)
    result = api.call("get_me", token=token)
    assert result.status == 200
    assert result.body["email"] == "ada@example.com"
