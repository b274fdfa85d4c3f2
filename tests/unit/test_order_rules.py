"""The rules of an order of several lines (logic/orders.py judge): pure, no DynamoDB. Each line is judged on
what the lines before it left, a refusal names its line, and a code counts the tickets it discounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.errors import DomainError, InvalidInput, NotEnoughTickets, PromoCodeUsedUp, UserLimitReached
from boxoffice.logic.orders import judge
from boxoffice.records import Discount, Holding, PromoCode
from boxoffice.vocabulary import DiscountKind
from tests.support.records import NOW, event_record, ticket_type

ADULT = ticket_type(id="adult", name="Adult", price=Decimal("30.00"))
CHILD = ticket_type(id="child", name="Child", price=Decimal("15.00"), total_tickets=4, available_tickets=4)
EVENT = event_record(ticket_types=(ADULT, CHILD), available_tickets=6, max_tickets_per_booking=10)


def code(**changes: object) -> PromoCode:
    fields: dict[str, object] = {
        "id": "code-id",
        "event_id": EVENT.id,
        "code": "KIDS10",
        "discount": Discount(DiscountKind.PERCENT, Decimal(10)),
        "ticket_type_ids": frozenset({"child"}),
        "max_uses": None,
        "valid_from": None,
        "valid_until": None,
        "unlocks": frozenset(),
        "created_at": NOW,
        "updated_at": NOW,
        "uses": 0,
        "discount_given": Decimal(0),
        **changes,
    }
    return PromoCode(**fields)  # type: ignore[arg-type]


def refusal(wanted: list[tuple[str | None, int]]) -> DomainError:
    with pytest.raises(DomainError) as refused:
        judge(EVENT, Holding(), wanted, None, None, NOW)
    return refused.value


def test_a_line_is_judged_on_what_the_lines_before_it_left_and_named() -> None:
    short = refusal([("adult", 3), ("child", 4)])  # 6 left in all: the child line finds 3
    assert isinstance(short, NotEnoughTickets)
    assert (short.extra["line"], short.extra["pointer"], short.extra["available"]) == (1, "/items/1", 3)


def test_the_per_booking_limit_counts_the_sum_of_the_lines() -> None:
    event = event_record(ticket_types=(ADULT, CHILD), max_tickets_per_booking=4)
    with pytest.raises(InvalidInput) as refused:
        judge(event, Holding(), [("adult", 3), ("child", 2)], None, None, NOW)
    assert refused.value.extra["errors"] == [{"field": "items", "message": "must hold at most 4 tickets in all"}]


def test_the_per_user_cap_names_the_line_that_crosses_it_and_what_is_left_in_all() -> None:
    event = event_record(ticket_types=(ADULT, CHILD), max_tickets_per_user=5)
    with pytest.raises(UserLimitReached) as refused:
        judge(event, Holding(tickets=2), [("adult", 2), ("child", 2)], None, None, NOW)
    assert (refused.value.extra["line"], refused.value.extra["remaining"]) == (1, 3)


def test_a_code_prices_and_counts_only_the_lines_it_discounts() -> None:
    sales, redemption = judge(EVENT, Holding(), [("adult", 2), ("child", 2)], "kids10", code(), NOW)
    assert [(x.unit_discount, x.counted) for x in sales] == [(Decimal(0), False), (Decimal("1.50"), True)]
    assert redemption is not None
    assert (redemption.quantity, redemption.discount) == (2, Decimal("3.00"))


def test_a_code_without_room_for_its_lines_tickets_is_used_up() -> None:
    with pytest.raises(PromoCodeUsedUp):
        judge(EVENT, Holding(), [("adult", 2), ("child", 2)], "kids10", code(max_uses=3, uses=2), NOW)
