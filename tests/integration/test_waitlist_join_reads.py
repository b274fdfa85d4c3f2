"""What a join reads of the event's own partition (`EVENT#<id>`, which every booking of the event also reads):
at most ~1.4 read units a join once the process knows the event, so that 2,000 joins a second fit its
3,000 (issue 20: "A line of 100,000")."""

from __future__ import annotations

import pytest

from boxoffice.store import event_items
from scripts.bench.partitions import billed
from tests.support.bookings import new_account, new_event
from tests.support.events import sell
from tests.support.handlers import Api
from tests.support.waitlist import join

JOINS = 6


def test_joins_into_a_known_events_line_read_about_one_unit_each_on_its_own_partition(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_items, "RECENT_SECONDS", 600.0)  # the process read the event lately, however slow
    event_id = new_event(total=2)
    assert sell(event_id, 2)
    assert join(api, new_account(), event_id).status == 201  # the event's first join marks its line
    buyers = [new_account() for _ in range(JOINS)]
    with billed() as charges:
        for buyer in buyers:
            assert join(api, buyer, event_id).status == 201
    per_join = sum(c.rcu for c in charges if c.key == f"EVENT#{event_id}") / JOINS
    assert per_join <= 1.4
