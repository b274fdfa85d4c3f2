"""Ticket codes: compact Ed25519-signed JWTs (EdDSA) for a ticket's QR code, verifiable offline.

A code is `header.payload.signature` with header {"alg": "EdDSA", "kid": <key id>} and payload
{"tn": <ticket number>, "ev": <event id>}, about 250 characters. Anyone holding the public keys of
GET /.well-known/jwks.json can check one with no network; only the holder of the private key can
make one.

Two documents, so that what verifies never holds what signs:
- the private ring {"active": <kid>, "keys": {<kid>: <secret>}, "next": <kid>, "next_from": <instant>,
  "legacy": [<JWK>, ...]}, read only by the functions that sign (TICKET_KEYS locally, the secret
  TICKET_KEYS_ARN deployed). Each secret is stretched into an Ed25519 private key by SHA-256;
- the public key set {"keys": [<JWK>, ...]} derived from it, read by the door and the JWKS route
  (TICKET_PUBLIC_KEYS, or the secret TICKET_PUBLIC_KEYS_ARN).
This module only reads them: making, rotating and publishing a ring is scripts/ticket_ring.py's (run
by scripts/ticket_keys.py, docs/DEPLOY.md), never deployed. During a rotation the ring's `next` key
signs only from `next_from`; a verifier meeting an unknown kid reads the public keys again, at most
every RECHECK_SECONDS, so a forged kid cannot drive Secrets Manager calls.

cryptography is imported inside the functions below, so only the functions that sign or verify load
it; only their deployment carries it (TicketCodesLayer in template.yaml).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.errors import InvalidTicketCode

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"
SECRET_CACHE_SECONDS = 300  # how long an instance keeps a document it read (and scanners the JWKS)
RECHECK_SECONDS = 30  # an unknown kid reads the public keys again, at most this often
_KDF_CONTEXT = b"boxoffice ticket code key v1\x00"
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class TicketClaim:
    """What a verified code says: which ticket of which event."""

    ticket_number: str
    event_id: str


@dataclass(frozen=True, slots=True)
class Ring:
    """The private ring as stored; `next` signs from `next_from` on (a rotation's second phase)."""

    active: str
    keys: dict[str, str] = field(repr=False)
    next: str | None = None
    next_from: datetime | None = None
    legacy: tuple[dict[str, str], ...] = ()  # public keys of adopted old-form keys: verify only

    def signing_kid(self, now: datetime) -> str:
        if self.next is not None and self.next_from is not None and now >= self.next_from:
            return self.next
        return self.active


def parse_ring(text: str) -> Ring:
    """The private ring; one whose active (or next) key is missing is unusable."""
    document = json.loads(text)
    if not isinstance(document, dict) or not document:
        raise ValueError("the ticket key ring is empty: run scripts/ticket_keys.py init (docs/DEPLOY.md)")
    active, keys, upcoming, start = (document.get(name) for name in ("active", "keys", "next", "next_from"))
    if not isinstance(keys, dict) or not all(isinstance(v, str) and len(v) >= 32 for v in keys.values()):
        raise ValueError("every ticket key needs a secret of at least 32 characters")
    if not isinstance(active, str) or active not in keys:
        raise ValueError("the ticket key ring's active key is missing")
    if (upcoming is None) != (start is None) or (upcoming is not None and upcoming not in keys):
        raise ValueError("the ticket key ring's next key needs its key and a next_from instant")
    legacy = document.get("legacy", [])
    if not isinstance(legacy, list) or not all(isinstance(k, dict) and k.get("kid") not in keys for k in legacy):
        raise ValueError("the ticket key ring's legacy keys must be public keys under kids of their own")
    begins = datetime.fromisoformat(start) if isinstance(start, str) else None
    return Ring(active, keys, upcoming, begins, tuple(legacy))


def private_key(secret: str) -> Ed25519PrivateKey:
    """The key a ring's secret stands for (scripts/ticket_ring.py derives its public key the same way)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(_KDF_CONTEXT + secret.encode()).digest())


@dataclass(frozen=True, slots=True)
class _Read:
    text: str
    at: datetime


_documents: dict[str, _Read] = {}  # per instance: the private ring and the public keys, when read


def _document(local: str | None, arn: str | None, *, within: int) -> str:
    """A document from the environment (local) or its secret, read again once `within` seconds old."""
    if local:
        return local
    if not arn:
        raise RuntimeError("Set TICKET_KEYS and TICKET_PUBLIC_KEYS (local) or their _ARN variables (deployed)")
    read = _documents.get(arn)
    if read is None or clock.now() - read.at >= timedelta(seconds=within):
        from boxoffice import keys

        read = _documents[arn] = _Read(keys.secret_value(arn, "Reading the ticket keys failed"), clock.now())
    return read.text


@lru_cache(maxsize=2)
def _signing_keys(text: str) -> tuple[Ring, dict[str, Ed25519PrivateKey]]:
    ring = parse_ring(text)
    return ring, {kid: private_key(secret) for kid, secret in ring.keys.items()}


@lru_cache(maxsize=2)
def _verifying_keys(text: str) -> dict[str, Ed25519PublicKey]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    document = json.loads(text)
    return {
        jwk["kid"]: Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
        for jwk in document["keys"]
    }


def _public_text(*, recheck: bool = False) -> str:
    config = settings()
    within = RECHECK_SECONDS if recheck else SECRET_CACHE_SECONDS
    return _document(config.ticket_public_keys, config.ticket_public_keys_arn, within=within)


def verifying_key(kid: str) -> Ed25519PublicKey | None:
    """The published key `kid`; an unknown kid may be a key published since the last read: look again."""
    key = _verifying_keys(_public_text()).get(kid)
    return key if key is not None else _verifying_keys(_public_text(recheck=True)).get(kid)


def clear_cache() -> None:
    """Forget the documents and derived keys (a local runtime started in-process is a new cold start)."""
    _documents.clear()
    _signing_keys.cache_clear()
    _verifying_keys.cache_clear()


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    """The kid and private key that sign now (a rotation's next key once its time has come)."""
    config = settings()
    text = _document(config.ticket_keys, config.ticket_keys_arn, within=SECRET_CACHE_SECONDS)
    try:
        ring, keys = _signing_keys(text)
    except ValueError as exc:  # never initialised (the stack makes it empty), or edited by hand
        from boxoffice import aws

        raise aws.unavailable("The ticket key ring is unusable (docs/DEPLOY.md, ticket code keys)") from exc
    kid = ring.signing_kid(clock.now())
    return kid, keys[kid]


def sign(event_id: str, ticket_number: str) -> str:
    """The ticket's code. Ed25519 is deterministic: the same ticket and key always give the same code."""
    import jwt  # with cryptography installed, PyJWT loads it (and bcrypt) at import

    kid, key = signing_key()
    return jwt.encode(
        {"tn": ticket_number, "ev": event_id},
        key,
        algorithm=ALGORITHM,
        headers={"kid": kid, "typ": None},  # no "typ": every byte is a QR module
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
    try:
        kid = jwt.get_unverified_header(code).get("kid")
        key = verifying_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidTicketCode("The code was not signed by any of our keys.")
        # The algorithm is pinned: "none", or HS256 keyed with the public key, never verifies.
        claims: dict[str, Any] = jwt.decode(code, key, algorithms=[ALGORITHM], options={"require": ["tn", "ev"]})
    except jwt.PyJWTError as exc:
        raise InvalidTicketCode() from exc
    number, event_id = claims["tn"], claims["ev"]
    if not (isinstance(number, str) and isinstance(event_id, str)):
        raise InvalidTicketCode()
    return TicketClaim(number, event_id)


def public_keys() -> list[dict[str, str]]:
    """The published keys as public JWKs (RFC 8037), the signing ones first."""
    keys: list[dict[str, str]] = json.loads(_public_text())["keys"]
    return keys
