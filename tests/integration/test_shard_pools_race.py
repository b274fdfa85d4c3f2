"""Per-shard pools under racing clients (threads over moto's server, every call serialised): cancels that
return tickets to several stock shards' pools, allocators and the sweeper handing them on at once keep
sold + held + reserved + available == total at every instant sampled, and never offer more tickets than
came back."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from boxoffice.logic import offers
from tests.integration.test_waitlist_concurrency import cancel_as_a_client
from tests.support.bookings import new_account, new_event
from tests.support.fixtures import SerialisedMoto, serialised_moto
from tests.support.handlers import Api
from tests.support.holds import stock_now
from tests.support.waitlist import entries, join

SHARDS, TOTAL, WAITING = 4, 8, 12


@pytest.fixture(scope="module")
def db() -> Iterator[SerialisedMoto]:
    with serialised_moto("shard-pools-race") as database:
        yield database


def test_returns_allocators_and_the_sweeper_racing_over_shard_pools_offer_each_ticket_once(
    db: SerialisedMoto,
) -> None:
    event_id = new_event(total=TOTAL, inventory_shards=SHARDS)
    buyer, api = new_account(), Api()
    bookings = [
        api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1}).body["id"]
        for _ in range(TOTAL)
    ]
    line = [new_account() for _ in range(WAITING)]
    for person in line:
        assert join(api, person, event_id).status == 201
    done = threading.Event()
    samples: list[bool] = []

    def sample() -> None:
        while not done.is_set():
            samples.append(stock_now(db, event_id).balanced)
            time.sleep(0.005)

    def hand_on(sweeping: bool) -> None:  # other processes' allocators, and the sweeper, all the while
        while not done.is_set():
            offers.sweep() if sweeping else offers.allocate(event_id)

    threads = [threading.Thread(target=sample)] + [
        threading.Thread(target=hand_on, args=(sweeping,)) for sweeping in (True, False, False)
    ]
    for thread in threads:
        thread.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            cancelled = list(pool.map(lambda b: cancel_as_a_client(buyer, b).status, bookings))
    finally:
        done.set()
        for thread in threads:
            thread.join()

    assert set(cancelled) == {200}
    offers.sweep()  # whatever a cut-short hand-on left
    statuses = Counter(entries(Api(), who).body["items"][0]["status"] for who in line)
    assert statuses == {"OFFERED": TOTAL, "WAITING": WAITING - TOTAL}
    final = stock_now(db, event_id)
    assert (final.held, final.reserved, final.available, final.sold) == (TOTAL, 0, 0, 0)
    assert final.balanced
    assert len(samples) > 10, len(samples)
    assert all(samples)
