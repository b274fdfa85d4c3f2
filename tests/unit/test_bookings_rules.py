"""Booking rules without DynamoDB: ids, ticket numbers, what can be booked, Idempotency-Key fingerprints."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError

from boxoffice.errors import (
    EventNotFound,
    EventStarted,
    InvalidInput,
    NotEnoughTickets,
    SalesEnded,
    SalesNotStarted,
    SoldOut,
    TicketTypeNotFound,
    UserLimitReached,
)
from boxoffice.logic import bookings
from boxoffice.models.bookings import IDEMPOTENCY_KEY_PATTERN, BookingRequest
from boxoffice.records import EventRecord, Holding, Stock, TicketType
from tests.support.records import NOW, event_record, ticket_type

CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
TYPE = ticket_type(max_tickets_per_booking=4)
EVENT = event_record(available_tickets=5, max_tickets_per_booking=10, ticket_types=(TYPE,))


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


def judge(
    event: EventRecord | None = EVENT, quantity: int = 1, *, kind: TicketType | None = TYPE, held: int = 0
) -> Stock:
    return bookings.bookable(event, kind, Holding(held), quantity, NOW)


def test_an_event_with_enough_tickets_left_is_bookable() -> None:
    stock = judge(EVENT, 4)
    assert (stock.event, stock.ticket_type, stock.available) == (EVENT, TYPE, 5)


HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("event", "kind", "held", "quantity", "error"),
    [
        (None, TYPE, 0, 1, EventNotFound),
        (replace(EVENT, status="DELETED"), TYPE, 0, 1, EventNotFound),
        (EVENT, None, 0, 1, TicketTypeNotFound),
        (EVENT, TYPE, 0, 5, InvalidInput),
        (EVENT, replace(TYPE, max_tickets_per_booking=2), 0, 3, InvalidInput),
        (replace(EVENT, starts_at=NOW), TYPE, 0, 1, EventStarted),
        (replace(EVENT, starts_at=NOW - timedelta(seconds=1)), TYPE, 0, 1, EventStarted),
        (EVENT, replace(TYPE, sales_start=NOW + HOUR), 0, 1, SalesNotStarted),
        (EVENT, replace(TYPE, sales_end=NOW), 0, 1, SalesEnded),
        (replace(EVENT, max_tickets_per_user=4), TYPE, 3, 2, UserLimitReached),
        (replace(EVENT, available_tickets=0), TYPE, 0, 1, SoldOut),
        (replace(EVENT, available_tickets=3), TYPE, 0, 4, NotEnoughTickets),
        (EVENT, replace(TYPE, total_tickets=10, available_tickets=0), 0, 1, SoldOut),
        (EVENT, replace(TYPE, total_tickets=10, available_tickets=2), 0, 3, NotEnoughTickets),
    ],
)
def test_what_cannot_be_booked_says_why(
    event: EventRecord | None, kind: TicketType | None, held: int, quantity: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        judge(event, quantity, kind=kind, held=held)


def test_a_type_inside_its_sales_window_and_under_the_cap_is_bookable() -> None:
    kind = replace(TYPE, sales_start=NOW, sales_end=NOW + HOUR)
    assert judge(replace(EVENT, max_tickets_per_user=4), 2, kind=kind, held=2).ticket_type is kind


@pytest.mark.parametrize(("event_left", "type_left", "binding"), [(3, 7, 3), (7, 2, 2), (2, None, 2)])
def test_not_enough_tickets_says_how_many_are_left_in_the_quota_that_binds(
    event_left: int, type_left: int | None, binding: int
) -> None:
    kind = replace(TYPE, total_tickets=None if type_left is None else 10, available_tickets=type_left)
    with pytest.raises(NotEnoughTickets) as caught:
        judge(replace(EVENT, available_tickets=event_left), 4, kind=kind)
    assert caught.value.extra == {"available": binding, "available_tickets": binding}


def test_the_user_limit_says_how_many_more_the_user_may_book() -> None:
    with pytest.raises(UserLimitReached) as caught:
        judge(replace(EVENT, max_tickets_per_user=4), 2, held=3)
    assert caught.value.extra == {"remaining": 1, "limit": 4}


def test_a_booking_names_its_type_when_the_event_has_several() -> None:
    vip = replace(TYPE, id="7d3b1c2a-0000-4000-8000-000000000001", name="VIP")
    both = replace(EVENT, ticket_types=(TYPE, vip))
    assert bookings.chosen_type(EVENT, None) is TYPE
    assert bookings.chosen_type(both, vip.id) is vip
    assert bookings.chosen_type(both, "no-such-type") is None
    with pytest.raises(InvalidInput) as caught:
        bookings.chosen_type(both, None)
    assert caught.value.extra["errors"][0]["field"] == "ticket_type_id"


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
