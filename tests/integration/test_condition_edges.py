"""The edges of the waiting list's, the allocator's, a ticket type's and a confirm's conditions, each met
exactly: a count equal to what is asked, and a change landing between a request's read and its write, so
that the transaction's own condition (not only the logic before it) decides."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from boxoffice.logic import offers
from boxoffice.store import waitlist as waitlist_store
from scripts.bench.common import count_calls
from tests.support.bookings import Account, new_account, new_event, type_ids
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, confirm, place, stock
from tests.support.races import between_read_and_write
from tests.support.waitlist import entries, join, tickets


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(monkeypatch)
    frozen.now = frozen.now.replace(microsecond=0)  # an instant an event's start can be set to exactly
    return frozen


def problem(result: Result, status: int, code: str) -> dict[str, Any]:
    assert (result.status, result.body.get("code")) == (status, code), result.body
    body: dict[str, Any] = result.body
    return body


def book(api: Api, who: Account, event_id: str, quantity: int = 1, **body: Any) -> str:
    result = api.call(
        "create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity, **body}
    )
    assert result.status == 201, result.body
    return str(result.body["id"])


def cancel(api: Api, who: Account, booking_id: str) -> None:
    assert api.call("cancel_booking", token=who.token, path={"booking_id": booking_id}).status == 200


def status_of(api: Api, who: Account) -> str:
    [entry] = entries(api, who).body["items"]
    return str(entry["status"])


# --- the allocator's pool ---


def test_two_allocators_over_one_returned_ticket_offer_it_once(
    api: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel's allocator reads the pool (one ticket), then another allocator offers it to the head of
    the line; the first then finds only the second in line, and the pool's `reserved >= q` must stop it."""
    event_id, buyer, first, second = new_event(total=1), new_account(), new_account(), new_account()
    booking = book(api, buyer, event_id)
    assert join(api, first, event_id).status == 201
    clock.advance(0.001)
    assert join(api, second, event_id).status == 201

    between_read_and_write(monkeypatch, waitlist_store, "read_pool", lambda: offers.allocate(event_id))
    cancel(api, buyer, booking)

    assert [status_of(api, first), status_of(api, second)] == ["OFFERED", "WAITING"]
    counts = tickets(event_id)
    assert (counts.held, counts.reserved, counts.available, counts.waiting) == (1, 0, 0, 1)
    assert stock(event_id).balanced


# --- the join gate: people wait only while fewer than they ask for are on sale ---


def test_a_join_for_exactly_what_is_left_is_refused_and_one_more_waits(api: Api) -> None:
    event_id = new_event(total=3)
    book(api, new_account(), event_id)
    waiter = new_account()
    with count_calls() as calls:
        assert problem(join(api, waiter, event_id, 2), 409, "TICKETS_AVAILABLE")["available"] == 2
    assert "TransactWriteItems" not in calls.operations  # judged from the read alone
    assert join(api, new_account(), event_id, 3).status == 201


def test_a_join_for_exactly_what_is_left_of_a_types_sub_quota_is_refused_and_one_more_waits(api: Api) -> None:
    event_id = new_event(total=50, types=[{"name": "Box", "price": "80.00", "total_tickets": 3}])
    box = type_ids(event_id)["Box"]
    book(api, new_account(), event_id, ticket_type_id=box)
    # A join does not read the type's count: the transaction's condition finds it is not short.
    problem(join(api, new_account(), event_id, 2, ticket_type_id=box), 409, "TICKETS_AVAILABLE")
    assert join(api, new_account(), event_id, 3, ticket_type_id=box).status == 201


@pytest.mark.parametrize("quota", ["event", "type"])
def test_a_join_whose_shortage_ends_exactly_between_the_read_and_the_write_is_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch, quota: str
) -> None:
    """The join reads one ticket left and means to wait for two; a cancel then leaves exactly two on sale
    (nobody waits yet, so they go back on open sale): the join's `available < q` must refuse it."""
    types = [{"name": "Box", "price": "80.00", "total_tickets": 3}] if quota == "type" else None
    event_id = new_event(total=3 if quota == "event" else 50, types=types)
    box = {"ticket_type_id": type_ids(event_id)["Box"]} if quota == "type" else {}
    buyer = new_account()
    bookings = [book(api, buyer, event_id, 1, **box) for _ in range(2)]

    between_read_and_write(monkeypatch, waitlist_store, "read_for_join", lambda: cancel(api, buyer, bookings[0]))
    waiter = new_account()
    problem(join(api, waiter, event_id, 2, **box), 409, "TICKETS_AVAILABLE")
    assert entries(api, waiter).body["items"] == []
    assert tickets(event_id).waiting == 0


# --- one live entry per user: an offer in hand counts ---


def _offered(api: Api, clock: Clock) -> tuple[str, Account]:
    """An event whose one kept ticket is offered to a waiter, and that waiter."""
    event_id, buyer, waiter = new_event(total=1), new_account(), new_account()
    booking = book(api, buyer, event_id)
    assert join(api, waiter, event_id).status == 201
    cancel(api, buyer, booking)
    assert status_of(api, waiter) == "OFFERED"
    return event_id, waiter


def test_a_join_with_an_offer_in_hand_is_already_waiting_and_writes_nothing(api: Api, clock: Clock) -> None:
    event_id, waiter = _offered(api, clock)
    with count_calls() as calls:
        problem(join(api, waiter, event_id), 409, "ALREADY_WAITING")
    assert "TransactWriteItems" not in calls.operations
    assert status_of(api, waiter) == "OFFERED"
    assert tickets(event_id).held == 1


def test_a_join_racing_the_same_users_join_that_was_offered_at_once_is_already_waiting(
    api: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The join reads no entry; the user's other join then commits and is offered the kept ticket at once:
    the entry's `NOT status IN (WAITING, OFFERED)` must keep the offer from being overwritten."""
    event_id, buyer = new_event(total=3), new_account()
    bookings = [book(api, buyer, event_id) for _ in range(3)]
    assert join(api, new_account(), event_id, 3).status == 201
    cancel(api, buyer, bookings[0])  # kept for the line, which wants three: a join for one is offered it
    waiter = new_account()

    def offered_join() -> None:
        result = join(api, waiter, event_id)
        assert (result.status, result.body["status"]) == (201, "OFFERED"), result.body

    between_read_and_write(monkeypatch, waitlist_store, "read_for_join", offered_join)
    problem(join(api, waiter, event_id), 409, "ALREADY_WAITING")
    assert status_of(api, waiter) == "OFFERED"
    counts = tickets(event_id)
    assert (counts.held, counts.reserved, counts.waiting) == (1, 0, 1)


# --- a ticket type's capacity cut to exactly what it has sold ---


def _patch_type(api: Api, admin: Account, event_id: str, type_id: str, **body: Any) -> Result:
    path = {"event_id": event_id, "ticket_type_id": type_id}
    return api.call("update_ticket_type", token=admin.token, path=path, body=body)


def test_a_first_sub_quota_of_exactly_what_a_type_sold_and_holds_closes_it(api: Api) -> None:
    event_id, admin, buyer = new_event(total=20), new_account("admin"), new_account()
    [kind] = type_ids(event_id).values()
    book(api, buyer, event_id, 3)
    assert place(api, buyer, event_id, 2).status == 201
    problem(_patch_type(api, admin, event_id, kind, total_tickets=4), 409, "CAPACITY_BELOW_SOLD")
    cut = _patch_type(api, admin, event_id, kind, total_tickets=5)
    assert (cut.status, cut.body["total_tickets"], cut.body["available_tickets"]) == (200, 5, 0), cut.body
    assert stock(event_id).balanced


def test_a_cut_to_exactly_sold_racing_another_capacity_change_still_lands(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cut reads a sub-quota of 10; another admin makes it 12 before the write: the cut's condition
    fails on the total it read, and goes round again rather than calling exactly-sold below sold."""
    from boxoffice.logic import tickettypes

    event_id = new_event(total=50, types=[{"name": "Box", "price": "80.00", "total_tickets": 10}])
    box, admin = type_ids(event_id)["Box"], new_account("admin")
    book(api, new_account(), event_id, 4, ticket_type_id=box)

    def grow() -> None:
        assert _patch_type(api, admin, event_id, box, total_tickets=12).status == 200

    between_read_and_write(monkeypatch, tickettypes, "editable", grow)
    cut = _patch_type(api, admin, event_id, box, total_tickets=4)
    assert (cut.status, cut.body["total_tickets"], cut.body["available_tickets"]) == (200, 4, 0), cut.body
    assert stock(event_id).types[box] == (4, 0, 0, 4)


# --- a confirm whose event was moved to start earlier ---


def test_a_confirm_whose_event_was_moved_to_start_now_after_the_read_is_refused(
    api: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The confirm read the event starting in a month; an admin (a second earlier, by their clock) moves the
    start to the confirm's own instant: the transaction's `starts_at > now` must refuse the sale."""
    from boxoffice.store import holds as hold_store

    event_id, admin, buyer = new_event(total=5), new_account("admin"), new_account()
    hold = place(api, buyer, event_id, 2).body
    confirming_at: datetime = clock.now

    def start_now() -> None:
        clock.now = confirming_at - timedelta(seconds=1)
        body = {"starts_at": confirming_at.isoformat()}
        moved = api.call("update_event", token=admin.token, path={"event_id": event_id}, body=body)
        clock.now = confirming_at
        assert moved.status == 200, moved.body

    between_read_and_write(monkeypatch, hold_store, "event_of", start_now)
    problem(confirm(api, buyer, hold["id"]), 409, "EVENT_STARTED")
    state = stock(event_id)
    assert (state.sold, state.held, state.holds[hold["id"]]) == (0, 2, "HELD")
