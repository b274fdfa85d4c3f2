"""Sharded inventory (issue 20): an event's open stock split over stock shards, each a partition of its
own. Races run threads through the handlers over the embedded database (every call serialised, as `make
run` runs it); `stock_now` reads every shard at one instant. Promises: never oversold (sold + held +
reserved + available == total at every sample) and never stranded (demand above supply sells all of it,
fragments left in several shards joined by one booking)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from devserver.dynamodb import EmbeddedDynamoDB
from tests.support.bookings import Account, new_account, new_event
from tests.support.fixtures import embedded_database
from tests.support.handlers import Api, Result
from tests.support.holds import stock_now


@pytest.fixture(scope="module")
def db() -> Iterator[EmbeddedDynamoDB]:
    with embedded_database("shards") as database:
        yield database


def race(calls: list[Callable[[], Result]], workers: int = 16) -> list[Result]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def codes(results: list[Result]) -> Counter[tuple[int, str]]:
    return Counter((r.status, r.body["code"] if r.status >= 400 else "") for r in results)


def book(who: Account, event_id: str, quantity: int) -> Result:
    return Api().call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def test_more_one_ticket_buyers_than_tickets_over_sixteen_shards_buy_exactly_every_ticket(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=160, inventory_shards=16)
    buyers = [new_account() for _ in range(20)]
    results = race([lambda who=who: book(who, event_id, 1) for who in buyers * 10])
    assert set(codes(results)) <= {(201, ""), (409, "SOLD_OUT"), (409, "BUSY")}, codes(results)
    assert sum(r.status == 201 for r in results) == 160
    state = stock_now(db, event_id)
    assert (state.sold, state.available, state.balanced) == (160, 0, True)
