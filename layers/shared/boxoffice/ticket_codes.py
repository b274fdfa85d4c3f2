"""Ticket codes: compact Ed25519-signed JWTs (EdDSA) for a ticket's QR code, verifiable offline.

A code is `header.payload.signature` with header {"alg": "EdDSA", "kid": <key id>} and payload
{"tn": <ticket number>, "ev": <event id>}, about 240 characters. Anyone holding the public keys of
GET /.well-known/jwks.json can check one with no network; only the holder of the private key can
make one.

The key ring is a JSON object {"active": <kid>, <kid>: <secret>, ...}: from TICKET_KEYS in local runs
(generated at start) or from the Secrets Manager secret TICKET_KEYS_ARN when deployed (the template
generates the first key). Each secret is stretched into an Ed25519 private key by SHA-256. The active
key signs; every key in the ring verifies and is published, so codes signed before a rotation stay
good until their key is removed (docs/DEPLOY.md). Private keys never leave this module.

cryptography is imported inside the functions below, so only the functions that sign or verify load
it; only their deployment carries it (TicketCodesLayer in template.yaml).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from boxoffice.config import settings
from boxoffice.errors import InvalidTicketCode

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ALGORITHM = "EdDSA"
ACTIVE = "active"
SECRET_CACHE_SECONDS = 300  # a rotation reaches every warm instance within five minutes
_KDF_CONTEXT = b"boxoffice ticket code key v1\x00"
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class TicketClaim:
    """What a verified code says: which ticket of which event."""

    ticket_number: str
    event_id: str


@dataclass(frozen=True, slots=True)
class KeyRing:
    active: str
    keys: dict[str, Ed25519PrivateKey] = field(repr=False)


def parse_ring(text: str) -> tuple[str, dict[str, str]]:
    """(active kid, {kid: secret}) from the ring's JSON; a ring whose active key is missing is unusable."""
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("the ticket key ring must be a JSON object")
    active = document.get(ACTIVE)
    keys = {kid: value for kid, value in document.items() if kid != ACTIVE}
    if not isinstance(active, str) or not isinstance(keys.get(active), str):
        raise ValueError("the ticket key ring's active key is missing")
    if not all(isinstance(value, str) and len(value) >= 32 for value in keys.values()):
        raise ValueError("every ticket key needs a secret of at least 32 characters")
    return active, keys


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def rotate(text: str, kid: str) -> str:
    """The ring with a new key `kid` that signs from now on; the old keys stay to verify."""
    _active, keys = parse_ring(text)
    if kid == ACTIVE or kid in keys:
        raise ValueError(f"the ring already has a key {kid!r}")
    return json.dumps({ACTIVE: kid, **keys, kid: new_secret()})


def retire(text: str, kid: str) -> str:
    """The ring without `kid` (once every event it signed tickets for is over); the active key stays."""
    active, keys = parse_ring(text)
    if kid == active:
        raise ValueError("the active key cannot be retired: rotate first")
    if kid not in keys:
        raise ValueError(f"the ring has no key {kid!r}")
    return json.dumps({ACTIVE: active, **{k: v for k, v in keys.items() if k != kid}})


def _ring_text() -> str:
    config = settings()
    if config.ticket_keys:
        return config.ticket_keys
    if not config.ticket_keys_arn:
        raise RuntimeError("Set TICKET_KEYS (local) or TICKET_KEYS_ARN (deployed)")
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(config.ticket_keys_arn, max_age=SECRET_CACHE_SECONDS))


@lru_cache(maxsize=2)
def _ring_of(text: str) -> KeyRing:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    active, material = parse_ring(text)
    keys = {
        kid: Ed25519PrivateKey.from_private_bytes(hashlib.sha256(_KDF_CONTEXT + secret.encode()).digest())
        for kid, secret in material.items()
    }
    return KeyRing(active, keys)


def ring() -> KeyRing:
    return _ring_of(_ring_text())


def clear_cache() -> None:
    """Forget derived keys (a local runtime started in-process is a new cold start)."""
    _ring_of.cache_clear()


def sign(event_id: str, ticket_number: str) -> str:
    """The ticket's code. Ed25519 is deterministic: the same ticket and key always give the same code."""
    import jwt  # with cryptography installed, PyJWT loads it (and bcrypt) at import

    keys = ring()
    return jwt.encode(
        {"tn": ticket_number, "ev": event_id},
        keys.keys[keys.active],
        algorithm=ALGORITHM,
        headers={"kid": keys.active, "typ": None},  # no "typ": every byte is a QR module
    )


def _as_issued(code: str) -> bool:
    """Whether the code is in the one form we issue: three unpadded base64url parts with no stray bits.
    Offline scanners deduplicate by the string, so `code==` or ` code` must not pass for the ticket."""
    parts = code.split(".")
    if len(parts) != 3 or not all(part and part.isascii() and _BASE64URL.issuperset(part) for part in parts):
        return False
    return all(base64.urlsafe_b64encode(_unb64(part)).rstrip(b"=").decode() == part for part in parts)


def _unb64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except ValueError:  # a length base64 cannot have
        return b""


def verify(code: str) -> TicketClaim:
    """What a code says, if it is as issued and one of our keys signed it with EdDSA; anything else is
    InvalidTicketCode."""
    import jwt

    if not _as_issued(code):
        raise InvalidTicketCode("The code is not written as it was issued.")
    keys = ring()
    try:
        kid = jwt.get_unverified_header(code).get("kid")
        key = keys.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidTicketCode("The code was not signed by any of our keys.")
        # The algorithm is pinned: "none", or HS256 keyed with the public key, never verifies.
        claims: dict[str, Any] = jwt.decode(
            code, key.public_key(), algorithms=[ALGORITHM], options={"require": ["tn", "ev"]}
        )
    except jwt.PyJWTError as exc:
        raise InvalidTicketCode() from exc
    number, event_id = claims["tn"], claims["ev"]
    if not (isinstance(number, str) and isinstance(event_id, str)):
        raise InvalidTicketCode()
    return TicketClaim(number, event_id)


def public_keys() -> list[dict[str, str]]:
    """Every key of the ring as a public JWK (RFC 8037), the active one first."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    keys = ring()
    kids = [keys.active, *sorted(k for k in keys.keys if k != keys.active)]
    jwks = []
    for kid in kids:
        raw = keys.keys[kid].public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        jwks.append({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"})
    return jwks
