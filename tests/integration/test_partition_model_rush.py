"""A tiny on-sale through the real booking handler behind the partition model: far more buyers, far faster
than one partition takes, and still never a ticket oversold nor one stranded."""

from __future__ import annotations

from scripts.bench.partition_model import buyers, drive


def test_a_rush_beyond_the_partitions_limits_never_oversells_nor_strands(aws: None) -> None:
    outcome = drive(2000, buyers(30), total=10, hold=0.010)

    assert outcome.tally.conflicted > 0  # the model did refuse: 30 transactions within 15 ms on one quota
    assert len(outcome.booked) == 10
    assert outcome.oversold == 0
    assert outcome.refused > 0
    assert outcome.stranded == 0
    assert outcome.available == 0
