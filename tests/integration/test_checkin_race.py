"""Check-in under real concurrency: simultaneous scans of one ticket, and scans racing a cancel.

The handlers run on threads, each call in a function instance of its own, against moto's server with
every call serialised (tests.support.bookings.lambda_pool): requests interleave exactly where real
ones would race, between their reads and their transactions.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from multiprocessing.pool import Pool
from typing import Any

import pytest

from tests.support.bookings import AT_THE_DOOR, Account, call, lambda_pool, ledger, new_account, new_event
from tests.support.handlers import Result

WORKERS = 32


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with lambda_pool("checkin-race", WORKERS) as workers:
        yield workers


def codes(results: list[Result]) -> Counter[tuple[int, str]]:
    return Counter((r.status, r.body["code"] if r.status >= 400 else "") for r in results)


def book(buyer: Account, event_id: str, quantity: int) -> dict[str, Any]:
    args = {"token": buyer.token, "path": {"event_id": event_id}, "body": {"quantity": quantity}}
    result = call("create_booking", args)
    assert result.status == 201, result.body
    body: dict[str, Any] = result.body
    return body


def scan(staff: Account, event_id: str, code: str) -> tuple[str, dict[str, Any]]:
    return "check_in", {"token": staff.token, "path": {"event_id": event_id}, "body": {"code": code}}


def after(delay: float, name: str, kwargs: dict[str, Any]) -> Result:
    """A handler call that starts `delay` seconds late (in a pool thread)."""
    time.sleep(delay)
    return call(name, kwargs)


def test_fifty_simultaneous_scans_of_one_ticket_let_it_in_once(pool: Pool) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR)
    ticket = book(new_account(), event_id, 1)["tickets"][0]
    scanners = [new_account("staff") for _ in range(5)]

    results = pool.starmap(call, [scan(scanners[i % 5], event_id, ticket["code"]) for i in range(50)], chunksize=1)

    assert codes(results) == {(200, ""): 1, (409, "ALREADY_CHECKED_IN"): 49}, codes(results)
    (winner,) = [r.body for r in results if r.status == 200]
    first = winner["checked_in_at"]  # the same instant, written the same way
    assert {r.body["checked_in_at"] for r in results if r.status == 409} == {first}


def test_scans_racing_a_cancel_never_both_win(pool: Pool) -> None:
    outcomes: Counter[str] = Counter()
    staff = new_account("staff")
    for round_ in range(8):
        event_id = new_event(starts_in=AT_THE_DOOR)
        buyer = new_account()
        booking = book(buyer, event_id, 2)
        code = booking["tickets"][round_ % 2]["code"]
        cancel = (0.0, "cancel_booking", {"token": buyer.token, "path": {"booking_id": booking["id"]}})
        # The scans start a little later each round, spread out, so the cancel commits before, among or
        # after them.
        start = 0.008 * round_
        jobs = [cancel, *((start + 0.001 * i, *scan(staff, event_id, code)) for i in range(20))]

        before = ledger(event_id)
        results = pool.starmap(after, jobs, chunksize=1)

        cancelled, scans = results[0], codes(results[1:])
        if cancelled.status == 200:
            outcomes["cancel won"] += 1
            assert scans == {(409, "TICKET_CANCELLED"): 20}, scans
            assert ledger(event_id).available == before.available + 2
        else:
            outcomes["a scan won"] += 1
            assert (cancelled.status, cancelled.body["code"]) == (409, "TICKET_USED"), cancelled.body
            assert scans == {(200, ""): 1, (409, "ALREADY_CHECKED_IN"): 19}, scans
            assert ledger(event_id).valid_tickets == before.valid_tickets - 1  # the scanned one is CHECKED_IN
    assert sum(outcomes.values()) == 8
