"""Ticket codes: Ed25519-signed, verified only with our keys and only as EdDSA, rotatable."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from boxoffice import ticket_codes
from boxoffice.config import settings
from boxoffice.errors import InvalidTicketCode

EVENT = "6f1c2f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f"
NUMBER = "7KQ4-M2ZX-AB12-CD34-EF56-GH78-JK90"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(part: dict[str, Any]) -> str:
    return b64(json.dumps(part).encode())


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Settings read again after a test that changed TICKET_KEYS (monkeypatch restores it)."""
    yield
    settings.cache_clear()


def use_ring(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("TICKET_KEYS", text)
    settings.cache_clear()


def test_a_code_names_the_ticket_and_event_and_verifies() -> None:
    code = ticket_codes.sign(EVENT, NUMBER)
    assert jwt.get_unverified_header(code) == {"alg": "EdDSA", "kid": "test-1"}
    assert ticket_codes.verify(code) == ticket_codes.TicketClaim(NUMBER, EVENT)
    assert len(code) < 300  # small enough for a QR code a phone shows at arm's length


def test_the_same_ticket_always_gets_the_same_code() -> None:
    assert ticket_codes.sign(EVENT, NUMBER) == ticket_codes.sign(EVENT, NUMBER)
    assert ticket_codes.sign(EVENT, NUMBER) != ticket_codes.sign(EVENT, NUMBER.replace("7", "8"))


def test_a_scanner_verifies_a_code_with_nothing_but_the_published_keys() -> None:
    code = ticket_codes.sign(EVENT, NUMBER)
    document = json.loads(json.dumps({"keys": ticket_codes.public_keys()}))  # as it travels
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(document).keys}
    key = keys[jwt.get_unverified_header(code)["kid"]]
    assert jwt.decode(code, key.key, algorithms=["EdDSA"]) == {"tn": NUMBER, "ev": EVENT}


def test_the_published_keys_hold_no_private_part() -> None:
    (key,) = ticket_codes.public_keys()
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert "test-ticket-key" not in json.dumps(key)


def forgeries() -> dict[str, str]:
    """Codes that must all be refused, built around a genuine one."""
    genuine = ticket_codes.sign(EVENT, NUMBER)
    header, payload, signature = genuine.split(".")
    other_key = Ed25519PrivateKey.generate()
    public = ticket_codes.ring().keys["test-1"].public_key()
    raw_public = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    pem_public = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    hs256_header = b64json({"alg": "HS256", "kid": "test-1"})
    body = b64json({"tn": NUMBER, "ev": EVENT})

    def hs256(key: bytes) -> str:
        mac = hmac.new(key, f"{hs256_header}.{body}".encode(), hashlib.sha256).digest()
        return f"{hs256_header}.{body}.{b64(mac)}"

    return {
        "signed by another key": jwt.encode(
            {"tn": NUMBER, "ev": EVENT}, other_key, algorithm="EdDSA", headers={"kid": "test-1"}
        ),
        "another key under its own kid": jwt.encode(
            {"tn": NUMBER, "ev": EVENT}, other_key, algorithm="EdDSA", headers={"kid": "evil-1"}
        ),
        "tampered ticket number": f"{header}.{b64json({'tn': NUMBER[::-1], 'ev': EVENT})}.{signature}",
        "tampered event": f"{header}.{b64json({'tn': NUMBER, 'ev': EVENT.upper()})}.{signature}",
        "alg none": f"{b64json({'alg': 'none', 'kid': 'test-1'})}.{payload}.",
        "alg none, no kid": f"{b64json({'alg': 'none'})}.{payload}.",
        "HS256 keyed with the raw public key": hs256(raw_public),
        "HS256 keyed with the PEM public key": hs256(pem_public),
        "signature cut short": f"{header}.{payload}.{signature[:-4]}",
        "no signature": f"{header}.{payload}.",
        "two parts": f"{header}.{payload}",
        "garbage": "not a code at all",
        "empty": "",
        "header not JSON": f"{b64(b'nope')}.{payload}.{signature}",
        "kid not a string": f"{b64json({'alg': 'EdDSA', 'kid': 1})}.{payload}.{signature}",
        "missing event": jwt.encode(
            {"tn": NUMBER}, ticket_codes.ring().keys["test-1"], algorithm="EdDSA", headers={"kid": "test-1"}
        ),
        "ticket number not a string": jwt.encode(
            {"tn": 7, "ev": EVENT}, ticket_codes.ring().keys["test-1"], algorithm="EdDSA", headers={"kid": "test-1"}
        ),
        "an access token": jwt.encode({"sub": "x"}, settings().jwt_secret or "", algorithm="HS256"),
    }


@pytest.mark.parametrize("name", sorted(forgeries()))
def test_forged_or_malformed_codes_are_refused(name: str) -> None:
    with pytest.raises(InvalidTicketCode):
        ticket_codes.verify(forgeries()[name])


def test_after_a_rotation_new_codes_use_the_new_key_and_old_ones_still_verify(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    old_code = ticket_codes.sign(EVENT, NUMBER)
    rotated = ticket_codes.rotate(settings().ticket_keys or "", "test-2")
    use_ring(monkeypatch, rotated)
    new_code = ticket_codes.sign(EVENT, NUMBER)
    assert jwt.get_unverified_header(new_code)["kid"] == "test-2"
    assert ticket_codes.verify(old_code) == ticket_codes.verify(new_code)
    assert [k["kid"] for k in ticket_codes.public_keys()] == ["test-2", "test-1"]

    use_ring(monkeypatch, ticket_codes.retire(rotated, "test-1"))
    with pytest.raises(InvalidTicketCode):
        ticket_codes.verify(old_code)
    assert ticket_codes.verify(new_code).ticket_number == NUMBER


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"active": "k1"}',
        '{"active": "k2", "k1": "a-secret-long-enough-a-secret-long-enough"}',
        '{"active": "k1", "k1": "short"}',
        '{"active": "k1", "k1": "a-secret-long-enough-a-secret-long-enough", "k0": 5}',
    ],
)
def test_a_broken_key_ring_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"ring|key"):
        ticket_codes.parse_ring(text)


def test_the_active_key_cannot_be_retired_nor_a_kid_reused() -> None:
    text = settings().ticket_keys or ""
    with pytest.raises(ValueError, match="rotate first"):
        ticket_codes.retire(text, "test-1")
    with pytest.raises(ValueError, match="already"):
        ticket_codes.rotate(text, "test-1")
    with pytest.raises(ValueError, match="no key"):
        ticket_codes.retire(text, "test-9")


def test_the_key_ring_never_appears_in_the_settings_repr() -> None:
    assert "test-ticket-key" not in repr(settings())
