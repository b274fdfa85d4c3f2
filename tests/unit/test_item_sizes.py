"""DynamoDB's item size rules, as the write-units benchmark applies them."""

from __future__ import annotations

import uuid

from scripts.bench.writes import item_size, number_size, transaction_units


def test_numbers_weigh_a_byte_per_two_significant_digits_plus_one() -> None:
    assert [number_size(n) for n in ("0", "7", "12", "123", "1000000", "-12.5", "0.001")] == [2, 2, 2, 3, 2, 3, 2]


def test_an_item_weighs_its_names_and_values() -> None:
    item = {"pk": {"S": "EVENT#é"}, "n": {"N": "100"}, "m": {"M": {"a": {"BOOL": True}}}, "l": {"L": [{"S": "ab"}]}}
    # pk: 2 + 8; n: 1 + 2 (one significant digit); m: 1 + 3 + (1 + 1 + 1); l: 1 + 3 + (1 + 2)
    assert item_size(item) == 10 + 3 + 7 + 7


def test_a_transaction_bills_twice_per_started_kilobyte() -> None:
    assert [transaction_units(s) for s in (1, 1024, 1025, 114_819)] == [2, 2, 4, 226]


def test_a_check_in_shard_counting_all_20_types_stays_far_below_1_kb() -> None:
    from boxoffice.store import dynamo, tickets

    types = [str(uuid.uuid4()) for _ in range(20)]
    shard = {**tickets.checkin_shard_keys(str(uuid.uuid4()))[7], "checked_in": 999_999}
    shard |= {tickets.type_counter(t): 999_999 for t in types}
    assert len({tickets.type_counter(t) for t in types}) == 20
    assert item_size(dynamo.dump(shard)) < 700
