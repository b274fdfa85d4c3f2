"""The per-partition bill's arithmetic (scripts.bench.capacity, scripts.bench.partitions), on hand-made items:
DynamoDB's sizing rules, a transaction's double billing, the writes an index takes, each table's totals and
the event's ceiling."""

from __future__ import annotations

from typing import Any

from scripts.bench import partitions
from scripts.bench.capacity import Charge, Index, Schema, merged, placeholder, read_charge, write_charges
from scripts.bench.writes import item_size

BY_STATE = Index("by_state", ("state", "at"), "INCLUDE", ("name",))
TABLE = Schema("Things", ("pk", "sk"), (BY_STATE,))


def thing(padding: int, **extra: str) -> dict[str, Any]:
    item = {"pk": {"S": "THING#1"}, "sk": {"S": "A"}, "blob": {"S": "x" * padding}}
    return item | {name: {"S": value} for name, value in extra.items()}


def units(charges: Any) -> dict[tuple[str, str], tuple[float, float]]:
    return merged(charges)


def test_a_write_takes_a_unit_per_started_kilobyte_of_the_larger_item() -> None:
    small, large = thing(100), thing(1500)
    assert item_size(large) > 1024
    assert units(write_charges(TABLE, small, large, transactional=False)) == {("Things", "THING#1"): (0, 2)}
    assert units(write_charges(TABLE, large, small, transactional=False)) == {("Things", "THING#1"): (0, 2)}
    assert units(write_charges(TABLE, None, small, transactional=False)) == {("Things", "THING#1"): (0, 1)}


def test_a_write_inside_a_transaction_takes_twice_the_units() -> None:
    assert units(write_charges(TABLE, None, thing(1500), transactional=True)) == {("Things", "THING#1"): (0, 4)}


def test_an_item_with_an_index_key_writes_the_index_partition_too() -> None:
    charges = units(write_charges(TABLE, None, thing(10, state="OPEN", at="1", name="n"), transactional=True))
    assert charges == {("Things", "THING#1"): (0, 2), ("Things/by_state", "OPEN"): (0, 2)}


def test_an_item_without_the_index_keys_writes_no_index() -> None:
    assert units(write_charges(TABLE, None, thing(10, state="OPEN"), transactional=False)) == {
        ("Things", "THING#1"): (0, 1)
    }


def test_an_update_that_leaves_the_projected_attributes_alone_writes_no_index() -> None:
    before, after = thing(10, state="OPEN", at="1"), thing(20, state="OPEN", at="1")  # blob is not projected
    assert units(write_charges(TABLE, before, after, transactional=False)) == {("Things", "THING#1"): (0, 1)}


def test_an_item_moving_between_index_keys_deletes_from_one_partition_and_puts_into_another() -> None:
    before, after = thing(10, state="OPEN", at="1"), thing(10, state="SHUT", at="1")
    assert units(write_charges(TABLE, before, after, transactional=False)) == {
        ("Things", "THING#1"): (0, 1),
        ("Things/by_state", "OPEN"): (0, 1),
        ("Things/by_state", "SHUT"): (0, 1),
    }


def test_a_condition_check_is_billed_as_a_write_of_the_item_and_writes_no_index() -> None:
    item = thing(1500, state="OPEN", at="1")
    charges = write_charges(TABLE, item, item, transactional=True, check_only=True)
    assert units(charges) == {("Things", "THING#1"): (0, 4)}


def test_a_read_takes_a_unit_per_started_4_kb_halved_when_eventually_consistent_doubled_in_a_transaction() -> None:
    assert read_charge(TABLE, "THING#1", [5000], consistent=True).rcu == 2
    assert read_charge(TABLE, "THING#1", [5000], consistent=False).rcu == 1
    assert read_charge(TABLE, "THING#1", [5000], consistent=True, times=2).rcu == 4
    assert read_charge(TABLE, "THING#1", [0], consistent=False).rcu == 0.5  # nothing found: the minimum


def test_a_query_is_billed_on_the_sum_of_its_items_rounded_up_once() -> None:
    charge = read_charge(TABLE, "OPEN", [1000, 1000, 1000, 1500], consistent=False, index="by_state")
    assert (charge.where, charge.rcu) == ("Things/by_state", 1.0)  # 4,500 bytes: 2 units, eventually 1


def test_partition_keys_compare_by_kind_with_their_ids_replaced() -> None:
    event = "EVENT#0b7c6f0e-2d7a-4c1e-9a55-3c8d4f5e6a7b"
    assert placeholder(event) == "EVENT#<id>"
    assert placeholder("EMAIL#someone@example.com") == "EMAIL#<email>"
    assert placeholder("SHARD#7") == "SHARD#<n>"
    assert placeholder(f"{event}#S12") == "EVENT#<id>#S<n>"


BOOKING = [
    Charge("EventsTable", "EVENT#1", rcu=2, wcu=4),
    Charge("EventsTable", "EVENT#1", rcu=1),
    Charge("EventsTable", "LINE#1", wcu=2),
    Charge("TicketsTable", "EVENT#1", wcu=2),
    Charge("TicketsTable/by_update", "EVENT#1", wcu=2),
]


def test_each_table_and_index_totals_the_rows_of_its_partitions() -> None:
    summed: dict[str, tuple[float, float]] = {}
    for _, where, rcu, wcu, *_ in partitions.rows(BOOKING):
        before = summed.get(where, (0.0, 0.0))
        summed[where] = (before[0] + float(rcu), before[1] + float(wcu))
    assert partitions.per_table(BOOKING) == summed
    assert summed["EventsTable"] == (3, 6)
    assert summed["TicketsTable/by_update"] == (0, 2)  # an index is totalled apart from its table


def test_the_ceiling_is_the_hottest_partitions_budget_when_one_partition_takes_the_most() -> None:
    best, text = partitions.ceiling(BOOKING)
    assert best == 1000 / 4  # EVENT#1 of the events table: 4 WCU of its 1,000 a second
    assert "EventsTable EVENT#<n> 4 WCU per booking -> 250 bookings/s" in text


def test_the_ceiling_is_a_tables_quota_when_its_units_are_spread_over_many_partitions() -> None:
    spread = [Charge("BookingsTable", f"USER#{n}", wcu=8 / 64) for n in range(64)]  # 8 WCU a booking in all
    best, text = partitions.ceiling(spread)
    assert best == 40_000 / 8
    assert "busiest table for writes: BookingsTable 8 WCU per booking -> 5,000 bookings/s" in text


def test_a_row_of_several_keys_counts_them_and_shows_the_most_one_of_them_takes() -> None:
    charges = [
        Charge("EventsTable", "EVENT#1#S1", rcu=1),
        Charge("EventsTable", "EVENT#1#S2", rcu=1),
        Charge("EventsTable", "EVENT#1#S2", rcu=0.5),
    ]
    (row,) = partitions.rows(charges)
    assert row[2:] == ["2.5", "0", "2", "1.5", "0"]
