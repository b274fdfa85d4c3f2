"""GET /events/{event_id}/stats: counters kept in the same transactions as the changes, equal to a recount."""

from __future__ import annotations

import random
from collections.abc import Iterator
from multiprocessing.pool import Pool
from typing import Any

import pytest

from scripts.bench.common import count_calls
from tests.integration.test_bookings_api import problem
from tests.support.bookings import Account, call, lambda_pool, new_account, new_event, recount
from tests.support.handlers import Api


def stats(who: Account, event_id: str, api: Api | None = None) -> dict[str, Any]:
    args = {"token": who.token, "path": {"event_id": event_id}}
    result = api.call("event_stats", **args) if api else call("event_stats", args)
    assert result.status == 200, result.body
    body: dict[str, Any] = result.body
    return body


def book(api: Api, buyer: Account, event_id: str, quantity: int) -> dict[str, Any]:
    result = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": quantity})
    assert result.status == 201, result.body
    body: dict[str, Any] = result.body
    return body


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


def test_a_new_event_has_sold_nothing(api: Api, admin: Account) -> None:
    event_id = new_event(total=50)
    assert stats(admin, event_id, api) == {
        "event_id": event_id,
        "total_tickets": 50,
        "sold": 0,
        "available": 50,
        "checked_in": 0,
        "cancelled": 0,
        "revenue": {},
    }


def test_bookings_cancels_check_ins_and_undos_move_the_numbers(api: Api, admin: Account) -> None:
    event_id, staff, buyer = new_event(total=20, price="12.50"), new_account("staff"), new_account()
    kept = book(api, buyer, event_id, 3)
    dropped = book(api, buyer, event_id, 2)
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": dropped["id"]}).status == 200
    for ticket in kept["tickets"][:2]:
        scan = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"code": ticket["code"]})
        assert scan.status == 200
    undo = {"event_id": event_id, "ticket_number": kept["tickets"][0]["ticket_number"]}
    assert api.call("undo_check_in", token=admin.token, path=undo).status == 200

    numbers = stats(admin, event_id, api)
    assert numbers == {
        "event_id": event_id,
        "total_tickets": 20,
        "sold": 3,
        "available": 17,
        "checked_in": 1,
        "cancelled": 2,
        "revenue": {"EUR": "37.50"},
    }
    assert numbers == recount(event_id)


def test_revenue_is_kept_per_currency_when_the_event_changes_currency(api: Api, admin: Account) -> None:
    event_id, buyer = new_event(price="10.00"), new_account()
    euros = book(api, buyer, event_id, 1)
    change = {"currency": "USD", "ticket_price": "11.00"}
    assert api.call("update_event", token=admin.token, path={"event_id": event_id}, body=change).status == 200
    book(api, buyer, event_id, 2)
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": euros["id"]}).status == 200
    assert stats(admin, event_id, api)["revenue"] == {"EUR": "0.00", "USD": "22.00"} == recount(event_id)["revenue"]


def test_stats_are_one_read(api: Api, admin: Account) -> None:
    event_id = new_event()
    with count_calls() as calls:
        stats(admin, event_id, api)
    assert dict(calls.operations) == {"BatchGetItem": 1}


def test_only_admins_see_stats(api: Api, admin: Account) -> None:
    event_id = new_event()
    path = {"event_id": event_id}
    problem(api.call("event_stats", token=new_account().token, path=path), 403, "FORBIDDEN")
    problem(api.call("event_stats", token=new_account("staff").token, path=path), 403, "FORBIDDEN")
    problem(api.call("event_stats", path=path), 401, "UNAUTHENTICATED")
    problem(api.call("event_stats", token=admin.token, path={"event_id": "00000000-0000-4000-8000-000000000000"}),
            404, "EVENT_NOT_FOUND")  # fmt: skip


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with lambda_pool("stats-race", 16) as workers:
        yield workers


def test_stats_equal_a_recount_after_racing_bookings_cancels_and_scans(pool: Pool) -> None:
    rng = random.Random(11)
    event_id, admin, staff = new_event(total=120, per_booking=4), new_account("admin"), new_account("staff")
    path = {"event_id": event_id}
    tokens = [new_account().token for _ in range(8)] * 6
    jobs = [("create_booking", {"token": t, "path": path, "body": {"quantity": rng.randint(1, 4)}}) for t in tokens]
    made = pool.starmap(call, jobs, chunksize=1)
    booked = [(token, r.body) for token, r in zip(tokens, made, strict=True) if r.status == 201]

    def scan(ticket: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return "check_in", {"token": staff.token, "path": path, "body": {"code": ticket["code"]}}

    races = []
    for token, booking in rng.sample(booked, 12):  # a cancel racing a scan of one of its tickets
        races += [("cancel_booking", {"token": token, "path": {"booking_id": booking["id"]}})]
        races += [scan(rng.choice(booking["tickets"]))]
    for _, booking in rng.sample(booked, 10):
        races += [scan(ticket) for ticket in booking["tickets"]]
    rng.shuffle(races)
    results = pool.starmap(call, races, chunksize=1)
    assert {r.status for r in results} <= {200, 409}, [r.body for r in results if r.status not in (200, 409)]

    numbers = stats(admin, event_id)
    assert numbers == recount(event_id)
    assert numbers["sold"] + numbers["available"] == numbers["total_tickets"]
    assert numbers["checked_in"] > 0
    assert numbers["cancelled"] > 0
