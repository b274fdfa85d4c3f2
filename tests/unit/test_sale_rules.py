"""The sale rules (boxoffice.logic.sales) without DynamoDB: what a booking, a hold, a waiting-list join, an
offer and a hold's confirm may take, judged from counters, every branch and every exact instant."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from boxoffice.errors import (
    EventNotFound,
    EventStarted,
    HoldCooldown,
    HoldLimitReached,
    InvalidInput,
    NotEnoughTickets,
    SalesEnded,
    SalesNotStarted,
    SoldOut,
    TicketTypeNotFound,
    UserLimitReached,
)
from boxoffice.logic import sales
from boxoffice.records import DEFAULT_MAX_HOLDS_PER_USER, EventRecord, Holding, Stock, TicketType
from boxoffice.vocabulary import EventStatus
from tests.support.records import NOW, event_record, ticket_type

TYPE = ticket_type(max_tickets_per_booking=4)
EVENT = event_record(available_tickets=5, max_tickets_per_booking=10, ticket_types=(TYPE,))
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def judge(
    event: EventRecord | None = EVENT, quantity: int = 1, *, kind: TicketType | None = TYPE, held: int = 0
) -> Stock:
    return sales.bookable(event, kind, Holding(held), quantity, NOW)


def test_an_event_with_enough_tickets_left_is_bookable() -> None:
    stock = judge(EVENT, 4)
    assert (stock.event, stock.ticket_type, stock.available) == (EVENT, TYPE, 5)


@pytest.mark.parametrize(
    ("event", "kind", "held", "quantity", "error"),
    [
        (None, TYPE, 0, 1, EventNotFound),
        (replace(EVENT, status=EventStatus.DELETED), TYPE, 0, 1, EventNotFound),
        (EVENT, None, 0, 1, TicketTypeNotFound),
        (EVENT, TYPE, 0, 5, InvalidInput),
        (EVENT, replace(TYPE, max_tickets_per_booking=2), 0, 3, InvalidInput),
        (replace(EVENT, starts_at=NOW), TYPE, 0, 1, EventStarted),
        (replace(EVENT, starts_at=NOW - SECOND), TYPE, 0, 1, EventStarted),
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
    kind = replace(TYPE, sales_start=NOW, sales_end=NOW + SECOND)  # both instants exactly: open
    assert judge(replace(EVENT, max_tickets_per_user=4), 2, kind=kind, held=2).ticket_type is kind


def test_an_event_starting_a_moment_from_now_still_sells() -> None:
    assert judge(replace(EVENT, starts_at=NOW + SECOND)).event.starts_at == NOW + SECOND


@pytest.mark.parametrize(("event_limit", "type_limit", "whose"), [(3, 4, "event"), (10, 3, "ticket type")])
def test_the_per_booking_limit_names_whose_limit_binds(event_limit: int, type_limit: int, whose: str) -> None:
    event = replace(EVENT, max_tickets_per_booking=event_limit)
    with pytest.raises(InvalidInput) as caught:
        judge(event, 4, kind=replace(TYPE, max_tickets_per_booking=type_limit))
    assert caught.value.extra["errors"][0] == {
        "field": "quantity",
        "message": f"must be between 1 and 3 for this {whose}",
    }
    assert judge(event, 3, kind=replace(TYPE, max_tickets_per_booking=type_limit)).available == 5


@pytest.mark.parametrize(("event_left", "type_left", "binding"), [(3, 7, 3), (7, 2, 2), (2, None, 2)])
def test_not_enough_tickets_says_how_many_are_left_in_the_quota_that_binds(
    event_left: int, type_left: int | None, binding: int
) -> None:
    kind = replace(TYPE, total_tickets=None if type_left is None else 10, available_tickets=type_left)
    with pytest.raises(NotEnoughTickets) as caught:
        judge(replace(EVENT, available_tickets=event_left), 4, kind=kind)
    assert caught.value.extra == {"available": binding, "available_tickets": binding}


def test_exactly_the_tickets_left_can_be_booked() -> None:
    assert judge(replace(EVENT, available_tickets=3), 3).available == 3


def test_the_user_limit_says_how_many_more_the_user_may_book() -> None:
    with pytest.raises(UserLimitReached) as caught:
        judge(replace(EVENT, max_tickets_per_user=4), 2, held=3)
    assert caught.value.extra == {"remaining": 1, "limit": 4}


def test_a_user_past_a_lowered_cap_may_book_none_more() -> None:
    with pytest.raises(UserLimitReached) as caught:
        judge(replace(EVENT, max_tickets_per_user=2), 1, held=3)
    assert caught.value.extra == {"remaining": 0, "limit": 2}


def test_a_user_may_fill_their_cap_exactly() -> None:
    assert judge(replace(EVENT, max_tickets_per_user=4), 1, held=3).holding == Holding(3)


def test_a_booking_names_its_type_when_the_event_has_several() -> None:
    vip = replace(TYPE, id="7d3b1c2a-0000-4000-8000-000000000001", name="VIP")
    both = replace(EVENT, ticket_types=(TYPE, vip))
    assert sales.chosen_type(None, vip.id) is None
    assert sales.chosen_type(EVENT, None) is TYPE
    assert sales.chosen_type(both, vip.id) is vip
    assert sales.chosen_type(both, "no-such-type") is None
    with pytest.raises(InvalidInput) as caught:
        sales.chosen_type(both, None)
    assert caught.value.extra["errors"][0]["field"] == "ticket_type_id"


# A waiting-list join: every rule of a booking but the tickets left.


def test_a_join_is_judged_by_every_rule_but_the_tickets_left() -> None:
    stock = sales.sellable(replace(EVENT, available_tickets=0), TYPE, Holding(), 4, NOW)
    assert stock.available == 0
    with pytest.raises(SalesEnded):
        sales.sellable(EVENT, replace(TYPE, sales_end=NOW), Holding(), 1, NOW)
    with pytest.raises(UserLimitReached):
        sales.sellable(replace(EVENT, available_tickets=0, max_tickets_per_user=2), TYPE, Holding(2), 1, NOW)


# A hold: a booking's rules, then the hold ceilings and the cool-down.


def hold(event: EventRecord = EVENT, quantity: int = 1, holding: Holding | None = None) -> Stock:
    return sales.holdable(event, TYPE, holding or Holding(), quantity, NOW)


def test_a_hold_is_refused_whatever_would_refuse_a_booking() -> None:
    with pytest.raises(SoldOut):
        hold(replace(EVENT, available_tickets=0))
    with pytest.raises(UserLimitReached):
        hold(replace(EVENT, max_tickets_per_user=1), 1, Holding(tickets=1))


def test_by_default_an_account_may_hold_one_bookings_worth_in_two_holds() -> None:
    event = replace(EVENT, max_tickets_per_booking=4)
    assert hold(event, 4).holding == Holding()
    assert hold(event, 1, Holding(tickets=3, held_tickets=3, holds=1)).event is event
    with pytest.raises(HoldLimitReached) as caught:
        hold(event, 2, Holding(tickets=3, held_tickets=3, holds=1))
    assert caught.value.extra == {"remaining": 1, "limit": 4}
    assert f"in at most {DEFAULT_MAX_HOLDS_PER_USER} live holds" in str(caught.value.detail)


def test_an_account_at_its_holds_ceiling_may_hold_nothing_more() -> None:
    with pytest.raises(HoldLimitReached) as caught:
        hold(EVENT, 1, Holding(tickets=2, held_tickets=2, holds=2))
    assert caught.value.extra["remaining"] == 0


def test_an_account_past_a_lowered_held_ceiling_has_no_room_left() -> None:
    event = replace(EVENT, max_held_tickets_per_user=2, max_holds_per_user=5)
    with pytest.raises(HoldLimitReached) as caught:
        hold(event, 1, Holding(tickets=3, held_tickets=3, holds=1))
    assert caught.value.extra == {"remaining": 0, "limit": 2}
    assert "in at most 5 live holds" in str(caught.value.detail)


def test_the_events_own_ceilings_replace_the_defaults() -> None:
    event = replace(EVENT, max_held_tickets_per_user=6, max_holds_per_user=3)
    assert hold(event, 4, Holding(tickets=2, held_tickets=2, holds=2)).event is event


def test_a_cool_down_refuses_a_hold_until_its_last_instant_has_passed() -> None:
    with pytest.raises(HoldCooldown) as caught:
        hold(holding=Holding(cooldown_until=NOW + timedelta(seconds=90, milliseconds=1)))
    assert caught.value.extra == {"retry_after": 91}  # rounded up: never too early
    assert hold(holding=Holding(cooldown_until=NOW)).event is EVENT
    assert hold(holding=Holding(cooldown_until=NOW - SECOND)).event is EVENT


# A hold's confirm: its tickets are taken; the event must still sell.


def test_a_hold_is_confirmable_while_its_event_is_on_sale_and_not_started() -> None:
    assert sales.confirmable(EVENT, NOW) is EVENT
    with pytest.raises(EventNotFound):
        sales.confirmable(None, NOW)
    with pytest.raises(EventNotFound):
        sales.confirmable(replace(EVENT, status=EventStatus.DELETED), NOW)
    with pytest.raises(EventStarted):
        sales.confirmable(replace(EVENT, starts_at=NOW), NOW)
    assert sales.confirmable(replace(EVENT, available_tickets=0), NOW).available_tickets == 0  # already held


# An offer: the line is open while the event sells; an entry's type must still sell.


@pytest.mark.parametrize(
    ("status", "starts_at", "open_"),
    [
        (EventStatus.ON_SALE, NOW + SECOND, True),
        (EventStatus.ON_SALE, NOW, False),
        (EventStatus.DELETED, NOW + HOUR, False),
    ],
)
def test_an_event_sells_while_on_sale_and_not_started(status: EventStatus, starts_at: datetime, open_: bool) -> None:
    assert sales.on_sale(status, starts_at, NOW) is open_


@pytest.mark.parametrize(
    ("kind", "sells"),
    [
        (None, False),
        (TYPE, True),
        (replace(TYPE, sales_end=NOW + SECOND), True),
        (replace(TYPE, sales_end=NOW), False),
        (replace(TYPE, sales_start=NOW + HOUR), True),  # not yet selling, but it will: an entry may wait
    ],
)
def test_a_type_sells_until_its_sales_end(kind: TicketType | None, sells: bool) -> None:
    assert sales.selling(kind, NOW) is sells
