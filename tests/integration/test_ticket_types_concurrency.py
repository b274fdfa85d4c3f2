"""Ticket types under real concurrency: the handlers run by 32 threads at once over moto's server (every
call serialised, as the local runtime does), so requests interleave between their reads and their
transactions exactly where real ones would race (see tests.support.bookings.lambda_pool)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from multiprocessing.pool import Pool
from typing import Any

import pytest

from tests.support.bookings import Account, call, lambda_pool, ledger, new_account, new_event, type_ids
from tests.support.handlers import Result

WORKERS = 32
# Sub-quotas adding up to 150 over an event quota of 100: the event's quota binds first.
TIERS = [
    {"name": "Early bird", "price": "30.00", "total_tickets": 60},
    {"name": "Standard", "price": "45.00", "total_tickets": 50},
    {"name": "VIP", "price": "120.00", "total_tickets": 40},
]


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with lambda_pool("tickettypes-race", WORKERS) as workers:
        yield workers


def booking(who: Account, event_id: str, quantity: int, type_id: str) -> tuple[str, dict[str, Any]]:
    body = {"quantity": quantity, "ticket_type_id": type_id}
    return "create_booking", {"token": who.token, "path": {"event_id": event_id}, "body": body}


def codes(results: list[Result]) -> Counter[tuple[int, str]]:
    return Counter((r.status, r.body["code"] if r.status >= 400 else "") for r in results)


def test_three_hundred_attempts_over_three_types_sell_exactly_the_event_quota(pool: Pool) -> None:
    event_id = new_event(total=100, types=TIERS)
    ids = type_ids(event_id)
    buyers = [new_account() for _ in range(40)]
    rng = random.Random(10)
    jobs = [
        booking(rng.choice(buyers), event_id, rng.randint(1, 4), rng.choice(list(ids.values()))) for _ in range(300)
    ]

    results = pool.starmap(call, jobs, chunksize=1)

    assert set(codes(results)) <= {(201, ""), (409, "SOLD_OUT"), (409, "NOT_ENOUGH_TICKETS")}, codes(results)
    sold = [r.body for r in results if r.status == 201]
    assert sum(b["quantity"] for b in sold) == 100
    by_type = Counter[str]()
    for b in sold:
        by_type[b["ticket_type"]["name"]] += b["quantity"]
    for tier in TIERS:
        assert by_type[tier["name"]] <= tier["total_tickets"], by_type
    state = ledger(event_id)
    assert (state.available, state.sold, state.valid_tickets, state.balanced) == (0, 100, 100, True)
    assert {name: state.types[ids[name]].sold for name in ids} == {name: by_type[name] for name in ids}
    assert len(set(state.ticket_numbers)) == 100


def editor_session(token: str, event_id: str, type_id: str, seed: float) -> list[tuple[str, int, str]]:
    """Move one type's sub-quota up and down (runs in a pool thread)."""
    rng, answers = random.Random(seed), []
    for _ in range(15):
        path = {"event_id": event_id, "ticket_type_id": type_id}
        result = call(
            "update_ticket_type", {"token": token, "path": path, "body": {"total_tickets": rng.randint(5, 40)}}
        )
        if result.status == 200:
            body = result.body
            assert 0 <= body["available_tickets"] <= body["total_tickets"], body
        answers.append(("edit", result.status, result.body.get("code", "") if result.status >= 400 else ""))
    return answers


def buyer_session(token: str, event_id: str, type_id: str, seed: float) -> list[tuple[str, int, str]]:
    rng, answers = random.Random(seed), []
    for _ in range(8):
        result = call(*booking(Account("", "", "", token), event_id, rng.randint(1, 3), type_id))
        answers.append(("book", result.status, result.body.get("code", "") if result.status >= 400 else ""))
    return answers


def test_a_types_capacity_edits_racing_bookings_never_go_below_what_it_sold(pool: Pool) -> None:
    event_id = new_event(total=200, types=TIERS)
    vip = type_ids(event_id)["VIP"]
    admin = new_account("admin")
    rng = random.Random(11)
    sessions = [pool.apply_async(editor_session, (admin.token, event_id, vip, rng.random())) for _ in range(3)]
    sessions += [pool.apply_async(buyer_session, (new_account().token, event_id, vip, rng.random())) for _ in range(12)]
    answers: Counter[tuple[str, int, str]] = Counter()
    for session in sessions:
        answers.update(session.get(timeout=300))

    allowed = {
        ("book", 201, ""),
        ("book", 409, "SOLD_OUT"),
        ("book", 409, "NOT_ENOUGH_TICKETS"),
        ("book", 409, "BUSY"),
        ("edit", 200, ""),
        ("edit", 409, "CAPACITY_BELOW_SOLD"),
        ("edit", 409, "BUSY"),
    }
    assert set(answers) <= allowed, answers
    assert answers[("book", 201, "")] > 0, answers
    assert answers[("edit", 200, "")] > 0, answers
    state = ledger(event_id)
    kind = state.types[vip]
    assert kind.total is not None
    assert kind.available is not None
    assert kind.available >= 0, kind
    assert kind.available + kind.sold == kind.total, kind
    assert state.balanced, state


def test_twenty_parallel_bookings_by_one_user_against_a_cap_of_four_sell_exactly_four(pool: Pool) -> None:
    event_id = new_event(total=100, types=TIERS, per_user=4)
    ids = list(type_ids(event_id).values())
    scalper = new_account()

    results = pool.starmap(call, [booking(scalper, event_id, 1, ids[n % 3]) for n in range(20)], chunksize=1)

    assert codes(results) == Counter({(201, ""): 4, (409, "USER_LIMIT_REACHED"): 16})
    assert {r.body["remaining"] for r in results if r.status == 409} == {0}
    state = ledger(event_id)
    assert (state.sold, state.balanced) == (4, True)
