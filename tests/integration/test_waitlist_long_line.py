"""A line of 10,000 costs each request what a line of 10 does: the same items written, no more items read (a
short line's positions are counted exactly, a long one's are bounded) and at most one more call per line
shard (a short line leaves some shards empty, and an empty shard is not read). The entries ahead are
written straight into the line's shards (scripts/bench/line.py), as `make bench` does for 100,000."""

from __future__ import annotations

from datetime import timedelta

import pytest

from boxoffice.store import line
from scripts.bench.line import costs, fill
from tests.support.bookings import new_account, new_event
from tests.support.events import sell
from tests.support.handlers import Api
from tests.support.holds import Clock
from tests.support.waitlist import join, position


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def test_join_list_leave_and_offer_cost_no_more_behind_ten_thousand_than_behind_ten(api: Api, clock: Clock) -> None:
    def advance(by: timedelta) -> None:
        clock.advance(by.total_seconds())

    short, long = costs(api, 10, advance), costs(api, 10_000, advance)

    for request in short:
        # Calls: one Query more at most per line shard (ten entries may leave some shards empty, unread).
        assert long[request].calls <= short[request].calls + line.LINE_SHARDS, request
        assert long[request].items_written == short[request].items_written, request
    for request in ("join", "list", "leave"):
        assert long[request].items_read <= short[request].items_read, request
    # The allocator reads one window of the line's head (merged over the shards), whatever its length.
    assert long["offer (a cancel)"].items_read <= short["offer (a cancel)"].items_read + 25


def take_out(event_id: str, keys: list[dict[str, str]], *, served: bool) -> None:
    """Entries filled in leave the line, as the store takes them out: their line items go (BatchWriteItem)
    and their shards count them no more (`served`: offered from the head, else they left)."""
    from collections import Counter

    from boxoffice.config import settings
    from boxoffice.store import dynamo, line

    table = settings().events_table
    for start in range(0, len(keys), 25):
        deletes = [{"DeleteRequest": {"Key": dynamo.dump(key)}} for key in keys[start : start + 25]]
        assert not dynamo.client().batch_write_item(RequestItems={table: deletes}).get("UnprocessedItems")
    for shard, gone in Counter(int(key["pk"].rsplit("#", 1)[1]) for key in keys).items():
        dynamo.client().update_item(
            TableName=table,
            Key=dynamo.dump(line.counter_key(event_id, shard)),
            UpdateExpression="ADD waiting :minus, served :served",
            ExpressionAttributeValues=dynamo.values(minus=-gone, served=gone if served else 0),
        )


def test_a_position_past_a_thousand_ahead_is_an_upper_bound_and_exact_once_fewer_are_ahead(
    api: Api, clock: Clock
) -> None:
    event_id = new_event(total=1)
    assert sell(event_id, 1)
    ahead = fill(event_id, 1_500)
    take_out(event_id, ahead[:100], served=True)  # served before it joins: not in its bound
    clock.advance(0.01)
    me = new_account()
    entry = join(api, me, event_id).body
    clock.advance(0.01)
    fill(event_id, 1_000)  # behind it

    assert entry["position"] == 1_401  # the line's length as it joined: no item counted
    take_out(event_id, ahead[100:300], served=True)
    assert position(api, me, entry["id"]) == 1_201  # the 1,000 behind are not counted in
    take_out(event_id, ahead[300:400], served=False)
    assert position(api, me, entry["id"]) == 1_201  # 1,100 ahead: those who left mid-line stay in the bound
    take_out(event_id, ahead[400:1000], served=True)
    assert position(api, me, entry["id"]) == 501  # the bound fell under 1,000: counted, exact
