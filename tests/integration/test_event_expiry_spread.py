"""by_event_expiry is write-sharded for sharded events: a hold that took tickets from a stock shard other than
0 is indexed under one of EVENT_EXPIRY_SHARDS keys of its event, so no index partition takes every hold of a
rush; a refused sale reads the event's own key and then its spread keys until it has its bounded number of
lapsed holds, and reads none when the event's counters show nothing held."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields

import pytest

from boxoffice.logic import expiry
from boxoffice.records import HoldRecord
from boxoffice.store import holds as store
from scripts.bench import partitions
from scripts.bench.common import count_calls
from tests.support.bookings import Account, new_account, new_event
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, place, stock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def book(api: Api, who: Account, event_id: str, quantity: int) -> Result:
    return api.call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def hold(hold_id: str, shards: tuple[tuple[int, int], ...]) -> HoldRecord:
    """A hold record with only what its index key depends on."""
    blank = {f.name: None for f in fields(HoldRecord)}
    return HoldRecord(**{**blank, "id": hold_id, "event_id": "e1", "shards": shards})


def test_a_hold_from_shard_0_alone_keeps_the_events_own_key_any_other_one_of_its_spread_keys() -> None:
    assert store.event_expiry_key(hold("h1", ())) == "e1"
    assert store.event_expiry_key(hold("h1", ((0, 2),))) == "e1"
    keys = {store.event_expiry_key(hold(f"h{n}", ((3, 1),))) for n in range(200)}
    assert keys == {f"e1#{n}" for n in range(store.EVENT_EXPIRY_SHARDS)}
    assert store.event_expiry_key(hold("h7", ((0, 1), (5, 1)))) == store.event_expiry_key(hold("h7", ((5, 2),)))


def test_a_refusal_reads_the_events_own_key_first_then_every_spread_key_of_a_sharded_event() -> None:
    assert store.event_expiry_keys("e1", sharded=False) == ["e1"]
    keys = store.event_expiry_keys("e1", sharded=True)
    assert keys[0] == "e1"
    assert sorted(keys[1:]) == sorted(f"e1#{n}" for n in range(store.EVENT_EXPIRY_SHARDS))


def test_the_holds_of_a_sharded_event_write_many_index_partitions_and_none_takes_half_of_them(aws: None) -> None:
    units = partitions.expiry_spread(partitions.SPREAD_HOLDS // 2, index="by_event_expiry", shards=8)
    assert len(units) >= store.EVENT_EXPIRY_SHARDS // 2
    assert max(units.values()) < sum(units.values()) / 2


def test_a_refused_sale_on_a_sharded_event_releases_lapsed_holds_from_every_key_it_reads(
    api: Api, clock: Clock
) -> None:
    event_id = new_event(total=24, inventory_shards=8)
    buyers = [new_account() for _ in range(24)]
    held = [(who, place(api, who, event_id, 1)) for who in buyers]
    assert all(h.status == 201 for _, h in held), [h.body for _, h in held]
    clock.advance(3600)  # every hold lapsed, none swept

    assert book(api, new_account(), event_id, 1).status == 201

    state = stock(event_id)
    assert Counter(state.holds.values()) == {
        "EXPIRED": expiry.IN_REQUEST_RELEASES,
        "HELD": 24 - expiry.IN_REQUEST_RELEASES,
    }
    records = [store.read_hold(who.id, h.body["id"])[1] for who, h in held]
    released = {store.event_expiry_key(r) for r in records if r is not None and state.holds[r.id] == "EXPIRED"}
    assert len(released) >= 2  # read from several keys: ten holds never all sit under one of seventeen
    assert state.balanced


def test_a_refusal_with_nothing_held_reads_no_index(api: Api) -> None:
    event_id = new_event(total=2, inventory_shards=2)
    assert book(api, new_account(), event_id, 2).status == 201
    with count_calls() as calls:
        refused = book(api, new_account(), event_id, 1)
    assert refused.body["code"] == "SOLD_OUT"
    assert calls.operations["Query"] == 0, calls.describe()
