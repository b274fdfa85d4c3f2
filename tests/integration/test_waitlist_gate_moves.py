"""The gate a sharded event's join judges after its commit (issue 20, "A line of 100,000"): it reads stock
shards k > 0 plainly, and atomically only while a move of stock between shards (a booking's gather, a
re-shard) may have made that plain read sum low; a take-back always rests on one atomic read."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.logic import events
from boxoffice.models.events import UpdateEvent
from boxoffice.records import Holding
from boxoffice.store import dynamo, inventory
from boxoffice.store import events as event_store
from boxoffice.store import waitlist as waitlist_store
from scripts.bench.common import count_calls
from tests.support.bookings import Account, _scan, new_account, new_event
from tests.support.handlers import Api, Result
from tests.support.holds import Clock

pytestmark = pytest.mark.usefixtures("aws")


def book(who: Account, event_id: str, quantity: int = 1) -> Result:
    return Api().call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def join(who: Account, event_id: str, quantity: int) -> Result:
    return Api().call("join_waiting_list", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def quotas(event_id: str) -> dict[int, dict[str, Any]]:
    """Each stock shard's quota item, as stored."""
    items = _scan(settings().events_table)
    return {
        inventory.shard_of(i["pk"]): i for i in items if i["pk"].startswith(f"EVENT#{event_id}") and i["sk"] == "QUOTA"
    }


def stocked(event_id: str) -> dict[int, int]:
    return {k: int(q["available_tickets"]) for k, q in quotas(event_id).items()}


def reshard(event_id: str, count: int) -> None:
    from boxoffice import auth

    admin = auth.read_token(f"Bearer {new_account('admin').token}")
    events.update_event(admin, event_id, UpdateEvent(inventory_shards=count))


def test_a_gather_stamps_each_shard_it_moves_stock_between_with_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    event_id = new_event(total=40, inventory_shards=40, per_booking=40)  # one ticket a shard
    assert book(new_account(), event_id, 34).status == 201  # 34 shards: more than one transaction takes
    stamped = {k: q for k, q in quotas(event_id).items() if inventory.MOVED_AT in q}
    assert len(stamped) == 34  # the 33 it moved from and the one it moved into
    assert {(int(q[inventory.MOVED_AT]), int(q[inventory.MOVED_OVER])) for q in stamped.values()} == {
        (inventory.ms(clock.now), 40)
    }


def test_a_reshard_stamps_the_shards_it_moves_stock_between(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    event_id = new_event(total=8, inventory_shards=2)  # 4 in each
    reshard(event_id, 4)
    assert stocked(event_id) == {0: 2, 1: 2, 2: 2, 3: 2}
    stamps = {k: (q.get(inventory.MOVED_AT), q.get(inventory.MOVED_OVER)) for k, q in quotas(event_id).items()}
    assert stamps == {k: (inventory.ms(clock.now), 4) for k in range(4)}


def test_a_join_just_after_a_move_reads_every_shard_atomically_and_not_once_the_window_is_past(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock(monkeypatch)
    event_id = new_event(total=8, inventory_shards=2)
    assert book(new_account(), event_id, 7).status == 201
    reshard(event_id, 4)  # its 1 ticket left moves (or stays) while every shard's count moves to its share
    with count_calls() as calls:
        assert join(new_account(), event_id, 2).status == 201
    assert calls.operations["TransactGetItems"] == 1, calls.describe()
    clock.advance(inventory.MOVE_WINDOW.total_seconds() + 1)
    with count_calls() as calls:
        assert join(new_account(), event_id, 2).status == 201
    assert calls.operations["TransactGetItems"] == 0, calls.describe()


def test_a_join_whose_plain_read_straddles_a_gather_is_taken_back_on_an_atomic_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event_id = new_event(total=4, inventory_shards=4)  # one ticket a shard
    buyer = new_account()
    bookings = [book(buyer, event_id) for _ in range(3)]
    assert all(b.status == 201 for b in bookings)
    real_join, real_batch_get = waitlist_store.join, dynamo.batch_get
    committed: list[bool] = []

    def join_after_a_return(entry: Any, **kwargs: Any) -> Any:
        # A ticket comes back between the join's read (1 on sale: it may wait) and its commit: 2 on sale now.
        cancelled = Api().call("cancel_booking", token=buyer.token, path={"booking_id": bookings[0].body["id"]})
        assert cancelled.status == 200, cancelled.body
        committed.append(True)
        return real_join(entry, **kwargs)

    def straddled(keys: dict[str, list[dict[str, str]]], **kwargs: Any) -> dict[str, list[dict[str, Any]]]:
        table = settings().events_table
        shards = [k for k in keys.get(table, []) if k["sk"] == inventory.QUOTA]
        if not committed or not shards:  # (the gate's read: the line's counters and shards 1..'s quotas)
            return real_batch_get(keys, **kwargs)
        committed.clear()
        before = real_batch_get({table: [*shards, inventory.quota_key(event_id)]}, **kwargs)[table]
        # A booking's gather moves one shard's ticket into the other's between the plain read's reads: the
        # target read before the move, the source after.
        on_sale = sorted(inventory.shard_of(i["pk"]) for i in before if int(i["available_tickets"]))
        assert len(on_sale) == 2
        target, source = on_sale
        event = event_store.get(event_id)
        assert event is not None
        inventory._gathered(event, event.ticket_types[0], Holding(), {target: 1, source: 1})
        after = real_batch_get(keys, **kwargs)[table]

        def of_target(item: dict[str, Any]) -> bool:
            return item["sk"] == inventory.QUOTA and inventory.shard_of(item["pk"]) == target

        seen = [i for i in before if of_target(i) and i["pk"] != inventory.event_pk(event_id)]
        return {table: seen + [i for i in after if not of_target(i)]}

    monkeypatch.setattr(waitlist_store, "join", join_after_a_return)
    monkeypatch.setattr(dynamo, "batch_get", straddled)

    refused = join(new_account(), event_id, 2)

    assert (refused.status, refused.body.get("code")) == (409, "TICKETS_AVAILABLE"), refused.body
    assert sum(stocked(event_id).values()) == 2
    assert not any(i["pk"].startswith(f"LINE#{event_id}") for i in _scan(settings().events_table))


def test_a_join_whose_event_gained_shards_after_its_commit_counts_them_and_is_taken_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event_id = new_event(total=8, inventory_shards=2)  # 4 in each
    buyer, admin = new_account(), new_account("admin")
    bookings = [book(buyer, event_id, 3), book(buyer, event_id, 3)]
    assert all(b.status == 201 for b in bookings), bookings  # 2 left: a join of 3 may wait
    real_join = waitlist_store.join

    def join_then_reshard(entry: Any, **kwargs: Any) -> Any:
        # A return before the commit puts 3 on sale; a re-shard after it spreads them over 4 shards, 2 of
        # which the join's event (read with 2) does not know.
        path = {"booking_id": bookings[0].body["id"]}
        body = {"ticket_number": bookings[0].body["tickets"][0]["ticket_number"]}
        cancelled = Api().call("cancel_ticket", token=buyer.token, path={**path, **body})
        assert cancelled.status == 200, cancelled.body
        joined = real_join(entry, **kwargs)
        edit = {"inventory_shards": 4}
        resharded = Api().call("update_event", token=admin.token, path={"event_id": event_id}, body=edit)
        assert resharded.status == 200, resharded.body
        return joined

    monkeypatch.setattr(waitlist_store, "join", join_then_reshard)

    refused = join(new_account(), event_id, 3)

    assert (refused.status, refused.body.get("code")) == (409, "TICKETS_AVAILABLE"), refused.body
    assert stocked(event_id) == {0: 1, 1: 1, 2: 1, 3: 0}
