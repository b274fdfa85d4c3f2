"""The pool of tickets kept for the waiting list: it is kept only while some WAITING entry could take it
(an entry held back by its type's own sub-quota or by its user's cap does not hold the pool), and handing
it on costs a request the same whatever the line's length (the sweeper reads deeper). Time is the test's."""

from __future__ import annotations

from collections import Counter

import pytest

from boxoffice.config import settings
from boxoffice.logic import offers
from boxoffice.store import dynamo, inventory, line
from scripts.bench.common import count_calls
from tests.integration.test_waitlist_offers import book, cancel, entry_of, sold_out_by_singles, statuses
from tests.support.bookings import Account, new_account, new_event, type_ids
from tests.support.handlers import Api
from tests.support.holds import Clock, sweep
from tests.support.waitlist import join, leave, tickets


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def test_a_return_nobody_in_line_can_take_for_their_types_own_sub_quota_goes_back_on_open_sale(
    api: Api, clock: Clock
) -> None:
    types = [{"name": "VIP", "price": "90.00", "total_tickets": 2}, {"name": "Standard", "price": "20.00"}]
    event_id = new_event(total=10, types=types)
    vip, standard = type_ids(event_id)["VIP"], type_ids(event_id)["Standard"]
    buyer, waiter, outsider = new_account(), new_account(), new_account()
    vips = [book(api, buyer, event_id, 1, ticket_type_id=vip).body["id"] for _ in range(2)]
    standards = [book(api, buyer, event_id, 1, ticket_type_id=standard).body["id"] for _ in range(8)]
    assert join(api, waiter, event_id, 1, ticket_type_id=vip).status == 201

    cancel(api, buyer, standards[0])  # a Standard ticket: the VIP waiter cannot have it however long it waits

    counts = tickets(event_id)
    assert (counts.reserved, counts.available, counts.waiting) == (0, 1, 1)
    assert book(api, outsider, event_id, 1, ticket_type_id=standard).status == 201
    cancel(api, buyer, vips[0])  # a VIP ticket: the waiter's
    assert entry_of(api, waiter)["status"] == "OFFERED"
    assert tickets(event_id).balanced


def test_a_return_only_a_waiter_at_the_per_user_cap_could_want_goes_back_on_open_sale(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 2, per_user=2)
    capped, outsider = new_account(), new_account()
    assert join(api, capped, event_id, 1).status == 201
    holding = inventory.holding_key(capped.id, event_id)  # two tickets got elsewhere, as a race could
    dynamo.client().put_item(TableName=settings().bookings_table, Item=dynamo.dump({**holding, "tickets": 2}))

    cancel(api, buyer, bookings[0])

    assert entry_of(api, capped)["status"] == "WAITING"
    counts = tickets(event_id)
    assert (counts.reserved, counts.available, counts.waiting) == (0, 1, 1)
    assert book(api, outsider, event_id).status == 201


def test_a_return_kept_for_an_entry_that_wants_more_stays_kept(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 3)
    waiter, outsider = new_account(), new_account()
    join(api, waiter, event_id, 2)

    cancel(api, buyer, bookings[0])  # one of the two it waits for: it could take them once one more comes back

    assert (tickets(event_id).reserved, book(api, outsider, event_id).body["code"]) == (1, "SOLD_OUT")


def _costs(api: Api, clock: Clock, length: int) -> dict[str, tuple[Counter[str], int]]:
    """DynamoDB calls (by operation) and items read of a cancel, a join and a leave behind `length` entries
    wanting 10 while one ticket is kept: nothing kept fits anyone."""
    event_id, buyer, bookings = sold_out_by_singles(api, 12)
    line: list[Account] = []
    for _ in range(length):
        line.append(new_account())
        clock.advance(0.001)
        assert join(api, line[-1], event_id, 10).status == 201
    costs = {}
    with count_calls() as calls:
        cancel(api, buyer, bookings[0])
    costs["cancel"] = (calls.operations, calls.items_read)
    late = new_account()
    with count_calls() as calls:
        joined = join(api, late, event_id, 10)
    costs["join"] = (calls.operations, -1)  # its position's COUNT reads the line ahead: exact, by design
    with count_calls() as calls:
        assert leave(api, late, joined.body["id"]).status == 200
    costs["leave"] = (calls.operations, calls.items_read)
    assert (tickets(event_id).reserved, statuses(api, line[:1])) == (1, ["WAITING"])
    return costs


def test_handing_on_the_pool_costs_a_request_the_same_behind_ten_entries_or_three_windows_of_them(
    api: Api, clock: Clock
) -> None:
    short, long = _costs(api, clock, 10), _costs(api, clock, 3 * offers.LINE_WINDOW)

    for request in ("cancel", "join", "leave"):
        # The same calls, but for one Query a line shard anyone waits in (ten entries may leave some empty).
        extra = long[request][0] - short[request][0]
        assert set(extra) <= {"Query"}, request
        assert extra["Query"] <= line.LINE_SHARDS, request
    for request in ("cancel", "leave"):
        assert long[request][1] <= short[request][1] + offers.LINE_WINDOW, request


def test_an_entry_that_fits_beyond_what_a_request_reads_is_offered_by_the_next_sweep(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 12)
    for _ in range(offers.LINE_WINDOW):
        clock.advance(0.001)
        join(api, new_account(), event_id, 10)
    clock.advance(0.001)
    small = new_account()
    join(api, small, event_id, 1)

    cancel(api, buyer, bookings[0])
    assert entry_of(api, small)["status"] == "WAITING"  # the request read the head of the line only

    sweep()

    assert entry_of(api, small)["status"] == "OFFERED"
    assert tickets(event_id).reserved == 0
