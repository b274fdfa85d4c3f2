"""Making and changing the ticket key ring, and publishing its public keys: for scripts/ticket_keys.py,
the local runtime and tests. Deployed functions only read the ring (boxoffice.ticket_codes), so none of
this ships in the layer.

A kid is the start of the key's RFC 7638 thumbprint, so a new key never takes an old key's kid. The
public keys of a ring of the old form (kids "<stage>-1", adopt) are kept as "legacy": they verify the
codes already sent out until retired, and never sign. Rotation is two-phase (docs/DEPLOY.md): the new
key is published at once and becomes `next`, which signs only from `next_from`, PUBLISH_LEAD_SECONDS
later, when every JWKS cache and every verifying instance has it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from boxoffice.ticket_codes import ALGORITHM, SECRET_CACHE_SECONDS, Ring, parse_ring, private_key

# A published key may be unknown to a JWKS instance's cache, then to a scanner's copy of its answer.
PUBLISH_LEAD_SECONDS = 2 * SECRET_CACHE_SECONDS
KID_CHARS = 16  # 96 bits of the thumbprint: unique per key, and short in every QR code


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwk(secret: str) -> dict[str, str]:
    """The public JWK (RFC 8037) of a secret, its kid the start of its RFC 7638 thumbprint."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = private_key(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = _b64(raw)
    thumbprint = hashlib.sha256(json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":")).encode())
    kid = _b64(thumbprint.digest())[:KID_CHARS]
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def _new_key(secret: str | None = None) -> tuple[str, str]:
    secret = secret or secrets.token_urlsafe(48)
    return _jwk(secret)["kid"], secret


def ring_text(ring: Ring) -> str:
    """The ring as stored (what boxoffice.ticket_codes.parse_ring reads)."""
    document: dict[str, Any] = {"active": ring.active, "keys": ring.keys}
    if ring.next is not None and ring.next_from is not None:
        document |= {"next": ring.next, "next_from": ring.next_from.isoformat()}
    if ring.legacy:
        document["legacy"] = list(ring.legacy)
    return json.dumps(document)


def new_ring(secret: str | None = None) -> str:
    """A ring with one key (new, unless `secret` is given), signing at once: for a stack nothing was
    ever signed for (init), a local run, a test."""
    kid, secret = _new_key(secret)
    return ring_text(Ring(kid, {kid: secret}))


def rotate(text: str, now: datetime) -> str:
    """The ring with a new key that signs from PUBLISH_LEAD_SECONDS after `now`: publish its public
    document first. A finished rotation's key becomes the active one; an unfinished one is refused."""
    ring = parse_ring(text)
    if ring.next is not None and ring.signing_kid(now) != ring.next:
        raise ValueError(f"a rotation is under way: key {ring.next} signs from {ring.next_from}")
    kid, secret = _new_key()
    active = ring.signing_kid(now)
    starts = now + timedelta(seconds=PUBLISH_LEAD_SECONDS)
    return ring_text(Ring(active, {**ring.keys, kid: secret}, kid, starts, ring.legacy))


def retire(text: str, kid: str, now: datetime) -> str:
    """The ring without `kid` (once every event it signed tickets for is over); signing keys stay."""
    ring = parse_ring(text)
    if kid in (ring.active, ring.next):
        raise ValueError("a key that signs (or is about to) cannot be retired: rotate first")
    legacy = tuple(k for k in ring.legacy if k["kid"] != kid)
    if kid not in ring.keys and legacy == ring.legacy:
        raise ValueError(f"the ring has no key {kid!r}")
    kept = {k: v for k, v in ring.keys.items() if k != kid}
    return ring_text(Ring(ring.active, kept, ring.next, ring.next_from, legacy))


def adopt(text: str, old: str) -> str:
    """The ring that also verifies (never signs) what a ring of the old form {"active": <kid>, <kid>:
    <secret>, ...} signed: its public keys under their old kids, no secret of theirs kept."""
    ring = parse_ring(text)
    document = json.loads(old)
    if not isinstance(document, dict) or not isinstance(document.get("active"), str):
        raise ValueError("not a ticket key ring of the old form")
    known = set(ring.keys) | {k["kid"] for k in ring.legacy}
    adopted = [{**_jwk(secret), "kid": kid} for kid, secret in document.items() if kid != "active"]
    if any(key["kid"] in known for key in adopted):
        raise ValueError("the ring already has a key under one of those kids")
    return ring_text(Ring(ring.active, ring.keys, ring.next, ring.next_from, (*ring.legacy, *adopted)))


def public_document(text: str) -> str:
    """The JWKS of every key of the ring, the next and active ones first: what verifiers may read."""
    ring = parse_ring(text)
    jwks = {kid: _jwk(secret) for kid, secret in ring.keys.items()}
    for kid, jwk in jwks.items():
        if jwk["kid"] != kid:  # a secret edited in place under an old kid: every code it signed would fail
            raise ValueError(f"key {kid!r} is not the kid of its secret ({jwk['kid']})")
    first = [k for k in (ring.next, ring.active) if k is not None]
    ordered = [jwks[k] for k in [*first, *sorted(set(jwks) - set(first))]]
    return json.dumps({"keys": [*ordered, *ring.legacy]})
