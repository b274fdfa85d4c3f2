"""Holds under racing clients, through the handlers on threads over moto's server (every call
serialised, as `make run` runs it): nothing is held twice, released twice, or both confirmed and
released, and sold + held + reserved + available == total at every instant sampled."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.store import holds as hold_store
from tests.support.bookings import Account, new_account, new_event
from tests.support.fixtures import SerialisedMoto, serialised_moto
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, Stock, confirm, place, stock_now, sweep

WORKERS = 32


@pytest.fixture(scope="module")
def db() -> Iterator[SerialisedMoto]:
    with serialised_moto("holds-race") as database:
        yield database


@pytest.fixture
def releases(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every committed release transaction, by hold id."""
    committed: Counter[str] = Counter()
    lock = threading.Lock()
    real = hold_store._release

    def counted(hold: hold_store.HoldRecord, pool: str, **kwargs: Any) -> None:
        real(hold, pool, **kwargs)  # returns only once its transaction committed
        with lock:
            committed[hold.id] += 1

    monkeypatch.setattr(hold_store, "_release", counted)
    return committed


def race(calls: list[Callable[[], Result]], workers: int = WORKERS) -> list[Result]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def codes(results: list[Result]) -> Counter[tuple[int, str]]:
    return Counter((r.status, r.body["code"] if r.status >= 400 else "") for r in results)


def test_a_hundred_and_fifty_concurrent_holds_on_the_last_fifty_tickets_hold_exactly_fifty(
    db: SerialisedMoto,
) -> None:
    event_id = new_event(total=100, max_held_tickets_per_user=50, max_holds_per_user=5)
    early = new_account()
    assert all(place(Api(), early, event_id, 10).status == 201 for _ in range(5))  # 50 off sale before the rush
    buyers = [new_account() for _ in range(50)]
    results = race([lambda who=who: place(Api(), who, event_id, 1) for who in buyers * 3])
    assert set(codes(results)) <= {(201, ""), (409, "SOLD_OUT")}, codes(results)
    assert sum(r.status == 201 for r in results) == 50
    state = stock_now(db, event_id)
    assert (state.available, state.held, state.sold, len(state.holds), state.balanced) == (0, 100, 0, 55, True)


def test_holds_expiring_while_bookings_race_keep_the_stock_whole_and_each_goes_back_once(
    db: SerialisedMoto, releases: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = Clock(monkeypatch)
    event_id = new_event(total=50)
    holders = [new_account() for _ in range(10)]
    held = [place(Api(), who, event_id, 3).body["id"] for who in holders]  # 30 held, 20 on sale
    moment.advance(settings().hold_seconds)  # every hold has expired; none is swept yet
    buyers = [new_account() for _ in range(20)]
    samples: list[Stock] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):  # a pause between samples: each one holds every request up
            samples.append(stock_now(db, event_id))

    def sweeper() -> None:
        while not done.wait(0.05):
            sweep()

    watchers = [threading.Thread(target=sample), threading.Thread(target=sweeper)]
    for thread in watchers:
        thread.start()
    rng = random.Random(300)
    calls = [
        lambda who=rng.choice(buyers): Api().call(
            "create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": 1}
        )
        for _ in range(150)
    ]
    try:
        # Fewer clients than elsewhere: beside them the sampler and the sweeper hold moto's one lock too,
        # and each request must get through its queue within the invocation's time budget.
        results = race(calls, workers=16)
    finally:
        done.set()
        for thread in watchers:
            thread.join()

    assert set(codes(results)) <= {(201, ""), (409, "SOLD_OUT")}, codes(results)
    assert sum(r.status == 201 for r in results) == 50  # the 20 on sale and the 30 that expired
    assert len(samples) > 10
    assert all(s.balanced for s in samples), [s for s in samples if not s.balanced][:1]
    final = stock_now(db, event_id)
    assert (final.sold, final.held, final.available, final.balanced) == (50, 0, 0, True)
    assert final.holds == dict.fromkeys(held, "EXPIRED")
    # One committed release transaction per hold (the sweeper also released other tests' expired holds, once each).
    assert {hold_id: releases[hold_id] for hold_id in held} == dict.fromkeys(held, 1)
    assert set(releases.values()) == {1}


def test_twenty_concurrent_confirms_of_one_hold_make_one_booking(db: SerialisedMoto) -> None:
    event_id = new_event(total=10)
    who = new_account()
    hold_id = place(Api(), who, event_id, 2).body["id"]
    results = race([lambda: confirm(Api(), who, hold_id)] * 20)
    assert {r.status for r in results} == {201}, codes(results)
    assert len({r.body["id"] for r in results}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in results) == 1
    state = stock_now(db, event_id)
    assert (state.sold, state.held, state.available, state.holds) == (2, 0, 8, {hold_id: "CONFIRMED"})
    assert state.balanced


def test_a_confirm_racing_the_sweeper_at_the_deadline_either_books_or_releases_never_both(
    db: SerialisedMoto, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each thread has its own "now": the buyer's a millisecond before the deadline, the sweeper's at
    # it, so each one's condition alone would pass and only the transactions' order decides.
    local = threading.local()
    base = clock.now()
    monkeypatch.setattr(clock, "now", lambda: getattr(local, "now", base))
    event_id = new_event(total=40)
    outcomes: Counter[str] = Counter()
    for _ in range(20):
        local.now = clock.now()
        who = new_account()  # one each: a swept hold's cool-down would keep its holder from the next round
        hold = place(Api(), who, event_id, 2).body
        deadline = datetime.fromisoformat(hold["expires_at"])

        def buyer(deadline: datetime = deadline, hold_id: str = hold["id"], who: Account = who) -> Result:
            local.now = deadline - timedelta(milliseconds=1)
            return confirm(Api(), who, hold_id)

        def sweeper(deadline: datetime = deadline) -> int:
            local.now = deadline
            return sweep()

        with ThreadPoolExecutor(2) as pool:
            confirmed, released = pool.submit(buyer), pool.submit(sweeper)
            booked, swept = confirmed.result().status == 201, released.result() == 1
        assert booked != swept, (booked, swept)
        state = stock_now(db, event_id)
        assert state.holds[hold["id"]] == ("CONFIRMED" if booked else "EXPIRED")
        assert state.balanced
        outcomes["booked" if booked else "released"] += 1
    assert sum(outcomes.values()) == 20


def test_one_accounts_racing_holds_never_pass_its_ceilings(db: SerialisedMoto) -> None:
    event_id = new_event(total=500, max_held_tickets_per_user=7, max_holds_per_user=5)
    hoarder = new_account()
    results = race([lambda: place(Api(), hoarder, event_id, 2) for _ in range(WORKERS)])
    assert set(codes(results)) <= {(201, ""), (409, "HOLD_LIMIT_REACHED")}, codes(results)
    assert sum(r.status == 201 for r in results) == 3  # 3 holds of 2: a 4th would make 8 > 7
    state = stock_now(db, event_id)
    assert (state.held, len(state.holds), state.balanced) == (6, 3, True)
    ones = race([lambda: place(Api(), hoarder, event_id, 1) for _ in range(WORKERS)])
    assert sum(r.status == 201 for r in ones) == 1  # the 7th ticket, in the 4th hold
    state = stock_now(db, event_id)
    assert (state.held, len(state.holds), state.balanced) == (7, 4, True)


def test_racing_holds_with_one_idempotency_key_make_one_hold(db: SerialisedMoto) -> None:
    event_id = new_event(total=100)
    buyer = new_account()

    def hold() -> Result:
        return Api().call(
            "create_hold",
            token=buyer.token,
            path={"event_id": event_id},
            body={"quantity": 2},
            headers={"Idempotency-Key": "retry-after-timeout"},
        )

    results = race([hold for _ in range(WORKERS)])
    assert codes(results) == {(201, ""): WORKERS}, codes(results)
    assert len({r.body["id"] for r in results}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in results) == 1
    state = stock_now(db, event_id)
    assert (state.held, len(state.holds), state.balanced) == (2, 1, True)
