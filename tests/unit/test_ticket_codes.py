"""Ticket codes: Ed25519-signed, verified only with our keys and only as EdDSA, rotatable."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from boxoffice import clock, ticket_codes
from boxoffice.config import settings
from boxoffice.errors import InvalidTicketCode, ServiceUnavailable
from scripts import ticket_ring
from tests.support.codes import FORGERIES, forged_codes

EVENT = "6f1c2f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f"
NUMBER = "7KQ4-M2ZX-AB12-CD34-EF56-GH78-JK90"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Settings read again after a test that changed TICKET_KEYS (monkeypatch restores it)."""
    yield
    settings.cache_clear()
    ticket_codes.clear_cache()


def use_ring(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """The ring `text` and its public keys, as the rotation script writes them."""
    monkeypatch.setenv("TICKET_KEYS", text)
    monkeypatch.setenv("TICKET_PUBLIC_KEYS", ticket_ring.public_document(text))
    settings.cache_clear()
    ticket_codes.clear_cache()


def test_a_code_names_the_ticket_and_event_and_verifies() -> None:
    code = ticket_codes.sign(EVENT, NUMBER)
    (published,) = ticket_codes.public_keys()
    assert jwt.get_unverified_header(code) == {"alg": "EdDSA", "kid": published["kid"]}
    assert ticket_codes.verify(code) == ticket_codes.TicketClaim(NUMBER, EVENT)
    assert len(code) < 300  # small enough for a QR code a phone shows at arm's length


def test_each_key_has_a_kid_of_its_own_derived_from_its_public_key() -> None:
    kids = {json.loads(ticket_ring.new_ring())["active"] for _ in range(3)}
    assert len(kids) == 3
    (published,) = ticket_codes.public_keys()
    thumbprint = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": published["x"]}, separators=(",", ":"))
    digest = base64.urlsafe_b64encode(hashlib.sha256(thumbprint.encode()).digest()).decode()
    assert published["kid"] == digest[: ticket_ring.KID_CHARS]  # RFC 7638, cut short for the QR code


def test_a_secret_replaced_under_an_old_kid_is_never_published() -> None:
    ring = json.loads(settings().ticket_keys or "")
    ring["keys"][ring["active"]] = "another-secret-another-secret-another-secret"
    with pytest.raises(ValueError, match="not the kid of its secret"):
        ticket_ring.public_document(json.dumps(ring))


def test_verifying_needs_only_the_public_keys(monkeypatch: pytest.MonkeyPatch, fresh_settings: None) -> None:
    code = ticket_codes.sign(EVENT, NUMBER)
    monkeypatch.setenv("TICKET_KEYS", "")
    settings.cache_clear()
    ticket_codes.clear_cache()
    assert ticket_codes.verify(code).ticket_number == NUMBER
    with pytest.raises(RuntimeError):
        ticket_codes.sign(EVENT, NUMBER)


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


def _other_spellings(code: str) -> dict[str, str]:
    """The same signed bytes written otherwise: base64 padding, whitespace, stray bits in a last character."""
    header, payload, signature = code.split(".")
    # 64 signature bytes in 86 characters: the last carries 2 bits no byte uses; flip them.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    stray = alphabet[alphabet.index(signature[-1]) ^ 1]
    return {
        "padding": f"{code}==",
        "padded payload": f"{header}.{payload}=.{signature}",
        "leading space": f" {code}",
        "trailing newline": f"{code}\n",
        "stray bits": f"{header}.{payload}.{signature[:-1]}{stray}",
    }


@pytest.mark.parametrize("spelling", ["padding", "padded payload", "leading space", "trailing newline", "stray bits"])
def test_only_the_code_as_issued_verifies_not_another_spelling_of_it(spelling: str) -> None:
    """Offline scanners deduplicate by the string: another string for the same ticket would get in twice."""
    code = ticket_codes.sign(EVENT, NUMBER)
    with pytest.raises(InvalidTicketCode):
        ticket_codes.verify(_other_spellings(code)[spelling])


@pytest.mark.parametrize("name", FORGERIES)
def test_forged_or_malformed_codes_are_refused(name: str) -> None:
    with pytest.raises(InvalidTicketCode):
        ticket_codes.verify(forged_codes(EVENT, NUMBER)[name])


def test_a_rotation_publishes_the_new_key_at_once_and_signs_with_it_only_after_the_publish_lead(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    start = clock.now()
    old_code = ticket_codes.sign(EVENT, NUMBER)
    old_kid = jwt.get_unverified_header(old_code)["kid"]
    rotated = ticket_ring.rotate(settings().ticket_keys or "", start)
    new_kid = json.loads(rotated)["next"]
    use_ring(monkeypatch, rotated)
    assert [k["kid"] for k in ticket_codes.public_keys()] == [new_kid, old_kid]

    lead = timedelta(seconds=ticket_ring.PUBLISH_LEAD_SECONDS)
    monkeypatch.setattr(clock, "now", lambda: start + lead - timedelta(seconds=1))
    assert ticket_codes.sign(EVENT, NUMBER) == old_code  # scanners may not know the new key yet
    monkeypatch.setattr(clock, "now", lambda: start + lead)
    new_code = ticket_codes.sign(EVENT, NUMBER)
    assert jwt.get_unverified_header(new_code)["kid"] == new_kid
    assert ticket_codes.verify(old_code) == ticket_codes.verify(new_code)

    retired = ticket_ring.retire(ticket_ring.rotate(rotated, start + lead), old_kid, start + lead)
    use_ring(monkeypatch, retired)
    with pytest.raises(InvalidTicketCode):
        ticket_codes.verify(old_code)
    assert ticket_codes.verify(new_code).ticket_number == NUMBER


def test_a_second_rotation_waits_for_the_first_to_finish() -> None:
    start = clock.now()
    rotated = ticket_ring.rotate(settings().ticket_keys or "", start)
    with pytest.raises(ValueError, match="under way"):
        ticket_ring.rotate(rotated, start + timedelta(seconds=60))
    again = ticket_codes.parse_ring(
        ticket_ring.rotate(rotated, start + timedelta(seconds=ticket_ring.PUBLISH_LEAD_SECONDS))
    )
    assert again.active == json.loads(rotated)["next"]
    assert len(again.keys) == 3


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "{}",
        '{"active": "k1"}',
        '{"active": "k2", "keys": {"k1": "a-secret-long-enough-a-secret-long-enough"}}',
        '{"active": "k1", "keys": {"k1": "short"}}',
        '{"active": "k1", "keys": {"k1": "a-secret-long-enough-a-secret-long-enough", "k0": 5}}',
        '{"active": "k1", "keys": {"k1": "a-secret-long-enough-a-secret-long-enough"}, "next": "k1"}',
    ],
)
def test_a_broken_key_ring_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"ring|key"):
        ticket_codes.parse_ring(text)


def test_the_signing_keys_cannot_be_retired() -> None:
    start = clock.now()
    text = settings().ticket_keys or ""
    active = json.loads(text)["active"]
    with pytest.raises(ValueError, match="rotate first"):
        ticket_ring.retire(text, active, start)
    rotated = ticket_ring.rotate(text, start)
    with pytest.raises(ValueError, match="rotate first"):
        ticket_ring.retire(rotated, json.loads(rotated)["next"], start)
    with pytest.raises(ValueError, match="no key"):
        ticket_ring.retire(text, "test-9", start)


def test_the_key_ring_never_appears_in_the_settings_repr() -> None:
    assert "test-ticket-key" not in repr(settings())


def test_codes_of_an_adopted_old_form_ring_verify_under_their_old_kid_until_retired(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    old_secret = "an-old-stage-ring-secret-an-old-stage-ring-secret"
    old_ring = json.dumps({"active": "prod-1", "prod-1": old_secret})
    old_key = Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(b"boxoffice ticket code key v1\x00" + old_secret.encode()).digest()
    )
    old_code = jwt.encode(
        {"tn": NUMBER, "ev": EVENT}, old_key, algorithm="EdDSA", headers={"kid": "prod-1", "typ": None}
    )
    start = clock.now()

    adopted = ticket_ring.rotate(ticket_ring.adopt(settings().ticket_keys or "", old_ring), start)
    use_ring(monkeypatch, adopted)

    assert ticket_codes.verify(old_code) == ticket_codes.TicketClaim(NUMBER, EVENT)
    assert "prod-1" in [key["kid"] for key in ticket_codes.public_keys()]
    assert old_secret not in adopted  # only its public key is kept
    assert jwt.get_unverified_header(ticket_codes.sign(EVENT, NUMBER))["kid"] != "prod-1"  # it never signs
    with pytest.raises(ValueError, match="already"):
        ticket_ring.adopt(adopted, old_ring)

    use_ring(monkeypatch, ticket_ring.retire(adopted, "prod-1", start))
    with pytest.raises(InvalidTicketCode):
        ticket_codes.verify(old_code)


def test_a_ring_never_initialised_makes_signing_unavailable_not_an_error(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("TICKET_KEYS", "{}")  # as the stack creates it, before scripts.ticket_keys init
    settings.cache_clear()
    with pytest.raises(ServiceUnavailable):
        ticket_codes.sign(EVENT, NUMBER)
