"""Capacity edits racing bookings (and each other) keep available + sold == total.

Threads call the domain function against moto's server (every call serialised, as `make run` runs
it); bookings are simulated by what a booking does to the event: a conditional decrement of
available_tickets. Powertools' resolver keeps the request in progress on shared state, so the racers
call the domain function rather than the handler; the handler on top of it is tested elsewhere.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from boxoffice import auth
from boxoffice.errors import Busy, CapacityBelowSold
from boxoffice.logic import events
from boxoffice.models.events import UpdateEvent
from tests.support.events import create, raw_quota, sell, token_for
from tests.support.fixtures import serialised_moto
from tests.support.handlers import Api

CAPACITY = 40
BUYERS = 6
EDITORS = 3
EDITS_EACH = 8


@pytest.fixture
def api() -> Iterator[Api]:
    with serialised_moto("cap"):
        yield Api()


def run_all(workers: list[Callable[[], None]]) -> None:
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def wrapped(work: Callable[[], None]) -> None:
        start.wait()
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - surfaced below, with its traceback
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_capacity_edits_racing_bookings_never_break_available_plus_sold_equals_total(api: Api) -> None:
    token = token_for(api, role="admin")
    admin = auth.read_token(f"Bearer {token}")
    event_id = create(api, token, total_tickets=CAPACITY)["id"]
    sold = Counter[str]()
    outcomes = Counter[str]()
    lock = threading.Lock()

    def buyer() -> None:
        misses = 0
        while misses < 5:  # keep buying until the event has looked sold out a few times
            if sell(event_id):
                with lock:
                    sold["tickets"] += 1
            else:
                misses += 1

    def editor(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(EDITS_EACH):
            total = rng.randint(10, 70)
            try:
                event = events.update_event(admin, event_id, UpdateEvent(total_tickets=total))
            except CapacityBelowSold:
                outcome = "below sold"
            except Busy:
                outcome = "busy"
            else:
                assert 0 <= event.available_tickets <= event.total_tickets
                outcome = "changed"
            with lock:
                outcomes[outcome] += 1

    run_all([buyer] * BUYERS + [lambda s=s: editor(s) for s in range(EDITORS)])  # type: ignore[misc]

    item = raw_quota(event_id)
    assert item is not None
    assert item["available_tickets"] >= 0
    assert item["available_tickets"] + sold["tickets"] == item["total_tickets"]
    assert outcomes["changed"] > 0, outcomes
    assert sum(outcomes.values()) == EDITORS * EDITS_EACH


def test_concurrent_capacity_edits_each_move_available_by_their_own_delta(api: Api) -> None:
    token = token_for(api, role="admin")
    admin = auth.read_token(f"Bearer {token}")
    event_id = create(api, token, total_tickets=CAPACITY)["id"]
    assert sell(event_id, 15)
    totals = [CAPACITY + 5 * n for n in range(1, 9)]
    applied: list[int] = []

    def edit(total: int) -> None:
        try:
            events.update_event(admin, event_id, UpdateEvent(total_tickets=total))
        except Busy:  # lost every retry to the others: a 409 the client may retry
            return
        applied.append(total)

    run_all([lambda t=t: edit(t) for t in totals])  # type: ignore[misc]
    item = raw_quota(event_id)
    assert item is not None
    assert applied
    assert item["total_tickets"] in applied
    assert item["available_tickets"] == item["total_tickets"] - 15
