"""The partition model's parts: a partition's buckets and a table's quota refuse past their rate in simulated
time, transactions on an item another one holds conflict, and simulated actors run in the order of their
clocks."""

from __future__ import annotations

from scripts.bench.capacity import Charge
from scripts.bench.partition_model import TABLE, Outcome, Partitions
from scripts.bench.simulated import Simulation

BOOKING = [Charge("EventsTable", "EVENT#1", wcu=4)]


def test_a_partition_takes_its_writes_a_second_and_refuses_past_them() -> None:
    partitions = Partitions(wcu=1000, start=1.0)
    assert all(not partitions.short(0.0, BOOKING) for _ in range(250))  # 1,000 WCU: 250 bookings of 4
    assert partitions.short(0.0, BOOKING) == {("EventsTable", "EVENT#1")}
    assert partitions.short(0.003, BOOKING)  # 3 units back: not yet
    assert not partitions.short(0.004, BOOKING)  # 4 ms at 1,000 a second


def test_a_partition_saves_at_most_one_second_of_units() -> None:
    partitions = Partitions(wcu=1000, start=1.0)
    assert not partitions.short(0.0, BOOKING)
    admitted = 0
    while not partitions.short(300.0, BOOKING):  # idle for 5 minutes: no burst capacity
        admitted += 1
    assert admitted == 250


def test_a_refused_call_takes_no_units_from_any_partition() -> None:
    partitions = Partitions(wcu=1000, rcu=3000, start=1.0)
    too_much = [Charge("EventsTable", "EVENT#1", wcu=4), Charge("TicketsTable", "EVENT#1", wcu=1001)]
    assert partitions.short(0.0, too_much) == {("TicketsTable", "EVENT#1")}
    assert all(not partitions.short(0.0, BOOKING) for _ in range(250))


def test_reads_and_writes_have_budgets_of_their_own() -> None:
    partitions = Partitions(wcu=1000, rcu=3000, start=1.0)
    read = [Charge("EventsTable", "EVENT#1", rcu=1)]
    assert all(not partitions.short(0.0, read) for _ in range(3000))
    assert partitions.short(0.0, read)
    assert not partitions.short(0.0, BOOKING)


def test_an_on_sale_starts_with_a_partition_that_saved_only_its_start() -> None:
    partitions = Partitions(wcu=1000, start=0.010)  # 10 WCU: two bookings of 4
    assert all(not partitions.short(0.0, BOOKING) for _ in range(2))
    assert partitions.short(0.0, BOOKING)
    assert not partitions.short(0.002, BOOKING)  # 2 left + 2 ms at 1,000 a second


def test_a_table_takes_its_quota_a_second_however_spread_over_partitions() -> None:
    partitions = Partitions(wcu=1000, table_wcu=40_000, start=1.0)
    spread = [[Charge("BookingsTable", f"USER#{n}", wcu=4)] for n in range(10_001)]
    assert all(not partitions.short(0.0, booking) for booking in spread[:10_000])  # 40,000 WCU
    assert partitions.short(0.0, spread[10_000]) == {("BookingsTable", TABLE)}  # its partition has room
    assert not partitions.short(0.0, [Charge("TicketsTable", "EVENT#1", wcu=4)])  # each table has its own
    assert not partitions.short(0.0001, spread[10_000])  # 4 units back after 0.1 ms at 40,000 a second


def test_an_index_takes_its_quota_apart_from_its_table() -> None:
    partitions = Partitions(wcu=1000, table_wcu=8, start=1.0)
    write = [Charge("TicketsTable", "EVENT#1", wcu=8), Charge("TicketsTable/by_update", "EVENT#1", wcu=8)]
    assert not partitions.short(0.0, write)
    assert partitions.short(0.0, write) == {("TicketsTable", TABLE), ("TicketsTable/by_update", TABLE)}


def test_a_transaction_conflicts_with_one_that_holds_an_item_it_touches() -> None:
    partitions = Partitions(hold=0.010)
    partitions.hold_items(1.0, ["quota", "ticket-1"])
    assert partitions.conflicts(1.005, ["quota", "ticket-2"]) == {"quota"}
    assert partitions.conflicts(1.005, ["other"]) == set()
    assert partitions.conflicts(1.010, ["quota"]) == set()  # released after its hold


def test_a_callers_own_transaction_does_not_conflict_with_its_next_call() -> None:
    partitions, buyer = Partitions(hold=0.010), object()
    partitions.hold_items(1.0, ["quota"], buyer)
    assert partitions.conflicts(1.005, ["quota"], buyer) == set()
    assert partitions.conflicts(1.005, ["quota"], object()) == {"quota"}


def test_actors_run_in_the_order_of_their_simulated_clocks() -> None:
    simulation, seen = Simulation(), []

    def actor(name: str, steps: list[float]) -> None:
        for step in steps:
            simulation.wait(step)
            me = simulation.actor()
            assert me is not None
            seen.append((round(me.time, 3), name))

    simulation.start_at(0.0, lambda: actor("slow", [0.5, 0.5]))
    simulation.start_at(0.1, lambda: actor("quick", [0.1, 0.1, 0.1, 0.5]))
    simulation.run()
    assert seen == [(0.2, "quick"), (0.3, "quick"), (0.4, "quick"), (0.5, "slow"), (0.9, "quick"), (1.0, "slow")]


def test_a_rate_row_serves_the_bookings_made_within_its_window_of_the_first() -> None:
    outcome = Outcome(rate=5000, hold=0.010, total=20_000, window=0.1)
    outcome.booked = [(0.05, 1), (0.02, 1), (0.11, 1), (0.13, 2), (0.9, 2)]  # the last came back after BUSY
    assert outcome.served == 30  # 3 bookings within 100 ms of the first, at 0.02
