"""Rotating the JWT secret: tokens of either version verify during the window, and only then."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from unittest import mock

import boto3
import jwt
import pytest
from moto import mock_aws

from boxoffice import auth, clock, keys
from boxoffice.config import settings
from boxoffice.errors import NotAuthenticated, ServiceUnavailable
from devserver.runtime import reset_caches

FIRST, SECOND = "first-signing-key-" + "a" * 46, "second-signing-key-" + "b" * 45


class Secret:
    """The stack's JWT secret in Secrets Manager (moto), and a clock the test moves."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = boto3.client("secretsmanager")
        self.arn = self.client.create_secret(Name="jwt", SecretString=FIRST)["ARN"]
        self.reads = 0
        start = clock.now()
        self._monkeypatch = monkeypatch
        self._start = start
        monkeypatch.setattr(clock, "now", lambda: start)

    def rotate(self) -> None:
        self.client.put_secret_value(SecretId=self.arn, SecretString=SECOND)

    def move(self, seconds: float) -> None:
        moment = self._start + timedelta(seconds=seconds)
        self._monkeypatch.setattr(clock, "now", lambda: moment)

    def count_reads(self) -> None:
        def counted(**_: object) -> None:
            self.reads += 1

        keys._client().meta.events.register("before-call.secrets-manager.GetSecretValue", counted)


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[Secret]:
    with mock_aws(), mock.patch.dict(os.environ):
        made = Secret(monkeypatch)
        os.environ.update(JWT_SECRET="", JWT_SECRET_ARN=made.arn)
        reset_caches()
        yield made
    reset_caches()


def minted_with(key: str) -> str:
    """A token as an instance holding `key` would sign it now."""
    now = clock.epoch()
    config = settings()
    claims = {"sub": "user-1", "role": "user", "ver": 0, "iat": now, "exp": now + config.token_ttl_seconds}
    return jwt.encode({**claims, "iss": config.jwt_issuer, "aud": config.jwt_audience}, key, algorithm="HS256")


def verifies(token: str) -> bool:
    try:
        auth.read_token(f"Bearer {token}")
    except NotAuthenticated:
        return False
    return True


def test_a_token_signed_with_the_previous_secret_verifies_during_the_rotation(secret: Secret) -> None:
    before, _ = auth.issue_token("user-1", "user", 0)
    secret.rotate()
    keys.clear()  # an instance started after the rotation
    assert verifies(before)
    after, _ = auth.issue_token("user-1", "user", 0)
    assert jwt.decode(after, SECOND, algorithms=["HS256"], audience=settings().jwt_audience)
    assert verifies(after)


def test_the_previous_secret_is_refused_once_the_window_has_passed(secret: Secret) -> None:
    secret.rotate()
    secret.move(window() - 60)
    assert verifies(minted_with(FIRST))  # an instance that had not yet seen the rotation
    secret.move(window() + 1)
    assert not verifies(minted_with(FIRST))
    assert verifies(minted_with(SECOND))


def test_an_instance_holding_the_old_secret_soon_accepts_tokens_of_the_new_one(secret: Secret) -> None:
    assert verifies(minted_with(FIRST))  # the instance has cached the first version
    secret.rotate()
    new = minted_with(SECOND)
    assert not verifies(new)  # looked again only RECHECK_SECONDS after its last read ...
    secret.move(keys.RECHECK_SECONDS)
    assert verifies(minted_with(SECOND))  # ... then it finds the rotation, long before its cache expires


def window() -> int:
    return settings().token_ttl_seconds + keys.CACHE_SECONDS


def test_a_warm_instance_reads_the_secret_once_per_cache_period(secret: Secret) -> None:
    secret.move(window())  # outside a rotation window: only the current version is read
    secret.count_reads()
    for _ in range(5):
        assert verifies(minted_with(FIRST))
    assert secret.reads == 1
    secret.move(window() + keys.CACHE_SECONDS)
    assert verifies(minted_with(FIRST))
    assert secret.reads == 2


def test_forged_tokens_cost_no_more_than_one_read_per_recheck_period(secret: Secret) -> None:
    secret.move(window())
    secret.count_reads()
    forged: Callable[[], str] = lambda: minted_with("not-the-key-" + "c" * 52)  # noqa: E731
    for _ in range(5):
        assert not verifies(forged())
    assert secret.reads == 1


def test_a_secret_that_cannot_be_read_is_a_503(secret: Secret) -> None:
    secret.client.delete_secret(SecretId=secret.arn, ForceDeleteWithoutRecovery=True)
    with pytest.raises(ServiceUnavailable):
        auth.read_token(f"Bearer {minted_with(FIRST)}")
