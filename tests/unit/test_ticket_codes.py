"""Ticket codes: Ed25519-signed, verified only with our keys and only as EdDSA, rotatable."""

from __future__ import annotations

import json
from collections.abc import Iterator

import jwt
import pytest

from boxoffice import ticket_codes
from boxoffice.config import settings
from boxoffice.errors import InvalidTicketCode
from tests.support.codes import FORGERIES, forged_codes

EVENT = "6f1c2f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f"
NUMBER = "7KQ4-M2ZX-AB12-CD34-EF56-GH78-JK90"


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
