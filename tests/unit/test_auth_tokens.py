"""Access tokens: HS256 pinned, every claim checked, time from boxoffice.clock."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest

from boxoffice import auth, clock
from boxoffice.config import settings
from boxoffice.errors import NotAuthenticated
from boxoffice.vocabulary import Principal


def secret() -> str:
    return settings().jwt_secret or ""


def claims(**changes: Any) -> dict[str, Any]:
    now = clock.epoch()
    base = {
        "sub": "user-1",
        "role": "user",
        "ver": 0,
        "iat": now,
        "exp": now + 600,
        "iss": settings().jwt_issuer,
        "aud": settings().jwt_audience,
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not ...}


def signed(payload: dict[str, Any], *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key or secret(), algorithm=algorithm)


def b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    """alg=none, as an attacker would send it: no signature at all."""
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Stop boxoffice.clock; the function returned sets it to that moment plus `seconds` (no sleeping)."""
    start = clock.now()

    def move(seconds: int) -> None:
        monkeypatch.setattr(clock, "now", lambda: start + timedelta(seconds=seconds))

    move(0)
    return move


def refused(authorization: str | None) -> None:
    with pytest.raises(NotAuthenticated):
        auth.read_token(authorization)


def test_an_issued_token_reads_back_as_its_principal() -> None:
    token, expires_in = auth.issue_token("user-1", "admin", 3)
    assert expires_in == settings().token_ttl_seconds
    assert auth.read_token(f"Bearer {token}") == Principal("user-1", "admin", 3)


def test_an_issued_token_carries_every_claim_and_is_hs256() -> None:
    token, expires_in = auth.issue_token("user-1", "user", 0)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert set(payload) == {"sub", "role", "ver", "iat", "exp", "iss", "aud"}
    assert payload["exp"] - payload["iat"] == expires_in


def test_the_scheme_is_case_insensitive() -> None:
    token, _ = auth.issue_token("user-1", "user", 0)
    assert auth.read_token(f"bearer {token}").user_id == "user-1"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer    ", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer ....", "Bearer é.é.é"],
)
def test_missing_or_malformed_tokens_are_refused(authorization: str | None) -> None:
    refused(authorization)


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", "Bearer:", ""])
def test_a_valid_token_under_another_scheme_is_refused(scheme: str) -> None:
    token, _ = auth.issue_token("user-1", "user", 0)
    refused(f"{scheme} {token}" if scheme else token)


def test_alg_none_is_refused() -> None:
    refused(f"Bearer {unsigned(claims())}")
    refused(f"Bearer {unsigned(claims(role='admin'))}")


def test_a_token_signed_with_another_secret_is_refused() -> None:
    refused(f"Bearer {signed(claims(), key='another-secret-another-secret-another-secret')}")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_the_right_secret(algorithm: str) -> None:
    refused(f"Bearer {signed(claims(), algorithm=algorithm)}")


def test_a_forged_admin_role_needs_the_secret() -> None:
    token, _ = auth.issue_token("user-1", "user", 0)
    header, _, signature = token.split(".")
    payload = jwt.decode(token, options={"verify_signature": False})
    refused(f"Bearer {header}.{b64({**payload, 'role': 'admin'})}.{signature}")
    refused(f"Bearer {signed(claims(role='admin'), key='guessed-secret-guessed-secret-guessed')}")


@pytest.mark.parametrize("claim", ["sub", "role", "ver", "iat", "exp", "iss", "aud"])
def test_a_token_missing_a_claim_is_refused(claim: str) -> None:
    refused(f"Bearer {signed(claims(**{claim: ...}))}")


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"aud": ["another-api"]},
        {"role": "superuser"},
        {"role": ["admin"]},
        {"sub": 42},
        {"ver": "0"},
        {"ver": True},
        {"ver": 0.5},
        {"exp": "tomorrow"},
        {"iat": "today"},
    ],
)
def test_a_token_with_a_wrong_claim_is_refused(changes: dict[str, Any]) -> None:
    refused(f"Bearer {signed(claims(**changes))}")


def test_an_audience_list_naming_us_is_accepted() -> None:
    token = signed(claims(aud=[settings().jwt_audience, "other"]))
    assert auth.read_token(f"Bearer {token}").user_id == "user-1"


def test_a_token_expires_at_exp_by_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    move = frozen_clock(monkeypatch)
    token, ttl = auth.issue_token("user-1", "user", 0)
    move(ttl - 1)
    assert auth.read_token(f"Bearer {token}").user_id == "user-1"
    move(ttl)
    refused(f"Bearer {token}")


def test_a_token_from_the_future_is_refused() -> None:
    refused(f"Bearer {signed(claims(iat=clock.epoch() + 3600, exp=clock.epoch() + 7200))}")


def test_small_clock_skew_between_instances_is_tolerated() -> None:
    token = signed(claims(iat=clock.epoch() + 5))
    assert auth.read_token(f"Bearer {token}").user_id == "user-1"


def test_tokens_minted_after_the_clock_moved_are_valid_then(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests move boxoffice.clock instead of sleeping: tokens must follow that clock, not the wall clock.
    frozen_clock(monkeypatch)(7 * 24 * 3600)
    token, _ = auth.issue_token("user-1", "user", 0)
    assert auth.read_token(f"Bearer {token}").user_id == "user-1"
