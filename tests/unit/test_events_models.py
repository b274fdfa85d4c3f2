"""Event request models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from boxoffice.models.events import (
    CreateEvent,
    CreateTicketType,
    Event,
    UpdateEvent,
    UpdateTicketType,
)

BASE: dict[str, Any] = {
    "name": "Beethoven Night",
    "venue": "Royal Albert Hall",
    "starts_at": "2031-03-05T19:30:00+01:00",
    "total_tickets": 100,
    "ticket_price": "25.5",
}


def test_start_is_stored_in_utc_whole_seconds() -> None:
    event = CreateEvent.model_validate({**BASE, "starts_at": "2031-03-05T19:30:15.987+01:00"})
    assert event.starts_at == datetime(2031, 3, 5, 18, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "stored"),
    # The edge parses JSON fractions and exponents as Decimal: `1e2` arrives as Decimal("1E+2").
    [
        ("25.5", "25.5"),
        (25.5, "25.5"),
        (19.99, "19.99"),
        ("0", "0"),
        (7, "7"),
        (Decimal("1E+2"), "100"),
        ("1.250", "1.25"),
    ],
)
def test_price_is_an_exact_decimal(given: Any, stored: str) -> None:
    price = CreateEvent.model_validate({**BASE, "ticket_price": given}).ticket_price
    assert isinstance(price, Decimal)
    assert price == Decimal(stored)


BAD_PRICES = ["0.0001", 0.0001, "-0.01", "1e7", "Infinity", "NaN", "", "1,5", False, [1]]
# Decimal() reads more than a price: digit separators, exponents, signs, any script's digits.
LOOSE_PRICES = ["1_000", "1_0.00", "1E+2", "+5", ".5", "5.", "\u0661\u0660\u0660", "\uff15"]


@pytest.mark.parametrize("price", BAD_PRICES + LOOSE_PRICES)
def test_bad_prices_are_refused(price: Any) -> None:
    with pytest.raises(ValidationError):
        CreateEvent.model_validate({**BASE, "ticket_price": price})


@pytest.mark.parametrize("start", ["1893456000", "1893456000.5", " 1893456000", "2031", "20310305T193000Z"])
def test_a_start_is_an_iso_date_time_never_epoch_seconds_in_a_string(start: str) -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        CreateEvent.model_validate({**BASE, "starts_at": start})
    with pytest.raises(ValidationError, match="ISO 8601"):
        UpdateEvent.model_validate({"starts_at": start})


def test_currency_is_upper_cased_and_must_be_iso_4217() -> None:
    assert CreateEvent.model_validate({**BASE, "currency": "usd"}).currency == "USD"
    for bad in ["XXX", "XAU", "US", "DOLLAR", 978]:
        with pytest.raises(ValidationError):
            CreateEvent.model_validate({**BASE, "currency": bad})


def test_defaults() -> None:
    event = CreateEvent.model_validate(BASE)
    assert (event.description, event.currency, event.max_tickets_per_booking) == ("", None, 10)


def test_year_9999_with_a_negative_offset_is_refused_not_overflowed() -> None:
    with pytest.raises(ValidationError):
        CreateEvent.model_validate({**BASE, "starts_at": "9999-12-31T23:00:00-05:00"})


def test_update_needs_a_field_and_refuses_nulls() -> None:
    assert UpdateEvent.model_validate({"total_tickets": 5}).changes() == {"total_tickets": 5}
    assert UpdateEvent.model_validate({"description": ""}).changes() == {"description": ""}
    for bad in [{}, {"name": None}, {"ticket_price": None, "name": "x"}]:
        with pytest.raises(ValidationError):
            UpdateEvent.model_validate(bad)


@pytest.mark.parametrize(("price", "currency", "shown"), [("5.00", "EUR", "5.00"), ("8500", "JPY", "8500")])
def test_response_serialises_the_price_as_a_string_in_its_minor_unit(price: str, currency: str, shown: str) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    event = Event(
        id="e", name="n", description="", venue="v", starts_at=now, timezone="UTC", date=now.date(),
        time=now.time(), total_tickets=1, available_tickets=1, ticket_price=Decimal(price), currency=currency,
        max_tickets_per_booking=1, max_tickets_per_user=None, max_held_tickets_per_user=1, max_holds_per_user=2,
        hold_cooldown_seconds=600, ticket_types=[], status="ON_SALE",
        created_at=now, updated_at=now, doors_open_minutes_before=0, doors_close_minutes_after=0,
        doors_open_at=now, doors_close_at=now, inventory_shards=1,
    )  # fmt: skip
    assert event.model_dump(mode="json")["ticket_price"] == shown


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Etc/GMT+5", "America/Argentina/Buenos_Aires"]
)
def test_a_timezone_is_an_iana_name(zone: str) -> None:
    assert CreateEvent.model_validate({**BASE, "timezone": zone}).timezone == zone


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "../../etc", "../../etc/passwd", "/etc/localtime", "Europe/../UTC", "", "x" * 70, 5]
)
def test_a_timezone_that_is_not_an_iana_name_is_refused(zone: Any) -> None:
    with pytest.raises(ValidationError):
        CreateEvent.model_validate({**BASE, "timezone": zone})


@pytest.mark.parametrize(
    "zone", ["localtime", "posixrules", "posix/Europe/Paris", "right/UTC", "right/Europe/London", "Factory"]
)
def test_files_of_the_zoneinfo_directory_that_are_not_zones_are_refused(zone: str) -> None:
    """Only the IANA database's zone list (tzdata's): not the host's links, nor the leap-second trees."""
    with pytest.raises(ValidationError):
        CreateEvent.model_validate({**BASE, "timezone": zone})
    with pytest.raises(ValidationError):
        UpdateEvent.model_validate({"timezone": zone})


def test_at_most_twenty_ticket_types() -> None:
    types = [{"name": f"Type {n}", "price": "10"} for n in range(21)]
    with pytest.raises(ValidationError):
        CreateEvent.model_validate({**BASE, "ticket_price": None, "ticket_types": types})
    assert len(CreateEvent.model_validate({**BASE, "ticket_types": types[:20]}).ticket_types or []) == 20


INVISIBLE = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2066"]


@pytest.mark.parametrize("invisible", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["name", "venue"])
def test_event_names_and_venues_with_format_characters_are_refused(field: str, invisible: str) -> None:
    """A zero-width or bidi character makes a look-alike ("Café" and "Café\u200b") or reorders text at the door."""
    for text in (f"Café{invisible}", f"x{invisible}evil"):
        with pytest.raises(ValidationError):
            CreateEvent.model_validate({**BASE, field: text})
        with pytest.raises(ValidationError):
            UpdateEvent.model_validate({field: text})


@pytest.mark.parametrize("invisible", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_ticket_type_names_with_format_characters_are_refused(invisible: str) -> None:
    for text in (f"VIP{invisible}", f"x{invisible}evil"):
        with pytest.raises(ValidationError):
            CreateTicketType.model_validate({"name": text, "price": "10.00"})
        with pytest.raises(ValidationError):
            UpdateTicketType.model_validate({"name": text})
