"""Offers from the waiting list through the real handlers over moto: tickets that come back go to the
earliest entries in join order as holds, an offer left to expire passes to the next, and nobody outside
the line gets them while anyone waits. Time is the test's (tests.support.holds.Clock)."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.logic import offers
from boxoffice.store.line import shard_of
from tests.support.bookings import Account, new_account, new_event, type_ids
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, confirm, place, release, sweep
from tests.support.waitlist import entries, join, leave, legacy_entry, tickets


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def book(api: Api, who: Account, event_id: str, quantity: int = 1, **body: Any) -> Result:
    return api.call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity, **body})


def cancel(api: Api, who: Account, booking_id: str) -> None:
    assert api.call("cancel_booking", token=who.token, path={"booking_id": booking_id}).status == 200


def sold_out_by_singles(api: Api, total: int, **kwargs: Any) -> tuple[str, Account, list[str]]:
    """An event whose every ticket one buyer booked one at a time: its id, the buyer, the booking ids."""
    event_id = new_event(total=total, **kwargs)
    buyer = new_account()
    bookings = [book(api, buyer, event_id).body["id"] for _ in range(total)]
    return event_id, buyer, bookings


def entry_of(api: Api, who: Account) -> dict[str, Any]:
    [entry] = entries(api, who).body["items"]
    return dict(entry)


def statuses(api: Api, people: list[Account]) -> list[str]:
    return [entry_of(api, p)["status"] for p in people]


def test_tickets_that_come_back_one_by_one_are_offered_to_the_line_in_join_order(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 5)
    line = [new_account() for _ in range(12)]
    shards = set()
    for n, person in enumerate(line, start=1):
        clock.advance(0.001)
        joined = join(api, person, event_id).body
        assert joined["position"] == n
        shards.add(shard_of(joined["id"]))
    assert len(shards) > 2  # the line spreads over shards: offers merge them back into join order

    for n, booking_id in enumerate(bookings, start=1):
        cancel(api, buyer, booking_id)
        assert statuses(api, line) == ["OFFERED"] * n + ["WAITING"] * (12 - n)
        counts = tickets(event_id)
        assert counts.balanced
        assert (counts.held, counts.reserved, counts.available, counts.waiting) == (n, 0, 0, 12 - n)
        assert entry_of(api, line[n])["position"] == 1  # the next in line is first now

    offer = entry_of(api, line[0])
    assert offer["hold_id"] is not None
    assert offer["expires_at"] is not None
    booked = confirm(api, line[0], offer["hold_id"])
    assert booked.status == 201, booked.body
    assert entry_of(api, line[0])["status"] == "BOOKED"
    counts = tickets(event_id)
    assert (counts.sold, counts.held) == (1, 4)
    assert counts.balanced


def test_an_offer_left_to_expire_passes_to_the_next_in_line(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 2)
    first, second = new_account(), new_account()
    join(api, first, event_id)
    clock.advance(0.001)
    join(api, second, event_id)
    cancel(api, buyer, bookings[0])
    lapsed = entry_of(api, first)

    clock.advance(settings().hold_seconds)
    assert entry_of(api, first)["status"] == "EXPIRED"  # past its expiry, swept or not
    assert sweep() == 1

    assert statuses(api, [first, second]) == ["EXPIRED", "OFFERED"]
    assert confirm(api, first, lapsed["hold_id"]).body["code"] == "HOLD_EXPIRED"
    assert confirm(api, second, entry_of(api, second)["hold_id"]).status == 201
    counts = tickets(event_id)
    assert (counts.sold, counts.held, counts.reserved, counts.available, counts.waiting) == (2, 0, 0, 0, 0)


@pytest.mark.parametrize("refused", ["create_booking", "create_hold"])
def test_a_lapsed_offer_passes_to_the_next_before_any_sweep_when_a_sale_is_refused(
    api: Api, clock: Clock, refused: str
) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 2)
    first, second, outsider = new_account(), new_account(), new_account()
    join(api, first, event_id)
    clock.advance(0.001)
    join(api, second, event_id)
    cancel(api, buyer, bookings[0])
    clock.advance(settings().hold_seconds)

    attempt = api.call(refused, token=outsider.token, path={"event_id": event_id}, body={"quantity": 1})

    assert (attempt.status, attempt.body["code"]) == (409, "SOLD_OUT")  # the line has it first
    assert statuses(api, [first, second]) == ["EXPIRED", "OFFERED"]


def test_nobody_outside_the_line_gets_returned_tickets_while_anyone_waits(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 3)
    waiter, outsider = new_account(), new_account()
    join(api, waiter, event_id, 2)

    cancel(api, buyer, bookings[0])  # one back: too few for the entry, kept for the line
    assert tickets(event_id).reserved == 1
    assert book(api, outsider, event_id).body["code"] == "SOLD_OUT"
    assert place(api, outsider, event_id, 1).body["code"] == "SOLD_OUT"
    cancel(api, buyer, bookings[1])  # two back: the entry's
    assert entry_of(api, waiter)["status"] == "OFFERED"

    cancel(api, buyer, bookings[2])  # nobody waits any more: on open sale
    assert book(api, outsider, event_id).status == 201
    counts = tickets(event_id)
    assert (counts.sold, counts.held, counts.reserved, counts.available) == (1, 2, 0, 0)


def test_an_entry_that_does_not_fit_lets_a_later_one_that_does_go_first(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 4)
    big, small = new_account(), new_account()
    join(api, big, event_id, 4)
    clock.advance(0.001)
    join(api, small, event_id, 1)

    cancel(api, buyer, bookings[0])

    assert statuses(api, [big, small]) == ["WAITING", "OFFERED"]


def test_joining_while_kept_tickets_fit_is_an_offer_at_once(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 3)
    join(api, new_account(), event_id, 3)
    cancel(api, buyer, bookings[0])  # kept: the line wants three

    late = join(api, new_account(), event_id, 1)

    assert late.status == 201
    assert (late.body["status"], late.body["position"]) == ("OFFERED", None)
    assert late.body["hold_id"] is not None


def test_leaving_with_an_offer_passes_it_to_the_next_and_so_does_releasing_its_hold(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 1)
    people = [new_account() for _ in range(3)]
    for person in people:
        clock.advance(0.001)
        join(api, person, event_id)
    cancel(api, buyer, bookings[0])

    left = leave(api, people[0], entry_of(api, people[0])["id"])
    assert (left.status, left.body["status"]) == (200, "LEFT")
    assert statuses(api, people) == ["LEFT", "OFFERED", "WAITING"]
    assert release(api, people[1], entry_of(api, people[1])["hold_id"]).status == 200
    assert statuses(api, people) == ["LEFT", "LEFT", "OFFERED"]
    again = leave(api, people[1], entry_of(api, people[1])["id"])
    assert (again.status, again.body["entry_status"]) == (409, "LEFT")
    counts = tickets(event_id)
    assert (counts.held, counts.reserved, counts.waiting) == (1, 0, 0)
    assert counts.balanced


def test_leaving_after_the_offer_lapsed_is_not_waiting_and_passes_it_on(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 1)
    first, second = new_account(), new_account()
    join(api, first, event_id)
    clock.advance(0.001)
    join(api, second, event_id)
    cancel(api, buyer, bookings[0])
    clock.advance(settings().hold_seconds)

    late = leave(api, first, entry_of(api, first)["id"])

    assert (late.status, late.body["entry_status"]) == (409, "EXPIRED")
    assert statuses(api, [first, second]) == ["EXPIRED", "OFFERED"]


def test_more_capacity_goes_to_the_line_first(api: Api, clock: Clock) -> None:
    event_id, _, _ = sold_out_by_singles(api, 2)
    admin, waiter = new_account("admin"), new_account()
    join(api, waiter, event_id, 2)

    grown = api.call("update_event", token=admin.token, path={"event_id": event_id}, body={"total_tickets": 5})

    assert grown.body["available_tickets"] == 1
    assert entry_of(api, waiter)["status"] == "OFFERED"


def test_the_sweeper_hands_on_a_pool_a_request_left_behind(
    api: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 1)
    waiter = new_account()
    join(api, waiter, event_id)
    with monkeypatch.context() as cut_short:  # the cancel's request ends before its allocator runs
        cut_short.setattr(offers, "allocate", lambda event_id: 0)
        cancel(api, buyer, bookings[0])
    assert (tickets(event_id).reserved, entry_of(api, waiter)["status"]) == (1, "WAITING")

    sweep()

    assert entry_of(api, waiter)["status"] == "OFFERED"
    assert tickets(event_id).reserved == 0


def test_the_sweeper_stops_looking_at_the_pool_of_a_deleted_event(api: Api, clock: Clock) -> None:
    from tests.integration.test_waitlist_api import _pooled

    event_id, buyer, bookings = sold_out_by_singles(api, 2)
    join(api, new_account(), event_id, 2)
    cancel(api, buyer, bookings[0])  # kept: the line wants two
    assert _pooled() == [event_id]
    admin = new_account("admin")
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204

    sweep()

    assert _pooled() == []
    counts = tickets(event_id)  # a closed line keeps nothing: the kept ticket is back in the tombstone's count
    assert (counts.reserved, counts.available, counts.waiting) == (0, 1, 0)
    assert counts.balanced


def test_a_waiter_who_reached_the_per_user_cap_meanwhile_is_passed_over(api: Api, clock: Clock) -> None:
    from boxoffice.store import dynamo, inventory

    event_id, buyer, bookings = sold_out_by_singles(api, 2, per_user=2)
    capped, next_one = new_account(), new_account()
    join(api, capped, event_id, 1)
    clock.advance(0.001)
    join(api, next_one, event_id, 1)
    holding = inventory.holding_key(capped.id, event_id)  # two tickets got elsewhere, as a race could
    dynamo.client().put_item(TableName=settings().bookings_table, Item=dynamo.dump({**holding, "tickets": 2}))

    cancel(api, buyer, bookings[0])

    assert statuses(api, [capped, next_one]) == ["WAITING", "OFFERED"]


def test_an_entry_whose_type_stopped_selling_leaves_the_line_and_the_next_is_offered(api: Api, clock: Clock) -> None:
    from datetime import timedelta

    closing = (clock.now + timedelta(days=1)).isoformat()
    types = [{"name": "Early", "price": "10.00", "sales_end": closing}, {"name": "Standard", "price": "20.00"}]
    event_id = new_event(total=1, types=types)
    standard = type_ids(event_id)["Standard"]
    buyer, early, later = new_account(), new_account(), new_account()
    booking = book(api, buyer, event_id, 1, ticket_type_id=standard).body["id"]
    join(api, early, event_id, 1, ticket_type_id=type_ids(event_id)["Early"])
    clock.advance(0.001)
    join(api, later, event_id, 1, ticket_type_id=standard)

    clock.advance(2 * 86400)
    buyer = Account(buyer.id, buyer.email, buyer.password, _token(buyer.id))  # a token of the later day
    cancel(api, buyer, booking)

    assert [e["status"] for e in (_entry(early), _entry(later))] == ["EXPIRED", "OFFERED"]
    assert tickets(event_id).waiting == 0


def _token(user_id: str) -> str:
    from boxoffice import auth

    return auth.issue_token(user_id, "user", 0)[0]


def _entry(who: Account) -> dict[str, Any]:
    """The entry as stored (its owner's token is of an earlier day)."""
    from boxoffice.store import dynamo

    [item] = [
        i
        for i in dynamo.client().scan(TableName=settings().bookings_table)["Items"]
        if dynamo.load(i)["pk"] == f"USER#{who.id}" and dynamo.load(i)["sk"].startswith("WAITING#")
    ]
    return dynamo.load(item)


def test_a_line_stored_before_the_shards_is_served_first_and_counted_on_the_quota(api: Api, clock: Clock) -> None:
    """An entry that joined before the line had shards: its line item under `LINE#<event>`, counted by the
    quota's `waiting`. It keeps its place ahead of every later join, is offered first, and leaves the
    quota's count as it goes."""
    from boxoffice.config import settings
    from boxoffice.store import dynamo, inventory

    event_id, buyer, bookings = sold_out_by_singles(api, 2)
    early, late = new_account(), new_account()
    legacy_entry(event_id, early, joined_at=clock.now)
    table = settings().events_table
    clock.advance(0.001)

    assert join(api, late, event_id).body["position"] == 2
    assert entry_of(api, early)["position"] == 1
    cancel(api, buyer, bookings[0])

    assert (entry_of(api, early)["status"], entry_of(api, late)["status"]) == ("OFFERED", "WAITING")
    assert entry_of(api, late)["position"] == 1
    quota = dynamo.get(table, inventory.quota_key(event_id))
    assert quota is not None
    assert int(quota["waiting"]) == 0  # the old line is empty: only the shards count from now on
    assert tickets(event_id).waiting == 1
