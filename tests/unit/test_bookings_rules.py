"""Booking rules without DynamoDB: ids, ticket numbers, what can be booked, Idempotency-Key fingerprints."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError

from boxoffice.errors import EventNotFound, EventStarted, InvalidInput, NotEnoughTickets, SoldOut
from boxoffice.logic import bookings
from boxoffice.models.bookings import IDEMPOTENCY_KEY_PATTERN, BookingRequest
from boxoffice.store.events import EventRecord
from tests.support.records import NOW, event_record

CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
EVENT = event_record(available_tickets=5, max_tickets_per_booking=4)


def test_ticket_numbers_are_readable_groups_of_crockford_base32() -> None:
    number = bookings.new_ticket_number()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}", number)


def test_ticket_numbers_draw_at_least_128_bits_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[int] = []
    real = secrets.randbits

    def spy(bits: int) -> int:
        drawn.append(bits)
        return real(bits)

    monkeypatch.setattr(secrets, "randbits", spy)
    bookings.new_ticket_number()
    assert drawn == [140]
    numbers = {bookings.new_ticket_number() for _ in range(20_000)}
    assert len(numbers) == 20_000
    assert {c for n in numbers for c in n if c != "-"} == CROCKFORD  # every symbol in use: no wasted bits


def test_booking_ids_sort_by_time_and_carry_80_random_bits() -> None:
    earlier = bookings.new_booking_id(NOW)
    later = bookings.new_booking_id(NOW + timedelta(milliseconds=1))
    same_moment = bookings.new_booking_id(NOW)
    assert len(earlier) == 26
    assert set(earlier) <= CROCKFORD
    assert earlier < later
    assert earlier[:10] == same_moment[:10]  # the time prefix
    assert earlier[10:] != same_moment[10:]  # the random tail


def test_an_event_with_enough_tickets_left_is_bookable() -> None:
    assert bookings.bookable(EVENT, 4, NOW) is EVENT


@pytest.mark.parametrize(
    ("event", "quantity", "error"),
    [
        (None, 1, EventNotFound),
        (replace(EVENT, status="DELETED"), 1, EventNotFound),
        (EVENT, 5, InvalidInput),
        (replace(EVENT, starts_at=NOW), 1, EventStarted),
        (replace(EVENT, starts_at=NOW - timedelta(seconds=1)), 1, EventStarted),
        (replace(EVENT, available_tickets=0), 1, SoldOut),
        (replace(EVENT, available_tickets=3), 4, NotEnoughTickets),
    ],
)
def test_what_cannot_be_booked_says_why(event: EventRecord | None, quantity: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        bookings.bookable(event, quantity, NOW)


def test_not_enough_tickets_says_how_many_are_left() -> None:
    with pytest.raises(NotEnoughTickets) as caught:
        bookings.bookable(replace(EVENT, available_tickets=3), 4, NOW)
    assert caught.value.extra == {"available_tickets": 3}


def test_a_fingerprint_is_the_event_and_the_parsed_body() -> None:
    two = BookingRequest(quantity=2)
    assert bookings.fingerprint("e1", two) == bookings.fingerprint("e1", BookingRequest.model_validate({"quantity": 2}))
    assert bookings.fingerprint("e1", two) != bookings.fingerprint("e1", BookingRequest(quantity=3))
    assert bookings.fingerprint("e1", two) != bookings.fingerprint("e2", two)


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
