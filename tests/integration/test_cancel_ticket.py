"""DELETE /bookings/{booking_id}/tickets/{ticket_number}: one ticket back, through the handlers over moto."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from multiprocessing.pool import Pool
from typing import Any

import pytest

from scripts.bench.common import count_calls
from tests.integration.test_bookings_api import move_clock, problem
from tests.support.bookings import (
    AT_THE_DOOR,
    Account,
    call,
    lambda_pool,
    ledger,
    new_account,
    new_event,
    recount,
    type_ids,
)
from tests.support.handlers import Api, Result
from tests.support.waitlist import entries, join, tickets

OTHER_TICKET = "7KQ4-M2ZX-8H3D-QW9P-5T6V-B1N2-C3R4"  # well formed, of no booking here


def book(api: Api, who: Account, event_id: str, quantity: int, **body: Any) -> dict[str, Any]:
    result = api.call(
        "create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity, **body}
    )
    assert result.status == 201, result.body
    booking: dict[str, Any] = result.body
    return booking


def cancel_ticket(api: Api, who: Account, booking_id: str, number: str) -> Result:
    return api.call("cancel_ticket", token=who.token, path={"booking_id": booking_id, "ticket_number": number})


def numbers(booking: dict[str, Any]) -> list[str]:
    return [t["ticket_number"] for t in booking["tickets"]]


def holding(user_id: str, event_id: str) -> int:
    from boxoffice.config import settings
    from boxoffice.store import dynamo, inventory

    item = dynamo.get(settings().bookings_table, inventory.holding_key(user_id, event_id))
    return int(item["tickets"]) if item else 0


def quota_cancelled(event_id: str) -> int:
    from boxoffice.config import settings
    from boxoffice.store import dynamo, inventory

    item = dynamo.get(settings().events_table, inventory.quota_key(event_id))
    assert item is not None
    return int(item.get("cancelled_tickets", 0))


@pytest.fixture
def alice(api: Api) -> Account:
    return new_account()


def test_one_ticket_goes_back_to_every_counter_and_the_booking_shows_it(api: Api, alice: Account) -> None:
    types = [{"name": "Adult", "price": "20.00", "total_tickets": 6}, {"name": "Child", "price": "5.00"}]
    event_id = new_event(total=10, types=types, per_user=4)
    adult = type_ids(event_id)["Adult"]
    made = book(api, alice, event_id, 4, ticket_type_id=adult)
    gone, *kept = numbers(made)

    result = cancel_ticket(api, alice, made["id"], gone)

    assert result.status == 200, result.body
    body = result.body
    assert (body["status"], body["quantity"], body["total_price"], body["cancelled_at"]) == (
        "CONFIRMED",
        3,
        "60.00",
        None,
    )
    shown = {t["ticket_number"]: t for t in body["tickets"]}
    assert numbers(body) == numbers(made)
    assert (shown[gone]["status"], shown[gone]["code"]) == ("CANCELLED", None)
    assert all(shown[n]["status"] == "VALID" and shown[n]["code"] for n in kept)
    assert api.call("get_booking", token=alice.token, path={"booking_id": made["id"]}).body == body
    counts = tickets(event_id)
    assert counts.balanced
    assert (counts.available, counts.sold) == (7, 3)
    state = ledger(event_id)
    assert state.balanced
    assert (state.types[adult].sold, state.types[adult].available) == (3, 3)
    assert holding(alice.id, event_id) == 3
    # The per-user cap counts the ticket given back: one more fits, two do not.
    refused = api.call("create_booking", token=alice.token, path={"event_id": event_id}, body={"quantity": 2,
                       "ticket_type_id": adult})  # fmt: skip
    problem(refused, 409, "USER_LIMIT_REACHED")
    book(api, alice, event_id, 1, ticket_type_id=adult)
    admin = new_account("admin")
    stats = api.call("event_stats", token=admin.token, path={"event_id": event_id}).body
    assert (stats["sold"], stats["cancelled"], stats["revenue"]) == (4, 1, {"EUR": "80.00"})
    assert stats == recount(event_id)


def test_a_cancel_is_one_read_one_transaction_and_one_read_of_what_is_left(api: Api, alice: Account) -> None:
    made = book(api, alice, new_event(total=10), 3)
    with count_calls() as calls:
        assert cancel_ticket(api, alice, made["id"], numbers(made)[0]).status == 200
    assert calls.operations == {"BatchGetItem": 2, "TransactWriteItems": 1}
    with count_calls() as calls:  # the last ticket's answer is the cancelled booking: nothing left to read
        for number in numbers(made)[1:]:
            assert cancel_ticket(api, alice, made["id"], number).status == 200
    assert calls.operations == {"BatchGetItem": 2 + 1, "TransactWriteItems": 2}


def test_someone_elses_booking_and_tickets_not_in_the_booking_are_not_found(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    made, other = book(api, alice, event_id, 2), book(api, alice, event_id, 1)
    before = ledger(event_id)

    problem(cancel_ticket(api, new_account(), made["id"], numbers(made)[0]), 404, "BOOKING_NOT_FOUND")
    problem(cancel_ticket(api, alice, made["id"], numbers(other)[0]), 404, "TICKET_NOT_FOUND")
    problem(cancel_ticket(api, alice, made["id"], OTHER_TICKET), 404, "TICKET_NOT_FOUND")
    problem(cancel_ticket(api, alice, made["id"], "not-a-ticket"), 404, "TICKET_NOT_FOUND")
    problem(cancel_ticket(api, alice, "not-a-booking", numbers(made)[0]), 404, "BOOKING_NOT_FOUND")
    problem(api.call("cancel_ticket", path={"booking_id": made["id"], "ticket_number": numbers(made)[0]}), 401,
            "UNAUTHENTICATED")  # fmt: skip

    assert ledger(event_id) == before


def test_a_ticket_typed_as_people_type_it_is_found(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    made = book(api, alice, event_id, 2)
    typed = numbers(made)[0].lower().replace("-", " ")
    assert cancel_ticket(api, alice, made["id"], typed).status == 200
    assert tickets(event_id).available == 9


def test_a_ticket_cancelled_twice_is_409_and_given_back_once(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    made = book(api, alice, event_id, 3)
    assert cancel_ticket(api, alice, made["id"], numbers(made)[1]).status == 200
    problem(cancel_ticket(api, alice, made["id"], numbers(made)[1]), 409, "TICKET_CANCELLED")
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (8, 2, True)


def test_a_checked_in_ticket_is_409_and_the_others_still_go(api: Api, alice: Account) -> None:
    event_id = new_event(total=10, starts_in=AT_THE_DOOR)
    made = book(api, alice, event_id, 2)
    used, other = made["tickets"]
    staff = new_account("staff")
    assert (
        api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"code": used["code"]}).status == 200
    )

    problem(cancel_ticket(api, alice, made["id"], used["ticket_number"]), 409, "TICKET_USED")
    assert ledger(event_id).available == 8
    result = cancel_ticket(api, alice, made["id"], other["ticket_number"])

    assert result.status == 200, result.body
    assert [t["status"] for t in result.body["tickets"]] == ["CHECKED_IN", "CANCELLED"]
    assert (result.body["status"], result.body["quantity"]) == ("CONFIRMED", 1)
    problem(api.call("cancel_booking", token=alice.token, path={"booking_id": made["id"]}), 409, "TICKET_USED")
    counts = tickets(event_id)
    assert (counts.available, counts.sold, counts.balanced) == (9, 1, True)


def test_after_the_start_is_409(api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    event_id = new_event(total=10, starts_in=timedelta(minutes=10))
    made = book(api, alice, event_id, 2)
    move_clock(monkeypatch, timedelta(minutes=11))
    problem(cancel_ticket(api, alice, made["id"], numbers(made)[0]), 409, "EVENT_STARTED")
    state = ledger(event_id)
    assert (state.available, state.valid_tickets) == (8, 2)


def test_the_last_ticket_cancels_the_booking(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    made = book(api, alice, event_id, 2)
    first, last = numbers(made)
    assert cancel_ticket(api, alice, made["id"], first).status == 200

    result = cancel_ticket(api, alice, made["id"], last)

    assert result.status == 200, result.body
    assert result.body["status"] == "CANCELLED"
    assert result.body["cancelled_at"] is not None
    assert {t["status"] for t in result.body["tickets"]} == {"CANCELLED"}
    problem(api.call("cancel_booking", token=alice.token, path={"booking_id": made["id"]}), 409, "ALREADY_CANCELLED")
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (10, 0, True)
    assert holding(alice.id, event_id) == 0


def test_a_whole_cancel_after_one_ticket_returns_the_rest(api: Api, alice: Account) -> None:
    event_id = new_event(total=10, price="10.00")
    made = book(api, alice, event_id, 3)
    assert cancel_ticket(api, alice, made["id"], numbers(made)[0]).status == 200

    result = api.call("cancel_booking", token=alice.token, path={"booking_id": made["id"]})

    assert result.status == 200, result.body
    assert (result.body["status"], result.body["quantity"], result.body["total_price"]) == ("CANCELLED", 2, "20.00")
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (10, 0, True)
    assert quota_cancelled(event_id) == 3


def test_the_idempotency_keys_replay_shows_the_ticket_cancelled(api: Api, alice: Account) -> None:
    event_id = new_event(total=10, price="10.00")
    args = {"token": alice.token, "path": {"event_id": event_id}, "body": {"quantity": 2}}
    made = api.call("create_booking", **args, headers={"Idempotency-Key": "k-1"}).body
    assert cancel_ticket(api, alice, made["id"], numbers(made)[0]).status == 200

    replay = api.call("create_booking", **args, headers={"Idempotency-Key": "k-1"})

    assert replay.status == 201, replay.body
    assert (replay.body["quantity"], replay.body["total_price"]) == (1, "10.00")
    assert [t["status"] for t in replay.body["tickets"]] == ["CANCELLED", "VALID"]


def test_the_returned_ticket_is_offered_to_the_waiting_list(api: Api, alice: Account) -> None:
    event_id = new_event(total=2)
    made = book(api, alice, event_id, 2)
    waiter = new_account()
    assert join(api, waiter, event_id).status == 201

    assert cancel_ticket(api, alice, made["id"], numbers(made)[0]).status == 200

    [entry] = entries(api, waiter).body["items"]
    assert entry["status"] == "OFFERED"
    counts = tickets(event_id)
    assert counts.balanced
    assert (counts.sold, counts.held, counts.available, counts.waiting) == (1, 1, 0, 0)


def test_the_door_syncs_the_cancelled_ticket(api: Api, alice: Account) -> None:
    event_id = new_event(total=10, starts_in=AT_THE_DOOR)
    made = book(api, alice, event_id, 2)
    staff = new_account("staff")
    listed = api.call("list_tickets", token=staff.token, path={"event_id": event_id}).body["items"]
    since = max(t["updated_at"] for t in listed)

    assert cancel_ticket(api, alice, made["id"], numbers(made)[1]).status == 200

    query = {"updated_since": since}
    changed = api.call("list_tickets", token=staff.token, path={"event_id": event_id}, query=query).body["items"]
    assert [(t["ticket_number"], t["status"]) for t in changed if t["updated_at"] > since] == [
        (numbers(made)[1], "CANCELLED")
    ]


# --- races ---


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with lambda_pool("cancel-ticket-race", 10) as workers:
        yield workers


def job(name: str, who: Account, **path: str) -> tuple[str, dict[str, Any]]:
    return name, {"token": who.token, "path": path}


def codes(results: list[Result]) -> Counter[tuple[int, str]]:
    return Counter((r.status, r.body["code"] if r.status >= 400 else "") for r in results)


def test_ten_racing_cancels_of_one_ticket_give_it_back_once(pool: Pool) -> None:
    event_id, buyer = new_event(total=10), new_account()
    made = call("create_booking", {"token": buyer.token, "path": {"event_id": event_id}, "body": {"quantity": 3}}).body
    ticket = numbers(made)[0]

    results = pool.starmap(call, [job("cancel_ticket", buyer, booking_id=made["id"], ticket_number=ticket)] * 10)

    assert codes(results) == {(200, ""): 1, (409, "TICKET_CANCELLED"): 9}, codes(results)
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (8, 2, True)
    assert quota_cancelled(event_id) == 1


def test_single_ticket_cancels_racing_a_whole_cancel_return_every_ticket_once(pool: Pool) -> None:
    event_id, buyer = new_event(total=20), new_account()
    body = {"token": buyer.token, "path": {"event_id": event_id}, "body": {"quantity": 4}}
    made = [call("create_booking", body).body for _ in range(2)]
    jobs = [job("cancel_ticket", buyer, booking_id=b["id"], ticket_number=n) for b in made for n in numbers(b)[:3]] + [
        job("cancel_booking", buyer, booking_id=b["id"]) for b in made
    ]

    results = pool.starmap(call, jobs)

    allowed = {(200, ""), (409, "TICKET_CANCELLED"), (409, "ALREADY_CANCELLED"), (409, "BUSY")}
    assert set(codes(results)) <= allowed, codes(results)
    state = ledger(event_id)
    assert state.balanced
    cancelled = len(state.ticket_numbers) - state.valid_tickets
    assert (state.available, quota_cancelled(event_id)) == (12 + cancelled, cancelled)
    wholes = [r for r in results[-2:] if r.status == 200]
    assert all({t["status"] for t in r.body["tickets"]} == {"CANCELLED"} for r in wholes)
    if (409, "BUSY") not in codes(results):  # each single went through or lost its ticket to the whole cancel
        assert cancelled == 8
    assert recount(event_id)["cancelled"] == cancelled
