"""GET /events/{event_id}/stats: counters kept in the same transactions as the changes, equal to a recount."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from multiprocessing.pool import Pool
from typing import Any

import pytest

from scripts.bench.common import count_calls
from tests.integration.test_bookings_api import problem
from tests.support.bookings import AT_THE_DOOR, Account, call, lambda_pool, new_account, new_event, recount, type_ids
from tests.support.handlers import Api


def stats(who: Account, event_id: str, api: Api | None = None) -> dict[str, Any]:
    args = {"token": who.token, "path": {"event_id": event_id}}
    result = api.call("event_stats", **args) if api else call("event_stats", args)
    assert result.status == 200, result.body
    body: dict[str, Any] = result.body
    return body


def book(api: Api, buyer: Account, event_id: str, quantity: int, type_id: str | None = None) -> dict[str, Any]:
    body = {"quantity": quantity, **({"ticket_type_id": type_id} if type_id else {})}
    result = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body=body)
    assert result.status == 201, result.body
    body: dict[str, Any] = result.body
    return body


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


def test_a_new_event_has_sold_nothing(api: Api, admin: Account) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR, total=50)
    (general,) = type_ids(event_id).values()
    nothing = {"sold": 0, "held": 0, "checked_in": 0, "cancelled": 0, "revenue": {}}
    assert stats(admin, event_id, api) == {
        "event_id": event_id,
        "total_tickets": 50,
        "reserved": 0,
        "available": 50,
        **nothing,
        "ticket_types": [{"id": general, "name": "General admission", "hidden": False, "available": None, **nothing}],
        "promo_codes": [],
    }


def test_bookings_cancels_check_ins_and_undos_move_the_numbers(api: Api, admin: Account) -> None:
    event_id, staff, buyer = (
        new_event(starts_in=AT_THE_DOOR, total=20, price="12.50"),
        new_account("staff"),
        new_account(),
    )
    kept = book(api, buyer, event_id, 3)
    dropped = book(api, buyer, event_id, 2)
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": dropped["id"]}).status == 200
    for ticket in kept["tickets"][:2]:
        scan = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"code": ticket["code"]})
        assert scan.status == 200
    undo = {"event_id": event_id, "ticket_number": kept["tickets"][0]["ticket_number"]}
    assert api.call("undo_check_in", token=admin.token, path=undo).status == 200

    numbers = stats(admin, event_id, api)
    moved = {"sold": 3, "held": 0, "checked_in": 1, "cancelled": 2, "revenue": {"EUR": "37.50"}}
    assert numbers == {
        "event_id": event_id,
        "total_tickets": 20,
        "reserved": 0,
        "available": 17,
        **moved,
        "ticket_types": [
            {"id": kept["ticket_type"]["id"], "name": "General admission", "hidden": False, "available": None, **moved}
        ],
        "promo_codes": [],
    }
    assert numbers == recount(event_id)


def test_each_ticket_type_has_its_own_numbers(api: Api, admin: Account) -> None:
    types = [{"name": "Standard", "price": "10.00"}, {"name": "VIP", "price": "50.00", "total_tickets": 5}]
    event_id, staff, buyer = (
        new_event(starts_in=AT_THE_DOOR, total=30, types=types),
        new_account("staff"),
        new_account(),
    )
    ids = type_ids(event_id)
    standard = book(api, buyer, event_id, 3, ids["Standard"])
    dropped = book(api, buyer, event_id, 1, ids["Standard"])
    vip = book(api, buyer, event_id, 2, ids["VIP"])
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": dropped["id"]}).status == 200
    for ticket in (*vip["tickets"], standard["tickets"][0]):
        scan = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"code": ticket["code"]})
        assert scan.status == 200, scan.body
    undo = {"event_id": event_id, "ticket_number": standard["tickets"][0]["ticket_number"]}
    assert api.call("undo_check_in", token=admin.token, path=undo).status == 200

    numbers = stats(admin, event_id, api)
    assert numbers["ticket_types"] == [
        {"id": ids["Standard"], "name": "Standard", "hidden": False, "sold": 3, "held": 0, "available": None,
         "checked_in": 0, "cancelled": 1, "revenue": {"EUR": "30.00"}},
        {"id": ids["VIP"], "name": "VIP", "hidden": False, "sold": 2, "held": 0, "available": 3, "checked_in": 2,
         "cancelled": 0, "revenue": {"EUR": "100.00"}},
    ]  # fmt: skip
    assert (numbers["sold"], numbers["checked_in"], numbers["cancelled"]) == (5, 2, 1)
    assert numbers["revenue"] == {"EUR": "130.00"}
    assert numbers == recount(event_id)


def test_revenue_is_kept_per_currency_when_the_event_changes_currency(api: Api, admin: Account) -> None:
    event_id, buyer = new_event(starts_in=AT_THE_DOOR, price="10.00"), new_account()
    euros = book(api, buyer, event_id, 1)
    change = {"currency": "USD", "ticket_price": "11.00"}
    assert api.call("update_event", token=admin.token, path={"event_id": event_id}, body=change).status == 200
    book(api, buyer, event_id, 2)
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": euros["id"]}).status == 200
    assert stats(admin, event_id, api)["revenue"] == {"EUR": "0.00", "USD": "22.00"} == recount(event_id)["revenue"]


def test_stats_are_three_reads_however_many_types(api: Api, admin: Account) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR, types=[{"name": f"Type {n}", "price": "10.00"} for n in range(20)])
    with count_calls() as calls:
        assert len(stats(admin, event_id, api)["ticket_types"]) == 20
    assert dict(calls.operations) == {"BatchGetItem": 2, "Query": 1}  # the last: its promo codes' counters


def test_only_admins_see_stats(api: Api, admin: Account) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR)
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


def test_stats_equal_a_recount_after_racing_bookings_cancels_scans_and_undos(pool: Pool) -> None:
    rng = random.Random(11)
    types = [
        {"name": "Standard", "price": "12.50"},
        {"name": "VIP", "price": "80.00", "total_tickets": 30},
        {"name": "Student", "price": "7.25", "total_tickets": 25},
    ]
    event_id, admin, staff = (
        new_event(starts_in=AT_THE_DOOR, total=120, per_booking=4, types=types),
        new_account("admin"),
        new_account("staff"),
    )
    kinds = list(type_ids(event_id).values())
    path = {"event_id": event_id}
    tokens = [new_account().token for _ in range(8)] * 6
    jobs = [
        ("create_booking", {"token": t, "path": path, "body": {"quantity": rng.randint(1, 4), "ticket_type_id": k}})
        for t, k in zip(tokens, rng.choices(kinds, k=len(tokens)), strict=True)
    ]
    made = pool.starmap(call, jobs, chunksize=1)
    booked = [(token, r.body) for token, r in zip(tokens, made, strict=True) if r.status == 201]

    def scan(ticket: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return "check_in", {"token": staff.token, "path": path, "body": {"code": ticket["code"]}}

    def undo(ticket: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return "undo_check_in", {"token": admin.token, "path": {**path, "ticket_number": ticket["ticket_number"]}}

    races = []
    for token, booking in rng.sample(booked, 12):  # a cancel racing a scan of one of its tickets
        races += [("cancel_booking", {"token": token, "path": {"booking_id": booking["id"]}})]
        races += [scan(rng.choice(booking["tickets"]))]
    for _, booking in rng.sample(booked, 10):
        races += [scan(ticket) for ticket in booking["tickets"]]
    rng.shuffle(races)
    results = pool.starmap(call, races, chunksize=1)
    let_in = {job["body"]["code"] for (name, job), r in zip(races, results, strict=True) if name == "check_in"
              and r.status == 200}  # fmt: skip
    # Then undos, each racing another scan of its ticket (let in again, or still in: 409).
    chosen = rng.sample(sorted(let_in), 8)
    in_again = [t for _, b in booked for t in b["tickets"] if t["code"] in chosen]
    undos = [undo(t) for t in in_again] + [scan(t) for t in in_again]
    rng.shuffle(undos)
    results += pool.starmap(call, undos, chunksize=1)
    assert {r.status for r in results} <= {200, 409}, [r.body for r in results if r.status not in (200, 409)]

    numbers = stats(admin, event_id)
    assert numbers == recount(event_id)
    assert numbers["sold"] + numbers["available"] == numbers["total_tickets"]
    for field in ("sold", "checked_in", "cancelled"):
        assert sum(t[field] for t in numbers["ticket_types"]) == numbers[field] > 0
    assert all(t["sold"] > 0 for t in numbers["ticket_types"])
    done = Counter(name for (name, _), r in zip(races + undos, results, strict=True) if r.status == 200)
    assert done["undo_check_in"] == 8
