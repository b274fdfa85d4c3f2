"""Booking requests without DynamoDB: Idempotency-Key fingerprints and what a request body may say. The
rules of what can be booked are tests/unit/test_sale_rules.py's, the ids tests/unit/test_ids.py's."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from pydantic import ValidationError

from boxoffice.logic import bookings
from boxoffice.models.bookings import IDEMPOTENCY_KEY_PATTERN, BookingRequest


def test_a_fingerprint_is_the_event_and_the_parsed_body() -> None:
    two = BookingRequest(quantity=2)
    assert bookings.fingerprint("e1", two) == bookings.fingerprint("e1", BookingRequest.model_validate({"quantity": 2}))
    assert bookings.fingerprint("e1", two) != bookings.fingerprint("e1", BookingRequest(quantity=3))
    assert bookings.fingerprint("e1", two) != bookings.fingerprint("e2", two)
    typed = BookingRequest(quantity=2, ticket_type_id="t1")
    assert bookings.fingerprint("e1", typed) != bookings.fingerprint("e1", two)


def test_a_v1_request_keeps_the_fingerprint_it_had_before_ticket_types() -> None:
    before = hashlib.sha256(json.dumps({"event_id": "e1", "quantity": 2}, sort_keys=True).encode()).hexdigest()
    assert bookings.fingerprint("e1", BookingRequest(quantity=2)) == before


@pytest.mark.parametrize("quantity", [0, 51, "1", True, 1.0, None])
def test_a_quantity_is_a_whole_number_from_1_to_50(quantity: object) -> None:
    with pytest.raises(ValidationError):
        BookingRequest.model_validate({"quantity": quantity})


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("a", True),
        ("~" * 255, True),
        ("with space", True),
        ("", False),
        ("x" * 256, False),
        ("é", False),
        ("\t", False),
    ],
)
def test_idempotency_keys_are_1_to_255_printable_ascii_characters(key: str, ok: bool) -> None:
    assert bool(re.match(IDEMPOTENCY_KEY_PATTERN, key)) is ok
