"""The cost of a million bookings in docs/DEPLOY.md is what `make bench`'s cost section computes from units
measured on the booking handler today: a change to the booking path (or the prices) that moves it fails here
until the guide quotes the new figure."""

from __future__ import annotations

from devserver import template
from scripts.bench import cost


def test_deploy_md_quotes_the_cost_the_bench_measures_for_a_million_bookings(aws: None) -> None:
    lines = cost.bill()
    measured = {line.part: line for line in lines}
    # A booking reads and writes, writes its tickets' index entries and invokes the publisher once.
    assert all(measured[part].dollars > 0 for part in measured if "measured" in part and "records" not in part)
    assert measured["Stream records that invoke the publisher (measured)"].units == "1"
    guide = (template.ROOT / "docs" / "DEPLOY.md").read_text()
    assert f"**${cost.total(lines):.2f}** per million bookings" in guide
