"""Waiting-list entries end with their offer or their event: a lapsed offer does not block a rejoin, and a
deleted or started event's line is closed (shown CLOSED at once, ended in storage by the sweeper) without
keeping tickets from open sale. Time is the test's (tests.support.holds.Clock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from boxoffice.config import settings
from tests.integration.test_waitlist_api import _pooled
from tests.integration.test_waitlist_offers import _token, book, cancel, entry_of, sold_out_by_singles, statuses
from tests.support.bookings import Account, new_account, new_event
from tests.support.handlers import Api
from tests.support.holds import Clock, place, sweep
from tests.support.waitlist import join, leave, tickets


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def test_rejoining_after_an_offer_lapsed_releases_it_and_puts_the_user_at_the_back(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 1)
    first, second = new_account(), new_account()
    join(api, first, event_id)
    clock.advance(0.001)
    join(api, second, event_id)
    cancel(api, buyer, bookings[0])
    clock.advance(settings().hold_seconds)  # no sweep has run: the offer's hold is still HELD as stored
    assert entry_of(api, first)["status"] == "EXPIRED"

    again = join(api, first, event_id)

    assert again.status == 201, again.body
    assert (again.body["status"], again.body["position"]) == ("WAITING", 1)
    assert statuses(api, [first, second]) == ["WAITING", "OFFERED"]  # the lapsed offer passed to the next
    counts = tickets(event_id)
    assert (counts.held, counts.reserved, counts.waiting) == (1, 0, 1)
    assert counts.balanced


def test_a_deleted_events_line_is_closed_at_once_and_its_returns_go_back_to_open_sale(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 2)
    waiters = [new_account() for _ in range(3)]
    for waiter in waiters:
        clock.advance(0.001)
        assert join(api, waiter, event_id, 2).status == 201
    admin = new_account("admin")
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204

    assert statuses(api, waiters) == ["CLOSED"] * 3  # before any sweep
    assert entry_of(api, waiters[0])["position"] is None
    rejoin = join(api, waiters[0], event_id)
    assert (rejoin.status, rejoin.body["code"]) == (404, "EVENT_NOT_FOUND")
    cancel(api, buyer, bookings[0])  # nobody can be offered a deleted event's tickets: not kept for the line
    counts = tickets(event_id)
    assert (counts.reserved, counts.available) == (0, 1)

    sweep()  # ends the line as stored

    counts = tickets(event_id)
    assert (counts.waiting, counts.reserved, counts.available, counts.sold) == (0, 0, 1, 1)
    assert counts.balanced
    assert [stored_entry(w)["status"] for w in waiters] == ["CLOSED"] * 3
    assert line_items(event_id) == 0
    assert _pooled() == []


def test_a_started_events_line_is_closed_and_a_hold_lapsing_after_the_start_goes_back_to_open_sale(
    api: Api, clock: Clock
) -> None:
    event_id = new_event(total=3, starts_in=timedelta(seconds=settings().hold_seconds - 60))
    buyer, holder, waiter = new_account(), new_account(), new_account()
    assert book(api, buyer, event_id, 2).status == 201
    assert place(api, holder, event_id, 1).status == 201
    assert join(api, waiter, event_id, 1).status == 201
    clock.advance(settings().hold_seconds + 1)  # past the start (a minute ago), then past the hold's expiry

    assert statuses(api, [waiter]) == ["CLOSED"]
    rejoin = join(api, waiter, event_id)
    assert (rejoin.status, rejoin.body["code"]) == (409, "EVENT_STARTED")

    sweep()  # the hold lapses after the start: its ticket is not kept for a line that has closed

    counts = tickets(event_id)
    assert (counts.held, counts.reserved, counts.available, counts.waiting) == (0, 0, 1, 0)
    assert counts.balanced
    assert stored_entry(waiter)["status"] == "CLOSED"
    assert line_items(event_id) == 0


def stored_entry(who: Account) -> dict[str, Any]:
    """The entry as stored, not as its owner's list shows it."""
    from boxoffice.store import dynamo

    [item] = dynamo.client().query(
        TableName=settings().bookings_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :waiting)",
        ExpressionAttributeValues=dynamo.values(pk=f"USER#{who.id}", waiting="WAITING#"),
    )["Items"]
    return dynamo.load(item)


def line_items(event_id: str) -> int:
    from boxoffice.store import dynamo

    raw = dynamo.client().query(
        TableName=settings().events_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=dynamo.values(pk=f"LINE#{event_id}"),
        Select="COUNT",
    )
    return int(raw["Count"])


def test_a_deleted_event_nobody_waited_for_leaves_the_sweepers_list_after_one_sweep(api: Api, clock: Clock) -> None:
    event_id = new_event(total=2)
    admin = new_account("admin")
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204
    assert event_id in _pooled()  # listed by the delete, which does not read the line

    sweep()

    assert event_id not in _pooled()
    counts = tickets(event_id)
    assert (counts.available, counts.reserved, counts.waiting) == (2, 0, 0)


def test_a_request_on_a_line_closed_long_ago_leaves_its_ending_to_the_next_sweep(api: Api, clock: Clock) -> None:
    event_id, _, _ = sold_out_by_singles(api, 1, starts_in=timedelta(hours=1))
    leaving, staying = new_account(), new_account()
    entry = join(api, leaving, event_id).body
    clock.advance(0.001)
    join(api, staying, event_id)
    clock.advance(3 * 3600)  # long past the start: the sweeper no longer looks for it by its start
    sweep()
    assert tickets(event_id).waiting == 2

    later = Account(leaving.id, leaving.email, leaving.password, _token(leaving.id))  # a token of the later hour
    left = leave(api, later, entry["id"])

    assert (left.status, left.body["status"]) == (200, "LEFT")
    assert stored_entry(staying)["status"] == "WAITING"  # a request ends no one else's entry
    sweep()
    assert stored_entry(staying)["status"] == "CLOSED"
    assert (tickets(event_id).waiting, line_items(event_id), _pooled()) == (0, 0, [])
