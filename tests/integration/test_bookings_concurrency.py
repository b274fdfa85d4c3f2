"""The booking invariants under real concurrency: the handlers run by 32 threads at once.

Each call takes its own function instance, as each Lambda execution environment serves one request
(see tests.support.bookings.lambda_pool). They share moto's server with every call serialised, as
the local runtime does, so requests interleave between their reads and their transactions exactly
where real ones would race.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from multiprocessing.pool import Pool
from typing import Any

import pytest

from tests.support.bookings import Account, bookings_of, call, lambda_pool, ledger, new_account, new_event
from tests.support.handlers import Api, Result

WORKERS = 32


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with lambda_pool("bookings-race", WORKERS) as workers:
        yield workers


def run(pool: Pool, jobs: list[tuple[str, dict[str, Any]]]) -> list[Result]:
    return pool.starmap(call, jobs, chunksize=1)


def booking(who: Account, event_id: str, quantity: int, key: str | None = None) -> tuple[str, dict[str, Any]]:
    headers = {"Idempotency-Key": key} if key else None
    args = {"token": who.token, "path": {"event_id": event_id}, "body": {"quantity": quantity}, "headers": headers}
    return "create_booking", args


def codes(results: list[Result]) -> Counter[tuple[int, str]]:
    return Counter((r.status, r.body["code"] if r.status >= 400 else "") for r in results)


def test_three_hundred_attempts_on_the_last_hundred_tickets_sell_exactly_a_hundred(pool: Pool) -> None:
    event_id = new_event(total=150, per_booking=10)
    early = new_account()
    assert {r.status for r in run(pool, [booking(early, event_id, 10)] * 5)} == {201}  # 50 sold before the rush
    buyers = [new_account() for _ in range(40)]
    rng = random.Random(1000)

    results = run(pool, [booking(rng.choice(buyers), event_id, rng.randint(1, 4)) for _ in range(300)])

    assert set(codes(results)) <= {(201, ""), (409, "SOLD_OUT"), (409, "NOT_ENOUGH_TICKETS")}, codes(results)
    sold = [r.body for r in results if r.status == 201]
    assert sum(b["quantity"] for b in sold) == 100
    numbers = [t["ticket_number"] for b in sold for t in b["tickets"]]
    assert len(numbers) == len(set(numbers)) == 100
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.confirmed_quantity) == (0, 150, 150)
    assert len(set(state.ticket_numbers)) == 150


def test_twenty_concurrent_cancels_release_the_tickets_once(pool: Pool) -> None:
    event_id = new_event(total=10)
    owner = new_account()
    booking_id = call(*booking(owner, event_id, 4)).body["id"]

    results = run(pool, [("cancel_booking", {"token": owner.token, "path": {"booking_id": booking_id}})] * 20)

    assert codes(results) == Counter({(200, ""): 1, (409, "ALREADY_CANCELLED"): 19})
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (10, 0, True)


def test_twenty_concurrent_requests_with_one_idempotency_key_make_one_booking(pool: Pool) -> None:
    event_id = new_event(total=10)
    owner = new_account()

    results = run(pool, [booking(owner, event_id, 3, key="checkout-7")] * 20)

    assert {r.status for r in results} == {201}
    assert len({r.body["id"] for r in results}) == 1
    assert all(r.body == results[0].body for r in results)
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 19
    assert len(bookings_of(owner.id)) == 1
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (7, 3, True)


def buyer_session(token: str, event_id: str, seed: float) -> list[tuple[str, int, str]]:
    """Book 1-4 tickets at a time and cancel some of one's own bookings (runs in a pool thread)."""
    api, rng, mine, answers = Api(), random.Random(seed), [], []
    for _ in range(10):
        if mine and rng.random() < 0.35:
            kind, result = "cancel", api.call("cancel_booking", token=token, path={"booking_id": mine.pop(0)})
        else:
            kind = "book"
            result = api.call(
                "create_booking", token=token, path={"event_id": event_id}, body={"quantity": rng.randint(1, 4)}
            )
            if result.status == 201:
                mine.append(result.body["id"])
        answers.append((kind, result.status, result.body.get("code", "") if result.status >= 400 else ""))
    return answers


def editor_session(token: str, event_id: str, seed: float) -> list[tuple[str, int, str]]:
    """Move the capacity up and down (runs in a pool thread)."""
    api, rng, answers = Api(), random.Random(seed), []
    for _ in range(10):
        body = {"total_tickets": rng.randint(30, 90)}
        result = api.call("update_event", token=token, path={"event_id": event_id}, body=body)
        answers.append(("edit", result.status, result.body.get("code", "") if result.status >= 400 else ""))
    return answers


def test_bookings_cancels_and_capacity_edits_racing_keep_available_plus_sold_equal_to_total(pool: Pool) -> None:
    event_id = new_event(total=60, per_booking=4)
    admin = new_account("admin")
    buyers = [new_account() for _ in range(12)]
    rng = random.Random(7)
    answers: Counter[tuple[str, int, str]] = Counter()

    for round_ in range(2):
        sessions = [pool.apply_async(editor_session, (admin.token, event_id, rng.random())) for _ in range(2)]
        sessions += [pool.apply_async(buyer_session, (b.token, event_id, rng.random())) for b in buyers]
        for session in sessions:
            answers.update(session.get(timeout=120))
        state = ledger(event_id)
        assert state.balanced, (round_, state)

    allowed = {
        ("book", 201, ""),
        ("book", 409, "SOLD_OUT"),
        ("book", 409, "NOT_ENOUGH_TICKETS"),
        ("book", 409, "BUSY"),
        ("cancel", 200, ""),
        ("cancel", 409, "BUSY"),
        ("edit", 200, ""),
        ("edit", 409, "CAPACITY_BELOW_SOLD"),
        ("edit", 409, "BUSY"),
    }
    assert set(answers) <= allowed, answers
    # Each kind of request both happened and won some races.
    assert min(answers[("book", 201, "")], answers[("cancel", 200, "")], answers[("edit", 200, "")]) > 0
    assert answers[("book", 409, "SOLD_OUT")] + answers[("book", 409, "NOT_ENOUGH_TICKETS")] > 0
