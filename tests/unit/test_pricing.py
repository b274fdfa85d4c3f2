"""Promo code money rules (boxoffice.logic.pricing): pure, exact in each currency's minor unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from boxoffice.errors import InvalidPromoCode, PromoCodeUsedUp, TicketTypeNotFound
from boxoffice.logic import pricing
from boxoffice.records import Discount, PromoCode, Redemption
from boxoffice.vocabulary import DiscountKind
from tests.support.records import promo_code as code
from tests.support.records import ticket_type

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ADULT, CHILD = "adult", "child"


@pytest.mark.parametrize(
    ("price", "percent", "currency", "off"),
    [
        ("25.00", "10", "EUR", "2.50"),
        ("0.25", "10", "EUR", "0.02"),  # 0.025: half to even, down
        ("0.35", "10", "EUR", "0.04"),  # 0.035: half to even, up
        ("1250", "10", "JPY", "125"),
        ("125", "10", "JPY", "12"),  # 12.5 yen: half to even, down (no sen)
        ("135", "10", "JPY", "14"),  # 13.5: up
        ("1.250", "10", "KWD", "0.125"),
        ("0.125", "10", "KWD", "0.012"),  # 0.0125 dinar: three places, half to even
        ("0.135", "10", "KWD", "0.014"),
        ("19.99", "100", "EUR", "19.99"),
        ("19.99", "0", "EUR", "0.00"),  # an access code: no discount
        ("10.00", "33.33", "EUR", "3.33"),
    ],
)
def test_a_percentage_off_one_ticket_rounds_half_even_in_the_currencys_minor_unit(
    price: str, percent: str, currency: str, off: str
) -> None:
    found = pricing.ticket_discount(Decimal(price), Discount(DiscountKind.PERCENT, Decimal(percent)), currency)
    assert str(found) == off


def test_a_percentage_is_rounded_per_ticket_not_per_line() -> None:
    # 3 x 0.25 EUR at 10%: 0.02 a ticket (0.025 to even), 0.06 the line; rounding the line's 0.075 would give 0.08.
    found = pricing.line(ADULT, 3, Decimal("0.25"), "EUR", code())
    assert (found.discount, found.total) == (Decimal("0.06"), Decimal("0.69"))


@pytest.mark.parametrize(
    ("kind", "value", "price", "currency", "off"),
    [
        (DiscountKind.AMOUNT_OFF, "5.00", "25.00", "EUR", "5.00"),
        (DiscountKind.AMOUNT_OFF, "30.00", "25.00", "EUR", "25.00"),  # never below zero
        (DiscountKind.AMOUNT_OFF, "500", "1200", "JPY", "500"),
        (DiscountKind.AMOUNT_OFF, "0.500", "1.250", "KWD", "0.500"),
        (DiscountKind.FIXED_PRICE, "15.00", "25.00", "EUR", "10.00"),
        (DiscountKind.FIXED_PRICE, "0", "25.00", "EUR", "25.00"),  # free tickets
        (DiscountKind.FIXED_PRICE, "30.00", "25.00", "EUR", "0.00"),  # never dearer than its own price
        (DiscountKind.FIXED_PRICE, "1.000", "1.250", "KWD", "0.250"),
    ],
)
def test_amounts_off_and_fixed_prices_keep_each_ticket_between_zero_and_its_price(
    kind: DiscountKind, value: str, price: str, currency: str, off: str
) -> None:
    assert str(pricing.ticket_discount(Decimal(price), Discount(kind, Decimal(value)), currency)) == off


def test_a_line_of_a_type_the_code_does_not_name_is_not_discounted() -> None:
    only_adults = code(ticket_type_ids=frozenset({ADULT}))
    assert pricing.line(CHILD, 2, Decimal("10.00"), "EUR", only_adults).discount == Decimal("0.00")
    assert pricing.line(ADULT, 2, Decimal("10.00"), "EUR", only_adults).discount == Decimal("2.00")
    assert pricing.line(ADULT, 2, Decimal("10.00"), "EUR", None).discount == Decimal("0.00")


def test_a_bookings_totals_are_the_sums_of_its_lines_written_in_the_minor_unit() -> None:
    five_off = code(DiscountKind.AMOUNT_OFF, "500", ticket_type_ids=frozenset({ADULT}))
    lines = [
        pricing.line(ADULT, 2, Decimal("3000"), "JPY", five_off),
        pricing.line(CHILD, 2, Decimal("1500"), "JPY", five_off),
    ]
    assert [(x.subtotal, x.discount, x.total) for x in lines] == [
        (Decimal(6000), Decimal(1000), Decimal(5000)),
        (Decimal(3000), Decimal(0), Decimal(3000)),
    ]
    assert pricing.totals(lines, "JPY") == pricing.Totals(Decimal(9000), Decimal(1000), Decimal(8000))
    kwd = pricing.totals([pricing.line(ADULT, 1, Decimal("1.25"), "KWD", None)], "KWD")
    assert [str(x) for x in (kwd.subtotal, kwd.discount, kwd.total)] == ["1.250", "0.000", "1.250"]


def test_a_code_is_valid_from_its_start_until_but_not_at_its_end() -> None:
    window = code(valid_from=NOW, valid_until=NOW + timedelta(days=1))
    assert not pricing.valid_at(window, NOW - timedelta(microseconds=1))
    assert pricing.valid_at(window, NOW)
    assert pricing.valid_at(window, NOW + timedelta(days=1, microseconds=-1))
    assert not pricing.valid_at(window, NOW + timedelta(days=1))
    assert pricing.valid_at(code(), NOW)  # no window: always


def test_max_uses_counts_tickets_and_a_lowered_limit_leaves_no_room() -> None:
    ten = code(max_uses=10, uses=7)
    assert pricing.uses_left(ten) == 3
    assert pricing.has_room(ten, 3)
    assert not pricing.has_room(ten, 4)
    assert pricing.uses_left(code(max_uses=5, uses=7)) == 0
    assert not pricing.has_room(code(max_uses=5, uses=7), 1)
    assert pricing.uses_left(code()) is None
    assert pricing.has_room(code(uses=10**6), 50)


def test_only_the_types_a_code_names_are_unlocked() -> None:
    press = code(DiscountKind.PERCENT, "0", unlocks=frozenset({"press"}))
    assert pricing.unlocks(press, "press")
    assert not pricing.unlocks(press, ADULT)
    assert not pricing.unlocks(None, "press")


# --- a sale under a code (pricing.redemption) ---


def sold(asked: str | None, found: PromoCode | None, quantity: int = 2, **type_changes: object) -> object:
    kind = ticket_type(id=ADULT, price=Decimal("30.00"), **type_changes)
    return pricing.redemption(asked, found, kind, quantity, "EUR", NOW)


def test_a_sale_without_a_code_is_undiscounted_and_a_hidden_type_is_not_found() -> None:
    assert sold(None, None) is None
    with pytest.raises(TicketTypeNotFound):
        sold(None, None, hidden=True)


def test_a_sale_under_a_code_counts_every_ticket_and_discounts_each() -> None:
    assert sold("EARLY10", code()) == Redemption(code(), 2, Decimal("3.00"))
    access = code(value="0", ticket_type_ids=frozenset({CHILD}), unlocks=frozenset({ADULT}))
    assert sold("PRESS", access, hidden=True) == Redemption(access, 2, Decimal(0))  # unlocked, not discounted


@pytest.mark.parametrize(
    "found",
    [
        None,  # unknown
        code(valid_until=NOW),  # over: valid_until is the first instant it no longer applies
        code(valid_from=NOW + timedelta(seconds=1)),  # not yet
        code(ticket_type_ids=frozenset({CHILD})),  # another type's
    ],
)
def test_unknown_out_of_window_and_other_type_codes_are_all_invalid(found: PromoCode | None) -> None:
    with pytest.raises(InvalidPromoCode):
        sold("EARLY10", found)


def test_a_hidden_type_needs_a_code_that_unlocks_it_not_one_that_discounts_it() -> None:
    with pytest.raises(InvalidPromoCode):
        sold("EARLY10", code(), hidden=True)


@pytest.mark.parametrize(("uses", "max_uses", "room"), [(8, 10, True), (9, 10, False), (12, 10, False)])
def test_a_code_without_room_for_every_ticket_is_used_up(uses: int, max_uses: int, room: bool) -> None:
    found = code(uses=uses, max_uses=max_uses)
    if room:
        assert sold("EARLY10", found) is not None
    else:
        with pytest.raises(PromoCodeUsedUp):
            sold("EARLY10", found)
