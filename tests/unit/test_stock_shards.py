"""The pure decisions of sharded inventory (boxoffice/shards.py): how many shards an event gets, how its
tickets are split, and which shards a booking takes from."""

from __future__ import annotations

import random

import pytest

from boxoffice import shards


@pytest.mark.parametrize(
    ("total", "count"),
    [(1, 1), (100, 1), (224, 1), (225, 2), (4_000, 18), (20_000, 90), (20_160, 90), (1_000_000, 90)],
)
def test_the_default_count_is_one_shard_per_224_tickets_from_one_to_ninety(total: int, count: int) -> None:
    assert shards.default_count(total) == count


def test_a_twenty_thousand_ticket_event_gets_enough_shards_for_five_thousand_bookings_a_second() -> None:
    assert shards.default_count(20_000) * shards.BOOKINGS_PER_SHARD_SECOND >= 5_000


@pytest.mark.parametrize(("total", "count", "expected"), [(10, 4, [3, 3, 2, 2]), (3, 4, [1, 1, 1, 0]), (8, 1, [8])])
def test_tickets_split_as_evenly_as_whole_tickets_go(total: int, count: int, expected: list[int]) -> None:
    assert shards.split(total, count) == expected


def test_a_first_guess_spreads_over_the_shards_not_known_to_be_empty() -> None:
    rng = random.Random(7)
    guesses = {shards.first_guess(8, frozenset({0, 3}), rng) for _ in range(400)}
    assert guesses == {1, 2, 4, 5, 6, 7}


def test_a_first_guess_with_every_shard_known_empty_still_tries_one() -> None:
    assert shards.first_guess(4, frozenset(range(4)), random.Random(1)) in range(4)


def test_a_plan_takes_from_one_shard_with_enough_picked_at_random() -> None:
    rng = random.Random(3)
    plans = [shards.plan([5, 0, 2, 9], 3, rng) for _ in range(200)]
    assert {tuple(p.items()) for p in plans if p} == {((0, 3),), ((3, 3),)}


def test_four_tickets_left_one_in_each_of_four_shards_are_taken_together() -> None:
    assert shards.plan([1, 1, 0, 1, 1], 4) == {0: 1, 1: 1, 3: 1, 4: 1}


def test_near_sell_out_a_plan_takes_from_the_fullest_shards_first() -> None:
    assert shards.plan([2, 3, 1], 5) == {1: 3, 0: 2}


def test_no_plan_when_all_the_shards_together_have_fewer() -> None:
    assert shards.plan([1, 1, 1], 4) is None
    assert shards.plan([], 1) is None


def test_a_type_sells_in_a_shard_no_more_than_both_its_stock_and_its_share_of_the_sub_quota() -> None:
    assert shards.combined([5, 0, 4], [1, 6, 4]) == [1, 0, 4]
    assert shards.combined([5, 0], None) == [5, 0]


def test_cancelled_tickets_go_back_to_the_last_shards_first_and_the_booking_keeps_the_rest() -> None:
    assert shards.drop({0: 1, 3: 2, 5: 1}, 2) == ({5: 1, 3: 1}, {0: 1, 3: 1})
    assert shards.drop({2: 4}, 4) == ({2: 4}, {})


def test_every_shard_up_to_the_most_has_a_partition_of_its_own_named_by_its_number_alone() -> None:
    from boxoffice.store import inventory

    keys = [inventory.quota_key("e1", k) for k in range(shards.MAX_SHARDS)]
    assert keys[0] == {"pk": "EVENT#e1", "sk": "QUOTA"}  # shard 0: the event's own partition, as before shards
    assert keys[64] == {"pk": "EVENT#e1#S64", "sk": "QUOTA"}
    assert len({k["pk"] for k in keys}) == shards.MAX_SHARDS
    assert [inventory.shard_of(k["pk"]) for k in keys] == list(range(shards.MAX_SHARDS))


def test_the_largest_edits_of_an_event_at_the_most_shards_fit_in_one_transaction() -> None:
    from boxoffice.store.dynamo import MAX_ACTIONS
    from boxoffice.store.tickets import CHECKIN_SHARDS

    # Deleting the event, or moving its start: its item, every shard's quota, its check-in count shards.
    assert 1 + shards.MAX_SHARDS + CHECKIN_SHARDS <= MAX_ACTIONS
