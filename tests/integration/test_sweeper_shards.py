"""The by_expiry index is write-sharded: a hold's key is one of EXPIRY_SHARDS keys picked by its id, so no
index partition takes every hold of the platform; the sweeper reads every shard (and the key holds had
before the shards, until none is left), its page spread over them, and releases each expired hold once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from boxoffice import ids
from boxoffice.config import settings
from boxoffice.logic import expiry
from boxoffice.records import HoldRecord
from boxoffice.store import dynamo
from boxoffice.store import holds as store
from boxoffice.store.dynamo import bookings_table
from scripts.bench import partitions
from tests.support.bookings import Account, new_account, new_event
from tests.support.handlers import Api
from tests.support.holds import Clock, place, stock

SPREAD_HOLDS = 32


def many_holds_event(holds: int) -> str:
    """An event on which one account may keep `holds` one-ticket holds (the hold ceilings raised)."""
    return new_event(total=holds, max_holds_per_user=holds, max_held_tickets_per_user=holds)


def place_all(api: Api, who: Account, event_id: str, count: int) -> list[str]:
    placed = [place(api, who, event_id, 1) for _ in range(count)]
    assert all(p.status == 201 for p in placed), [p.body for p in placed]
    return [p.body["id"] for p in placed]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def on_shards(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Hold ids made as ever (ULIDs), each drawn until it falls on the next shard the test appends to the
    yielded list: so a test decides which shard each hold lands on through the real key function."""
    wanted: list[int] = []
    made = ids.new_booking_id

    def new_id(now: datetime) -> str:
        shard = wanted.pop(0)
        while True:
            candidate = made(now)
            if store.expiry_key(candidate) == f"HELD#{shard}":
                return candidate

    monkeypatch.setattr(ids, "new_booking_id", new_id)
    return wanted


def index_key(user_id: str, hold_id: str) -> str | None:
    item = dynamo.get(bookings_table(), store.hold_key(user_id, hold_id))
    assert item is not None
    return item.get("held")


def test_holds_write_many_by_expiry_partitions_and_none_takes_half_of_them(aws: None) -> None:
    units = partitions.expiry_spread(SPREAD_HOLDS)  # the bench's partition section, on fewer holds
    assert len(units) >= store.EXPIRY_SHARDS // 2  # 32 holds over 32 shards: ~20 distinct, 16 is far out
    assert max(units.values()) < sum(units.values()) / 2
    assert all(key.startswith("HELD#") and 0 <= int(key[5:]) < store.EXPIRY_SHARDS for key in units)


def test_hold_ids_of_one_millisecond_spread_evenly_over_every_shard() -> None:
    now = datetime.now().astimezone()
    made = [ids.new_booking_id(now) for _ in range(100 * store.EXPIRY_SHARDS)]  # one millisecond: same prefix
    counts = Counter(store.expiry_key(hold_id) for hold_id in made)
    assert set(counts) == {f"HELD#{n}" for n in range(store.EXPIRY_SHARDS)}
    assert min(counts.values()) >= 50  # mean 100, sd ~10
    assert max(counts.values()) <= 150


def test_the_sweep_releases_the_expired_holds_of_every_shard_once_and_none_before_its_instant(
    api: Api, clock: Clock, on_shards: list[int]
) -> None:
    shards = list(range(store.EXPIRY_SHARDS))
    later = shards[::8]  # a few shards have a hold that expires a millisecond later as well
    who, event_id = new_account(), many_holds_event(len(shards) + len(later))
    on_shards.extend(shards)
    first = place_all(api, who, event_id, len(shards))
    clock.advance(0.001)
    on_shards.extend(later)
    second = place_all(api, who, event_id, len(later))
    assert {index_key(who.id, h) for h in first} == {f"HELD#{n}" for n in shards}

    clock.advance(settings().hold_seconds - 0.001)  # the first round's exact expiry instant
    assert expiry.sweep() == len(first)
    assert expiry.sweep() == 0  # each released once
    state = stock(event_id)
    assert {h: state.holds[h] for h in first} == dict.fromkeys(first, "EXPIRED")
    assert {h: state.holds[h] for h in second} == dict.fromkeys(second, "HELD")

    clock.advance(0.001)
    assert expiry.sweep() == len(second)
    assert expiry.sweep() == 0
    state = stock(event_id)
    assert (state.available, state.held, state.balanced) == (len(shards) + len(later), 0, True)


def test_holds_stored_under_the_key_before_the_shards_are_swept_too(api: Api, clock: Clock) -> None:
    who, event_id = new_account(), many_holds_event(3)
    placed = place_all(api, who, event_id, 3)
    for hold_id in placed[:2]:  # as the code before the shards wrote them
        dynamo.client().update_item(
            TableName=bookings_table(),
            Key=dynamo.dump(store.hold_key(who.id, hold_id)),
            UpdateExpression="SET held = :old",
            ExpressionAttributeValues=dynamo.values(old=store.LEGACY_EXPIRY_KEY),
        )
    assert [index_key(who.id, h) for h in placed[:2]] == ["HELD", "HELD"]

    clock.advance(settings().hold_seconds)
    assert expiry.sweep() == 3
    state = stock(event_id)
    assert (set(state.holds.values()), state.available, state.balanced) == ({"EXPIRED"}, 3, True)


def test_a_sweep_round_reads_at_most_its_page_spread_over_the_shards_so_a_busy_one_starves_none(
    api: Api, clock: Clock, on_shards: list[int]
) -> None:
    busy, quiet = 0, list(range(1, store.EXPIRY_SHARDS))
    who, event_id = new_account(), many_holds_event(10 + len(quiet))
    on_shards.extend([busy] * 10 + quiet)
    place_all(api, who, event_id, 10 + len(quiet))
    clock.advance(settings().hold_seconds)

    scan = store.ExpiredHolds()
    page = len(store.EXPIRY_KEYS)  # one each for every key
    first = scan.next_round(clock.now, limit=page)
    assert len(first) <= page
    assert Counter(store.expiry_key(h.id) for h in first) == Counter(f"HELD#{n}" for n in [busy, *quiet])
    assert [h.expires_at for h in first] == sorted(h.expires_at for h in first)  # soonest expired first

    rest: list[HoldRecord] = []
    for _ in range(10):  # read on: the busy shard's backlog, never a hold twice, in a few rounds
        got = scan.next_round(clock.now, limit=8)
        assert len(got) <= 8
        rest += got
        if scan.done:
            break
    assert scan.done
    assert Counter(store.expiry_key(h.id) for h in rest) == {f"HELD#{busy}": 9}
    assert {h.id for h in first}.isdisjoint(h.id for h in rest)

    small = store.ExpiredHolds()
    assert len(small.next_round(clock.now, limit=5)) == 5  # a page smaller than the keys: still the page
