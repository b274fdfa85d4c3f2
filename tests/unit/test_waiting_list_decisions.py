"""The waiting list's decisions over its records alone (logic/waitlist.py, logic/offers.py): who may join, on
which quota's shortage, in what order, who is offered what, and what becomes of the pool. No DynamoDB: the
moto tests keep what only conditions and races show."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from boxoffice.errors import AlreadyWaiting, NotWaiting, TicketsAvailable
from boxoffice.logic import offers, waitlist
from boxoffice.logic.offers import Fit, Move, Pass
from boxoffice.records import EntryRecord, Holding, Stock
from boxoffice.store import waitlist as lines
from boxoffice.vocabulary import EntryStatus, EventStatus, HoldStatus
from tests.support.records import NOW, event_record, ticket_type

TYPE = ticket_type()
EVENT = event_record(ticket_types=(TYPE,))
ENTRY = EntryRecord(
    id=f"{EVENT.id}.01JDQ7Y3M4N5P6Q7R8S9T0V1W2",
    user_id="u1",
    event_id=EVENT.id,
    ticket_type_id=TYPE.id,
    ticket_type_name=TYPE.name,
    quantity=3,
    status=EntryStatus.WAITING,
    joined_at=NOW - timedelta(hours=1),
)
OFFER = replace(ENTRY, status=EntryStatus.OFFERED, hold_id="01JDQ7Y3M4N5P6Q7R8S9T0V1W3", expires_at=NOW)
BEFORE, AFTER = NOW - timedelta(milliseconds=1), NOW + timedelta(milliseconds=1)


# --- joining ---


def stock(event_left: int, type_total: int | None = None, type_left: int | None = None) -> Stock:
    kind = ticket_type(total_tickets=type_total, available_tickets=type_left)
    return Stock(event_record(available_tickets=event_left, ticket_types=(kind,)), kind, Holding())


@pytest.mark.parametrize(
    ("on_sale", "gate"),
    [
        (stock(event_left=2), "quota"),
        (stock(event_left=10, type_total=5, type_left=2), "type"),
        (stock(event_left=10, type_total=5, type_left=None), "type"),  # the join did not read the type's count
    ],
    ids=["event short", "type short", "type unread"],
)
def test_a_buyer_waits_on_the_quota_that_is_short(on_sale: Stock, gate: str) -> None:
    assert waitlist.join_gate(on_sale, 3) == gate


@pytest.mark.parametrize(
    "on_sale",
    [stock(event_left=3), stock(event_left=10, type_total=5, type_left=3)],
    ids=["exactly enough on the event", "exactly enough of the type"],
)
def test_nobody_waits_while_exactly_enough_are_on_sale(on_sale: Stock) -> None:
    with pytest.raises(TicketsAvailable) as refused:
        waitlist.join_gate(on_sale, 3)
    assert refused.value.extra["available"] == 3


@pytest.mark.parametrize("status", [EntryStatus.WAITING, EntryStatus.OFFERED])
def test_a_live_entry_in_an_open_line_keeps_its_user_from_joining_again(status: EntryStatus) -> None:
    with pytest.raises(AlreadyWaiting):
        waitlist.may_join(replace(ENTRY, status=status), line_open=True)


@pytest.mark.parametrize(
    ("entry", "line_open"),
    [
        (None, True),
        (replace(ENTRY, status=EntryStatus.LEFT), True),
        (replace(ENTRY, status=EntryStatus.BOOKED), True),
        (ENTRY, False),
    ],
    ids=["no entry", "left", "booked", "closed line"],
)
def test_a_user_without_a_live_entry_in_an_open_line_may_join(entry: EntryRecord | None, line_open: bool) -> None:
    waitlist.may_join(entry, line_open=line_open)


# --- an entry's standing ---


@pytest.mark.parametrize(("now", "lapsed"), [(BEFORE, False), (NOW, True)])
def test_an_offer_lapses_at_the_instant_of_its_expiry(now: datetime, lapsed: bool) -> None:
    assert waitlist.lapsed(OFFER, now) is lapsed
    assert not waitlist.lapsed(ENTRY, now)
    assert waitlist.lapsed(replace(OFFER, expires_at=None), now)  # an offer without an expiry holds nothing


@pytest.mark.parametrize(
    ("entry", "closed", "shown"),
    [
        (ENTRY, False, EntryStatus.WAITING),
        (OFFER, False, EntryStatus.EXPIRED),
        (replace(OFFER, expires_at=AFTER), False, EntryStatus.OFFERED),
        (replace(OFFER, expires_at=AFTER), True, EntryStatus.CLOSED),
        (ENTRY, True, EntryStatus.CLOSED),
        (OFFER, True, EntryStatus.CLOSED),
        (replace(ENTRY, status=EntryStatus.LEFT), True, EntryStatus.LEFT),
    ],
)
def test_an_entry_shows_expired_and_closed_before_the_sweeper_ends_it(
    entry: EntryRecord, closed: bool, shown: EntryStatus
) -> None:
    assert waitlist.shown_status(entry, NOW, closed=closed) == shown


def test_leaving_with_an_offer_in_hand_declines_it() -> None:
    assert waitlist.declines(OFFER)
    assert not waitlist.declines(ENTRY)


@pytest.mark.parametrize("status", [EntryStatus.LEFT, EntryStatus.BOOKED, EntryStatus.EXPIRED, EntryStatus.CLOSED])
def test_an_entry_that_has_ended_cannot_leave(status: EntryStatus) -> None:
    with pytest.raises(NotWaiting):
        waitlist.declines(replace(ENTRY, status=status))


@pytest.mark.parametrize("status", [EntryStatus.BOOKED, EntryStatus.EXPIRED, EntryStatus.LEFT])
def test_an_entry_that_ended_after_an_offer_keeps_its_hold_id_but_cannot_leave(status: EntryStatus) -> None:
    with pytest.raises(NotWaiting):
        waitlist.declines(replace(OFFER, status=status))


def test_the_line_keeps_join_order_to_the_microsecond_and_breaks_ties_by_id() -> None:
    first = replace(ENTRY, id=f"{EVENT.id}.B", joined_at=NOW)
    tied = replace(ENTRY, id=f"{EVENT.id}.C", joined_at=NOW)
    later = replace(ENTRY, id=f"{EVENT.id}.A", joined_at=NOW + timedelta(microseconds=1))
    next_day = replace(ENTRY, id=f"{EVENT.id}.0", joined_at=NOW + timedelta(days=1))
    assert sorted([next_day, later, tied, first], key=lines.line_sk) == [first, tied, later, next_day]


# --- the allocator: who is offered what ---


def test_an_entry_that_fits_what_is_left_is_offered() -> None:
    assert offers.fit(ENTRY, TYPE, left=3, now=NOW) is Fit.OFFERED


def test_an_entry_that_wants_more_than_is_left_waits_for_more() -> None:
    assert offers.fit(ENTRY, TYPE, left=2, now=NOW) is Fit.WAITS


def test_an_entry_whose_types_own_sub_quota_is_short_is_passed_over() -> None:
    short = ticket_type(total_tickets=10, available_tickets=2)
    assert offers.fit(ENTRY, short, left=5, now=NOW) is Fit.PASSED
    assert offers.fit(ENTRY, replace(short, available_tickets=3), left=5, now=NOW) is Fit.OFFERED


@pytest.mark.parametrize(
    ("kind", "fit"),
    [(None, Fit.ENDS), (ticket_type(sales_end=NOW), Fit.ENDS), (ticket_type(sales_end=AFTER), Fit.OFFERED)],
    ids=["type deleted", "sales end now", "sales end later"],
)
def test_an_entry_whose_type_no_longer_sells_ends(kind: object, fit: Fit) -> None:
    assert offers.fit(ENTRY, kind, left=3, now=NOW) is fit  # type: ignore[arg-type]


def test_an_offer_is_a_hold_of_the_entrys_quantity_of_its_type_at_the_types_price_for_its_user() -> None:
    kind = ticket_type(total_tickets=10, available_tickets=10)
    hold = offers.offered_hold(EVENT, ENTRY, kind, NOW)
    assert (hold.user_id, hold.event_id, hold.waiting_entry_id) == (ENTRY.user_id, EVENT.id, ENTRY.id)
    assert (hold.ticket_type_id, hold.ticket_type_name, hold.ticket_type_quota) == (kind.id, kind.name, True)
    assert (hold.quantity, hold.unit_price, hold.currency) == (3, kind.price, EVENT.currency)
    assert (hold.status, hold.created_at, hold.cooldown_until) == (HoldStatus.HELD, NOW, None)
    assert hold.expires_at == NOW + timedelta(seconds=600)


# --- the allocator: what becomes of the pool ---

WAITING = event_record(waiting=2, reserved=4)


@pytest.mark.parametrize(
    ("event", "listed", "sweeping", "move"),
    [
        (event_record(waiting=0, reserved=4), True, False, Move.REOPEN),
        (event_record(waiting=0, reserved=0), True, False, Move.UNLIST),
        (event_record(waiting=0, reserved=0), False, False, Move.NOTHING),
        (replace(WAITING, status=EventStatus.DELETED), False, False, Move.RELIST),
        (replace(WAITING, status=EventStatus.DELETED), True, False, Move.NOTHING),
        (replace(WAITING, starts_at=NOW), True, True, Move.CLOSE),
        (replace(WAITING, reserved=0), True, False, Move.UNLIST),
        (replace(WAITING, reserved=0), False, True, Move.NOTHING),
        (WAITING, False, False, Move.OFFER),
    ],
    ids=[
        "nobody waits: back on sale",
        "nobody waits, nothing kept: unlisted",
        "nobody waits, nothing kept, unlisted",
        "closed line, request: left to the sweeper",
        "closed line, request, already listed",
        "closed line, sweeper: closed",
        "nothing kept: unlisted",
        "nothing kept, unlisted",
        "people wait for a pool: offered",
    ],
)
def test_a_pool_is_offered_reopened_closed_or_left_as_it_stands(
    event: object, listed: bool, sweeping: bool, move: Move
) -> None:
    assert offers.pool_move(event, listed, NOW, sweeping=sweeping) is move  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("done", "listed", "move"),
    [
        (Pass(offered=1, ended=0, left=2, wanted=True, more=False, lost_pool=True), True, Move.AGAIN),
        (Pass(offered=1, ended=0, left=2, wanted=True, more=False), True, Move.AGAIN),
        (Pass(offered=0, ended=1, left=2, wanted=True, more=False), True, Move.AGAIN),
        (Pass(offered=2, ended=0, left=0, wanted=False, more=True), True, Move.UNLIST),
        (Pass(offered=2, ended=1, left=0, wanted=False, more=True), False, Move.NOTHING),
        (Pass(offered=0, ended=0, left=2, wanted=False, more=False), True, Move.RELEASE),
        (Pass(offered=0, ended=0, left=2, wanted=True, more=False), True, Move.NOTHING),
        (Pass(offered=0, ended=0, left=2, wanted=False, more=True), True, Move.NOTHING),
    ],
    ids=[
        "an offer found the pool changed",
        "tickets left after offers",
        "tickets left after ends",
        "all offered: unlisted",
        "all offered, unlisted",
        "nobody can take them: back on sale",
        "kept for an entry that wants more",
        "kept for the line past the window",
    ],
)
def test_after_a_pass_the_pool_is_judged_again_unlisted_released_or_kept(done: Pass, listed: bool, move: Move) -> None:
    assert offers.after_pass(done, listed) is move
