"""A tiny on-sale through the real booking handler behind the partition model: far more buyers, far faster
than one partition takes, on an event of 4 inventory shards (of 1 where the API has none), and still never a
ticket oversold nor one stranded."""

from __future__ import annotations

from scripts.bench.common import shardable
from scripts.bench.partition_model import buyers, drive


def test_a_rush_beyond_the_partitions_limits_never_oversells_nor_strands(aws: None) -> None:
    outcome = drive(2000, buyers(30), total=10, hold=0.010, shards=4)

    assert outcome.shards == (4 if shardable() else 1)
    assert outcome.tally.conflicted + outcome.tally.throttled > 0  # the model did refuse: 30 buyers within 15 ms
    assert len(outcome.booked) == 10
    assert outcome.oversold == 0
    assert outcome.refused > 0
    assert outcome.stranded == 0
    assert outcome.available == 0
