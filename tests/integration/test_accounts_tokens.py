"""Every authenticated accounts endpoint answers a bad token with 401 problem+json and WWW-Authenticate."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from boxoffice import auth, clock
from boxoffice.config import settings
from tests.integration.test_accounts import ADA_LOGIN, assert_problem, register_and_login
from tests.support.handlers import Api, Result
from tests.unit.test_auth_tokens import frozen_clock

OTHER_SECRET = "another-secret-another-secret-another-secret-0123"


def b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


def resign(token: str, *, key: str | None = None, drop: str | None = None, **changes: Any) -> str:
    payload = {k: v for k, v in {**claims_of(token), **changes}.items() if k != drop}
    return jwt.encode(payload, key or settings().jwt_secret or "", algorithm="HS256")


def bad_authorizations(token: str) -> dict[str, str | None]:
    """Authorization header values that must all be refused, built from a valid token for a real user."""
    header, payload, signature = token.split(".")
    values: dict[str, str | None] = {
        "missing": None,
        "empty": "",
        "scheme only": "Bearer",
        "not a jwt": "Bearer not-a-jwt",
        "two parts": f"Bearer {header}.{payload}",
        "bad signature": f"Bearer {header}.{payload}.{signature[::-1]}",
        "basic scheme": f"Basic {token}",
        "token scheme": f"Token {token}",
        "no scheme": token,
        "alg none": f"Bearer {b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg none, admin": f"Bearer {b64({'alg': 'none'})}.{b64({**claims_of(token), 'role': 'admin'})}.",
        "other secret": f"Bearer {resign(token, key=OTHER_SECRET)}",
        "forged admin role": f"Bearer {header}.{b64({**claims_of(token), 'role': 'admin'})}.{signature}",
        "forged admin, other secret": f"Bearer {resign(token, key=OTHER_SECRET, role='admin')}",
        "wrong issuer": f"Bearer {resign(token, iss='evil')}",
        "wrong audience": f"Bearer {resign(token, aud='another-api')}",
        "expired": f"Bearer {resign(token, iat=clock.epoch() - 7200, exp=clock.epoch() - 3600)}",
        "unknown role": f"Bearer {resign(token, role='root')}",
        "newer token version": f"Bearer {resign(token, ver=claims_of(token)['ver'] + 1)}",
        "someone who does not exist": f"Bearer {resign(token, sub='no-such-user')}",
    }
    for claim in ("sub", "role", "ver", "iat", "exp", "iss", "aud"):
        values[f"no {claim}"] = f"Bearer {resign(token, drop=claim)}"
    return values


CALLS: dict[str, Callable[[Api, dict[str, str]], Result]] = {
    "get_me": lambda api, headers: api.call("get_me", headers=headers),
    "update_me": lambda api, headers: api.call("update_me", headers=headers, body={"name": "Mallory"}),
}


def call_with(api: Api, name: str, authorization: str | None) -> Result:
    return CALLS[name](api, {} if authorization is None else {"authorization": authorization})


@pytest.mark.parametrize("name", sorted(CALLS))
def test_bad_tokens_are_401_problem_json_with_www_authenticate(api: Api, name: str) -> None:
    token = register_and_login(api)
    wrong = {}
    for label, authorization in bad_authorizations(token).items():
        result = call_with(api, name, authorization)
        answer = (result.status, result.content_type, result.body.get("code"), result.headers.get("WWW-Authenticate"))
        if answer != (401, "application/problem+json", "UNAUTHENTICATED", 'Bearer realm="boxoffice"'):
            wrong[label] = answer
    assert wrong == {}
    # ... and none of them changed anything: the real token still sees the original profile.
    assert api.call("get_me", token=token).body["name"] == "Ada Lovelace"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_valid_token_itself_works(api: Api, name: str) -> None:
    token = register_and_login(api)
    assert call_with(api, name, f"Bearer {token}").status == 200


def test_a_token_expires_when_the_clock_passes_exp(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    move_clock = frozen_clock(monkeypatch)
    token = register_and_login(api)
    move_clock(settings().token_ttl_seconds - 1)
    assert api.call("get_me", token=token).status == 200
    move_clock(settings().token_ttl_seconds)
    assert_problem(api.call("get_me", token=token), 401, "UNAUTHENTICATED")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_token_revoked_by_a_password_change_is_401(api: Api, name: str) -> None:
    token = register_and_login(api)
    change = {"password": "new password", "current_password": ADA_LOGIN["password"]}
    assert api.call("update_me", token=token, body=change).status == 200
    result = call_with(api, name, f"Bearer {token}")
    assert_problem(result, 401, "UNAUTHENTICATED")
    assert result.headers["WWW-Authenticate"].startswith("Bearer")


def test_only_the_signature_makes_an_admin(api: Api) -> None:
    token = register_and_login(api)
    forged = resign(token, key=OTHER_SECRET, role="admin")
    with pytest.raises(auth.NotAuthenticated):
        auth.read_token(f"Bearer {forged}")
    assert api.call("get_me", token=forged).status == 401
    assert api.call("get_me", token=token).body["role"] == "user"
