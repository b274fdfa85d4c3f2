"""bcrypt hashing: verified exactly, never truncated, and the same work for unknown accounts."""

from __future__ import annotations

import bcrypt
import pytest

from boxoffice import auth
from boxoffice.config import settings

PASSWORD_72_BYTES = "é" * 36


def spy_checkpw(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record the hash bcrypt.checkpw is asked to check against, on every call from now on."""
    seen: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        seen.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return seen


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    hashed = auth.hash_password("correct horse")
    assert hashed.startswith("$2b$")
    assert auth.verify_password("correct horse", hashed)
    assert not auth.verify_password("correct horsE", hashed)
    assert not auth.verify_password("correct horse ", hashed)


def test_hashes_are_salted() -> None:
    assert auth.hash_password("correct horse") != auth.hash_password("correct horse")


def test_hashes_use_the_configured_cost() -> None:
    # conftest lowers BCRYPT_ROUNDS to 4 for speed; the deployed cost is asserted in test_auth_config.py.
    assert settings().bcrypt_rounds == 4
    assert auth.hash_password("correct horse").startswith("$2b$04$")


def test_every_byte_of_a_72_byte_password_counts() -> None:
    hashed = auth.hash_password(PASSWORD_72_BYTES)
    assert auth.verify_password(PASSWORD_72_BYTES, hashed)
    assert not auth.verify_password("é" * 35 + "è", hashed)  # only the 72nd byte differs


def test_a_password_over_72_bytes_is_refused_rather_than_truncated() -> None:
    with pytest.raises(ValueError, match="72 bytes"):
        auth.hash_password(PASSWORD_72_BYTES + "a")


def test_an_unknown_account_verifies_against_the_dummy_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = spy_checkpw(monkeypatch)
    assert not auth.verify_password("correct horse", None)
    assert checked == [auth.dummy_hash().encode()]


def test_the_dummy_hashs_own_password_never_logs_anyone_in(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = spy_checkpw(monkeypatch)
    assert not auth.verify_password("not-a-real-password", None)
    assert checked == [auth.dummy_hash().encode()]


def test_the_dummy_hash_costs_what_a_real_one_costs() -> None:
    assert auth.dummy_hash()[:7] == auth.hash_password("anything at all")[:7] == "$2b$04$"


def test_a_known_account_verifies_against_its_own_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = spy_checkpw(monkeypatch)
    hashed = auth.hash_password("correct horse")
    assert not auth.verify_password("wrong horse", hashed)
    assert checked == [hashed.encode()]


def test_the_dummy_hash_at_the_deployed_cost_is_precomputed_and_costs_12(monkeypatch: pytest.MonkeyPatch) -> None:
    from boxoffice import config

    monkeypatch.setenv("BCRYPT_ROUNDS", "12")
    config.settings.cache_clear()
    auth.dummy_hash.cache_clear()
    try:
        spy_calls: list[str] = []
        monkeypatch.setattr(auth, "hash_password", lambda pw: spy_calls.append(pw) or "")
        assert auth.dummy_hash().startswith("$2b$12$")
        assert spy_calls == []  # nothing hashed on the request path
    finally:
        config.settings.cache_clear()
        auth.dummy_hash.cache_clear()
