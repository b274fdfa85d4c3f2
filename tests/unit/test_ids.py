"""Ids without DynamoDB: what each maker draws, and the shape checks that keep malformed ids from being keys."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest

from boxoffice import ids
from tests.support.records import NOW

CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
UUID = "6f1c2f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f"


def test_ticket_numbers_are_readable_groups_of_crockford_base32() -> None:
    number = ids.new_ticket_number()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}", number)


def test_ticket_numbers_draw_at_least_128_bits_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[int] = []
    real = secrets.randbits

    def spy(bits: int) -> int:
        drawn.append(bits)
        return real(bits)

    monkeypatch.setattr(secrets, "randbits", spy)
    ids.new_ticket_number()
    assert drawn == [140]
    numbers = {ids.new_ticket_number() for _ in range(20_000)}
    assert len(numbers) == 20_000
    assert {c for n in numbers for c in n if c != "-"} == CROCKFORD  # every symbol in use: no wasted bits


def test_booking_ids_sort_by_time_and_carry_80_random_bits() -> None:
    earlier = ids.new_booking_id(NOW)
    later = ids.new_booking_id(NOW + timedelta(milliseconds=1))
    same_moment = ids.new_booking_id(NOW)
    assert len(earlier) == 26
    assert set(earlier) <= CROCKFORD
    assert earlier < later
    assert earlier[:10] == same_moment[:10]  # the time prefix
    assert earlier[10:] != same_moment[10:]  # the random tail
    assert ids.is_ulid(earlier)


def test_new_uuids_are_lowercase_and_distinct() -> None:
    made = {ids.new_uuid() for _ in range(100)}
    assert len(made) == 100
    assert all(ids.is_uuid(u) for u in made)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [(UUID, True), (UUID.upper(), False), (UUID[:-1], False), (f"{UUID}x", False), (f" {UUID}", False), ("", False)],
)
def test_only_a_lowercase_uuid_is_a_uuid(raw: str, ok: bool) -> None:
    assert ids.is_uuid(raw) is ok


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("01JDQ7Y3M4N5P6Q7R8S9T0V1W2", True),
        ("01jdq7y3m4n5p6q7r8s9t0v1w2", False),
        ("01JDQ7Y3M4N5P6Q7R8S9T0V1WU", False),
    ],
)
def test_only_26_upper_case_crockford_symbols_are_a_ulid(raw: str, ok: bool) -> None:
    assert ids.is_ulid(raw) is ok


def test_an_entry_id_is_its_event_id_then_a_ulid() -> None:
    entry_id = ids.new_entry_id(UUID, NOW)
    assert ids.entry_event(entry_id) == UUID
    assert ids.is_ulid(entry_id.split(".")[1])
    assert ids.new_entry_id(UUID, NOW) != entry_id  # a new join, a new id


@pytest.mark.parametrize(
    "raw", [UUID, f"{UUID}.", f"{UUID}.01jdq7y3m4n5p6q7r8s9t0v1w2", f"{UUID.upper()}.01JDQ7Y3M4N5P6Q7R8S9T0V1W2", ""]
)
def test_anything_not_shaped_as_an_entry_id_names_no_event(raw: str) -> None:
    assert ids.entry_event(raw) is None


def test_a_ticket_number_is_read_however_it_was_typed() -> None:
    number = ids.new_ticket_number()
    assert ids.ticket_number(number) == number
    assert ids.ticket_number(number.replace("-", " ").lower()) == number
    assert ids.ticket_number("0000-1111-0000-1111-0000-1111-0000") == "0000-1111-0000-1111-0000-1111-0000"
    assert ids.ticket_number("oooo-iiii-OOOO-LLLL-0000-1111-0000") == "0000-1111-0000-1111-0000-1111-0000"


@pytest.mark.parametrize(
    "raw", ["", "0000-1111", "0000-1111-0000-1111-0000-1111-0000-1", "UUUU-1111-0000-1111-0000-1111-0000"]
)
def test_what_cannot_be_a_ticket_number_is_none(raw: str) -> None:
    assert ids.ticket_number(raw) is None
