"""Joins, leaves, returns and unmarks racing on a sharded event, through the handlers on threads over moto
(every call serialised, as `make run` runs it): whenever anyone waits, every stock shard carries the
line's mark (sampled between the racing transactions), and no returned ticket is on open sale while anyone
still waits."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from boxoffice.store import inventory, line, marks
from tests.support.bookings import Account, new_account, new_event
from tests.support.fixtures import SerialisedMoto, serialised_moto
from tests.support.handlers import Api, Result
from tests.support.holds import stock_now
from tests.support.waitlist import join, leave

SHARDS = 3


@pytest.fixture(scope="module")
def db() -> Iterator[SerialisedMoto]:
    with serialised_moto("unmark-race") as database:
        yield database


def marks_now(db: SerialisedMoto, event_id: str) -> tuple[list[int], list[bool]]:
    """The line counters' `waiting` and whether each stock shard's quota is marked, as one instant."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from boxoffice.config import settings
    from boxoffice.store.dynamo import load

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].tables[settings().events_table]
    wanted = [line.counter_key(event_id, k) for k in range(line.LINE_SHARDS)]
    wanted += [inventory.quota_key(event_id, k) for k in range(SHARDS)]
    with db.lock:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for pk, by_sk in table.items.items():
            if event_id in pk.value:
                for item in by_sk.values():
                    loaded = load(item.to_json()["Attributes"])
                    found[(loaded["pk"], loaded["sk"])] = loaded
    items = [found.get((key["pk"], key["sk"]), {}) for key in wanted]
    waiting = [int(i.get("waiting", 0)) for i in items[: line.LINE_SHARDS]]
    return waiting, [inventory.LINE_USED in i for i in items[line.LINE_SHARDS :]]


def cancel_as_a_client(buyer: Account, booking_id: str) -> Result:
    """A cancel tried again on 409 BUSY, as a client would (nothing was written)."""
    for _ in range(10):
        result = Api().call("cancel_booking", token=buyer.token, path={"booking_id": booking_id})
        if result.body.get("code") != "BUSY":
            return result
    return result


def test_joins_leaves_returns_and_unmarks_racing_never_leave_a_shard_unmarked_while_anyone_waits(
    db: SerialisedMoto, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(marks, "DEBOUNCE_SECONDS", 0.0)  # every unmark tried, whatever failed before
    event_id = new_event(total=2 * SHARDS, inventory_shards=SHARDS)
    buyer, api = new_account(), Api()
    bookings = [
        api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1}).body["id"]
        for _ in range(2 * SHARDS)
    ]
    people = [new_account() for _ in range(6)]
    done = threading.Event()
    samples: list[tuple[list[int], list[bool]]] = []

    def sample() -> None:
        while not done.is_set():
            samples.append(marks_now(db, event_id))
            time.sleep(0.002)

    def unmarking() -> None:
        while not done.is_set():
            marks.unmark(event_id)
            time.sleep(0.003)

    def join_and_leave(who: Account) -> None:
        for _ in range(2):
            joined = join(Api(), who, event_id)
            if joined.status == 201 and joined.body["status"] == "WAITING":
                leave(Api(), who, joined.body["id"])

    background = [threading.Thread(target=sample), threading.Thread(target=unmarking)]
    for thread in background:
        thread.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            joining = [pool.submit(join_and_leave, who) for who in people[:4]]
            cancels = [pool.submit(cancel_as_a_client, buyer, b) for b in bookings[:3]]
            for future in joining:
                future.result()
            assert {c.result().status for c in cancels} == {200}
    finally:
        done.set()
        for thread in background:
            thread.join()

    assert len(samples) > 10, len(samples)
    unmarked_while_waiting = [s for s in samples if any(s[0]) and not all(s[1])]
    assert unmarked_while_waiting == []
    waiting, _ = marks_now(db, event_id)
    final = stock_now(db, event_id)
    assert not (any(waiting) and final.available), (waiting, final)
    assert final.balanced
    # Whatever the race left, a join now is served by the next return rather than open sale.
    if final.available:
        body = {"quantity": final.available}
        assert api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body=body).status == 201
    assert join(api, people[4], event_id).status == 201
    assert cancel_as_a_client(buyer, bookings[3]).status == 200
    assert stock_now(db, event_id).available == 0
    assert all(marks_now(db, event_id)[1])
