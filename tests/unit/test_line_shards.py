"""The waiting line over shards (store/line.py, store/waitlist.py), without DynamoDB: how entries spread,
how the shards' heads merge back into join order, and the bound a position shows past 1,000 ahead."""

from __future__ import annotations

from collections import Counter

import pytest

from boxoffice.store import line
from boxoffice.store.waitlist import position_bound


def test_entries_spread_evenly_over_the_shards_whatever_their_ids_share() -> None:
    # One rush's ids share their event and their ULID's millisecond prefix.
    ids = [f"event.01JDQ7Y3M4{n:016d}" for n in range(8_000)]
    per_shard = Counter(line.shard_of(i) for i in ids)

    assert set(per_shard) == set(range(line.LINE_SHARDS))
    assert all(800 <= n <= 1_200 for n in per_shard.values()), per_shard
    assert line.shard_of(ids[0]) == line.shard_of(ids[0])


def item(sk: str) -> dict[str, str]:
    return {"sk": sk}


def merged(*shards: list[str]) -> list[tuple[str, int, dict[str, str]]]:
    return sorted((sk, k, item(sk)) for k, sks in enumerate(shards) for sk in sks)


def test_the_heads_of_the_shards_merge_back_into_join_order() -> None:
    heads = merged(["01", "04", "07"], ["02", "05"], ["03", "06"])

    entries, more = line.merge_cut(heads, [], 10, lambda k, i: (k, i["sk"]))

    assert [sk for _, sk in entries] == ["01", "02", "03", "04", "05", "06", "07"]
    assert [k for k, _ in entries] == [0, 1, 2, 0, 1, 2, 0]
    assert more is False


def test_a_shard_read_in_part_stops_the_merge_before_anything_it_could_still_hold() -> None:
    # Shard 0 was read up to "05" and goes on: its unread "06" would come before shard 1's "08".
    heads = merged(["01", "05"], ["02", "08", "09"])

    entries, more = line.merge_cut(heads, ["05"], 10, lambda k, i: i["sk"])

    assert (entries, more) == (["01", "02", "05"], True)


def test_the_merge_returns_at_most_its_limit_and_says_more_follow() -> None:
    entries, more = line.merge_cut(merged(["1", "3"], ["2", "4"]), [], 3, lambda k, i: i["sk"])
    assert (entries, more) == (["1", "2", "3"], True)


@pytest.mark.parametrize(
    ("waiting", "served", "at_join", "bound"),
    [
        (50_000, 900, None, 50_000),  # nothing known of its join: everyone waiting
        (50_000, 900, (30_000, 900), 30_000),  # 20,000 joined behind it since: none of them counts
        (50_000, 5_900, (30_000, 900), 25_000),  # 5,000 served from the head since: all were ahead of it
        (20_000, 900, (30_000, 900), 20_000),  # 10,000 left, nobody served: no more than wait now
        (0, 0, (5, 0), 1),  # (counted before its own join was): never below first
    ],
)
def test_a_position_is_bounded_by_the_line_when_it_joined_less_those_served_since(
    waiting: int, served: int, at_join: tuple[int, int] | None, bound: int
) -> None:
    assert position_bound(waiting, served, at_join) == bound
