"""The access-token signing keys (Secrets Manager's current version, and the previous one while it
can still have signed a live token), the cursor-sealing key, and reading any of the stack's secrets.

Rotating the secret (put-secret-value) makes the new value AWSCURRENT and the old one AWSPREVIOUS.
Each instance keeps the keys for CACHE_SECONDS, so a rotation reaches every instance within that
time without a Secrets Manager call per request. During the rotation window, the token lifetime
after the current version was created, tokens signed with the previous version still verify: a
user never meets a 401 because an instance learnt of the rotation before or after another. After
the window the previous key is dropped: every token it signed has expired by then.

Locally (JWT_SECRET set) the key comes from the environment and there is nothing to rotate.

Cursors are sealed with a key of their own (CURSOR_KEY, or the secret CURSOR_KEY_ARN), so that the
public listing routes that hand out cursors never hold the key that signs access tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from boxoffice import clock
from boxoffice.config import settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CACHE_SECONDS = 300
# A token that verifies with none of the cached keys may be from an instance that saw the rotation
# first: look again, but at most this often, so that forged tokens cannot drive Secrets Manager calls.
RECHECK_SECONDS = 30
PREVIOUS = "AWSPREVIOUS"


@dataclass(frozen=True, slots=True)
class SigningKeys:
    current: str
    fetched_at: datetime
    previous: str | None = None  # read only during a rotation window ...
    previous_until: datetime | None = None  # ... and accepted until it ends

    @property
    def verifying(self) -> tuple[str, ...]:
        if self.previous is None or self.previous_until is None or clock.now() >= self.previous_until:
            return (self.current,)
        return (self.current, self.previous)

    def age(self) -> timedelta:
        return clock.now() - self.fetched_at


_cached: SigningKeys | None = None


def signing_keys(*, recheck: bool = False) -> SigningKeys:
    """The keys, from the cache unless it is older than CACHE_SECONDS (or RECHECK_SECONDS on a recheck)."""
    global _cached  # the per-instance cache of the keys
    limit = timedelta(seconds=RECHECK_SECONDS if recheck else CACHE_SECONDS)
    if _cached is None or _cached.age() >= limit:
        _cached = _load()
    return _cached


def clear() -> None:
    """Forget the cached keys (a new instance, as the local runtime and tests start one)."""
    global _cached
    _cached = None
    _client.cache_clear()
    cursor_key.cache_clear()


@cache
def cursor_key() -> str:
    """The key cursors are sealed with, read once per cold start: a new one only voids open cursors."""
    config = settings()
    if config.cursor_key:
        return config.cursor_key
    if not config.cursor_key_arn:
        raise RuntimeError("Set CURSOR_KEY (local) or CURSOR_KEY_ARN (deployed)")
    return secret_value(config.cursor_key_arn, "Reading the cursor key failed")


def secret_value(secret_id: str, failure: str) -> str:
    """A secret's current value; a failed read is a 503 logged with `failure`."""
    from botocore.exceptions import BotoCoreError, ClientError

    from boxoffice import aws

    try:
        return _client().get_secret_value(SecretId=secret_id)["SecretString"]
    except (ClientError, BotoCoreError) as exc:
        raise aws.unavailable(failure) from exc


def _load() -> SigningKeys:
    config = settings()
    if config.jwt_secret:
        return SigningKeys(config.jwt_secret, clock.now())
    if not config.jwt_secret_arn:
        raise RuntimeError("Set JWT_SECRET (local) or JWT_SECRET_ARN (deployed)")
    # Imported here: functions that never read the secret do not pay for botocore at cold start.
    from botocore.exceptions import BotoCoreError, ClientError

    from boxoffice import aws

    client = _client()
    try:
        current = client.get_secret_value(SecretId=config.jwt_secret_arn)
        keys = SigningKeys(current["SecretString"], clock.now())
        # An instance may sign with the old key for up to CACHE_SECONDS after the rotation; its
        # tokens then live TOKEN_TTL_SECONDS.
        window_end = current["CreatedDate"] + timedelta(seconds=config.token_ttl_seconds + CACHE_SECONDS)
        if clock.now() < window_end:
            keys = replace(keys, previous=_previous(client, config.jwt_secret_arn), previous_until=window_end)
    except (ClientError, BotoCoreError) as exc:
        raise aws.unavailable("Reading the JWT signing secret failed") from exc
    return keys


@cache
def _client() -> SecretsManagerClient:
    import boto3

    from boxoffice import aws

    return aws.budgeted(boto3.client("secretsmanager", config=aws.config()))


def _previous(client: SecretsManagerClient, secret_id: str) -> str | None:
    try:
        return client.get_secret_value(SecretId=secret_id, VersionStage=PREVIOUS)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        return None  # never rotated: the first version has no predecessor
