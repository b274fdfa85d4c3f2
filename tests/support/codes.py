"""Forged and malformed ticket codes, built around a genuine one, for the tests that must refuse them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from boxoffice import ticket_codes
from boxoffice.config import settings


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(part: dict[str, Any]) -> str:
    return b64(json.dumps(part).encode())


def forged_codes(event_id: str, number: str) -> dict[str, str]:
    """Codes for ticket `number` of `event_id` that a verifier must all refuse, by what is wrong with them."""
    genuine = ticket_codes.sign(event_id, number)
    header, payload, signature = genuine.split(".")
    kid, own_key = ticket_codes.signing_key()
    other_key = Ed25519PrivateKey.generate()
    public = own_key.public_key()
    claims = {"tn": number, "ev": event_id}

    def hs256(key: bytes) -> str:
        # The classic confusion: a verifier that takes "alg" from the token would check an HMAC keyed
        # with the public key, which anyone has.
        head = b64json({"alg": "HS256", "kid": kid})
        mac = hmac.new(key, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        return f"{head}.{payload}.{b64(mac)}"

    return {
        "signed by another key": jwt.encode(claims, other_key, algorithm="EdDSA", headers={"kid": kid}),
        "another key under its own kid": jwt.encode(claims, other_key, algorithm="EdDSA", headers={"kid": "rogue"}),
        "tampered ticket number": f"{header}.{b64json({'tn': number[::-1], 'ev': event_id})}.{signature}",
        "tampered event": f"{header}.{b64json({'tn': number, 'ev': event_id.upper()})}.{signature}",
        "alg none": f"{b64json({'alg': 'none', 'kid': kid})}.{payload}.",
        "alg none, no kid": f"{b64json({'alg': 'none'})}.{payload}.",
        "HS256 keyed with the raw public key": hs256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)),
        "HS256 keyed with the PEM public key": hs256(
            public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        ),
        "signature cut short": f"{header}.{payload}.{signature[:-4]}",
        "no signature": f"{header}.{payload}.",
        "two parts": f"{header}.{payload}",
        "garbage": "not a code at all",
        "header not JSON": f"{b64(b'nope')}.{payload}.{signature}",
        "kid not a string": f"{b64json({'alg': 'EdDSA', 'kid': 1})}.{payload}.{signature}",
        "missing event": jwt.encode({"tn": number}, own_key, algorithm="EdDSA", headers={"kid": kid}),
        "ticket number not a string": jwt.encode(
            {"tn": 7, "ev": event_id}, own_key, algorithm="EdDSA", headers={"kid": kid}
        ),
        "an access token": jwt.encode({"sub": "x"}, settings().jwt_secret or "", algorithm="HS256"),
    }


FORGERIES = sorted(forged_codes("e", "n"))  # the names, for parametrize (keys come from the test ring)
