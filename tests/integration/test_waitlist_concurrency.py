"""The waiting list under racing clients, through the handlers on threads over moto's server (every call
serialised, as `make run` runs it): one entry per user however many joins race, exact positions, and
returned tickets going only to the line while refreshing buyers race for them, with sold + held +
reserved + available == total at every instant sampled; racing joins and leaves keep each line shard's
count equal to its line items."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial

import pytest

from tests.support.bookings import Account, new_account, new_event
from tests.support.fixtures import SerialisedMoto, serialised_moto
from tests.support.handlers import Api, Result
from tests.support.holds import stock_now
from tests.support.waitlist import entries, join, tickets

WORKERS = 16


@pytest.fixture(scope="module")
def db() -> Iterator[SerialisedMoto]:
    with serialised_moto("waitlist-race") as database:
        yield database


def race(calls: list[Callable[[], Result]], workers: int = WORKERS) -> list[Result]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def cancel_as_a_client(buyer: Account, booking_id: str) -> Result:
    """A cancel as a client makes it: answered 409 BUSY (it lost its conflicts until its time ran out, nothing
    written; a transient answer on a loaded machine) it tries again."""
    for _ in range(10):
        result = Api().call("cancel_booking", token=buyer.token, path={"booking_id": booking_id})
        if result.body.get("code") != "BUSY":
            return result
    return result


def sold_out(total: int) -> tuple[str, Account, list[str]]:
    event_id = new_event(total=total)
    buyer = new_account()
    api = Api()
    booked = [
        api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1})
        for _ in range(total)
    ]
    return event_id, buyer, [b.body["id"] for b in booked]


def test_twenty_racing_joins_by_one_user_make_one_entry(db: SerialisedMoto) -> None:
    event_id, _, _ = sold_out(2)
    user = new_account()

    results = race([lambda: join(Api(), user, event_id)] * 20)

    assert Counter(r.status for r in results) == {201: 1, 409: 19}
    assert {r.body["code"] for r in results if r.status == 409} == {"ALREADY_WAITING"}
    assert len(entries(Api(), user).body["items"]) == 1
    assert tickets(event_id).waiting == 1


def test_thirty_racing_joins_get_exact_distinct_positions_in_join_order(db: SerialisedMoto) -> None:
    event_id, _, _ = sold_out(2)
    people = [new_account() for _ in range(30)]

    results = race([lambda who=who: join(Api(), who, event_id) for who in people])

    assert {r.status for r in results} == {201}
    listed = [entries(Api(), who).body["items"][0] for who in people]
    in_join_order = sorted(listed, key=lambda e: (datetime.fromisoformat(e["joined_at"]), e["id"]))
    assert [e["position"] for e in in_join_order] == list(range(1, 31))
    assert tickets(event_id).waiting == 30


def test_refreshing_buyers_never_get_tickets_returned_while_people_wait(db: SerialisedMoto) -> None:
    event_id, buyer, bookings = sold_out(10)
    line = [new_account() for _ in range(10)]
    for person in line:
        assert join(Api(), person, event_id).status == 201
    refreshers = [new_account() for _ in range(8)]
    done = threading.Event()
    samples: list[bool] = []
    won: list[Result] = []

    def refresh(who: Account) -> None:
        api = Api()
        while not done.is_set():
            for route in ("create_booking", "create_hold"):
                answer = api.call(route, token=who.token, path={"event_id": event_id}, body={"quantity": 1})
                if answer.status == 201:
                    won.append(answer)

    def sample() -> None:
        while not done.is_set():
            samples.append(stock_now(db, event_id).balanced)
            time.sleep(0.005)

    threads = [threading.Thread(target=refresh, args=(who,)) for who in refreshers]
    threads.append(threading.Thread(target=sample))
    for thread in threads:
        thread.start()
    try:
        api = Api()
        for booking_id in bookings:  # ten tickets come back, one by one, while the refreshers race
            assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking_id}).status == 200
    finally:
        done.set()
        for thread in threads:
            thread.join()

    assert won == []
    assert [entries(Api(), who).body["items"][0]["status"] for who in line] == ["OFFERED"] * 10
    final = stock_now(db, event_id)
    assert (final.held, final.reserved, final.available, final.sold) == (10, 0, 0, 0)
    assert final.balanced
    assert len(samples) > 20, len(samples)  # sampled throughout, between the racing transactions
    assert all(samples)


def test_allocators_racing_over_one_pool_never_offer_more_than_came_back(db: SerialisedMoto) -> None:
    """Ten cancels at once: ten allocators read the pool while the others offer from it. Twenty wait, so
    only the pool's own `reserved >= q` keeps them from offering more tickets than came back."""
    event_id, buyer, bookings = sold_out(10)
    line = [new_account() for _ in range(20)]
    for person in line:
        assert join(Api(), person, event_id).status == 201

    def cancel(booking_id: str) -> Result:
        return cancel_as_a_client(buyer, booking_id)

    assert {r.status for r in race([partial(cancel, b) for b in bookings], workers=10)} == {200}

    statuses = Counter(entries(Api(), who).body["items"][0]["status"] for who in line)
    assert statuses == {"OFFERED": 10, "WAITING": 10}
    final = stock_now(db, event_id)
    assert (final.held, final.reserved, final.available, final.sold) == (10, 0, 0, 0)
    assert final.balanced


def line_now(db: SerialisedMoto, event_id: str) -> tuple[list[int], list[int]]:
    """Per shard, the line items and the counter's `waiting`, as one instant (read under moto's lock)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from boxoffice.config import settings
    from boxoffice.store import line
    from boxoffice.store.dynamo import load

    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].tables
    with db.lock:
        items = {
            pk: [i.to_json() for i in by_sk.values()]
            for pk, by_sk in tables[settings().events_table].items.items()
            if pk.value.startswith(("LINE#", "LINECOUNT#")) and event_id in pk.value
        }
    decoded = {pk.value: [load(i["Attributes"]) for i in found] for pk, found in items.items()}
    in_line = [len(decoded.get(line.line_pk(event_id, k), [])) for k in range(line.LINE_SHARDS)]
    counted = [
        sum(int(c.get("waiting", 0)) for c in decoded.get(line.counter_key(event_id, k)["pk"], []))
        for k in range(line.LINE_SHARDS)
    ]
    return in_line, counted


def test_racing_joins_and_leaves_keep_every_shards_count_equal_to_its_line(db: SerialisedMoto) -> None:
    event_id, _, _ = sold_out(1)
    people = [new_account() for _ in range(24)]
    done = threading.Event()
    samples: list[tuple[list[int], list[int]]] = []

    def sample() -> None:
        while not done.is_set():
            samples.append(line_now(db, event_id))
            time.sleep(0.002)

    def join_and_maybe_leave(n: int) -> Result:
        joined = join(Api(), people[n], event_id)
        if n % 2 or joined.status != 201:
            return joined
        return Api().call("leave_waiting_list", token=people[n].token, path={"entry_id": joined.body["id"]})

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        results = race([partial(join_and_maybe_leave, n) for n in range(len(people))], workers=12)
    finally:
        done.set()
        sampler.join()

    assert {r.status for r in results} == {200, 201}
    in_line, counted = line_now(db, event_id)
    assert in_line == counted
    assert sum(counted) == tickets(event_id).waiting == 12
    assert len([n for n in in_line if n]) > 1  # spread over several shards
    assert len(samples) > 5, len(samples)
    assert all(items == counts for items, counts in samples)


def test_returns_racing_the_first_joins_of_a_sharded_event_never_go_on_sale_while_anyone_waits(
    db: SerialisedMoto,
) -> None:
    """Cancels of tickets from every stock shard race the event's first joins: the first join marks every
    shard's quota in its own transaction, and a return to open sale in shards other than 0 checks that mark
    on its own shard; so a ticket may go back on sale only before the joins (which then see it and are taken
    back), never while anyone stands in the line."""
    for _ in range(4):
        event_id = new_event(total=8, inventory_shards=4)
        buyer, api = new_account(), Api()
        bookings = [
            api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1}).body["id"]
            for _ in range(8)
        ]
        people = [new_account() for _ in range(2)]

        def cancel(booking_id: str) -> Result:
            return cancel_as_a_client(buyer, booking_id)

        calls = [partial(join, Api(), who, event_id) for who in people] + [partial(cancel, b) for b in bookings[:5]]
        results = race(calls, workers=len(calls))

        assert {r.status for r in results[2:]} == {200}
        assert {(r.status, r.body.get("code")) for r in results[:2]} <= {(201, None), (409, "TICKETS_AVAILABLE")}
        final = stock_now(db, event_id)
        waiting = [s for s in (e.body["items"] for e in (entries(Api(), who) for who in people)) if s]
        still = [s[0]["status"] for s in waiting if s[0]["status"] == "WAITING"]
        assert not (still and final.available), (still, final)
        assert final.balanced
