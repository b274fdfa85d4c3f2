"""What a join reads of the event's own partition (`EVENT#<id>`, which every booking of the event also reads):
at most ~1.4 read units a join once the process knows the event, so that 2,000 joins a second fit its
3,000 (issue 20: "A line of 100,000")."""

from __future__ import annotations

import pytest

from boxoffice.config import settings
from boxoffice.store import dynamo, event_items
from scripts.bench.capacity import Charge
from scripts.bench.partitions import billed
from tests.support.bookings import new_account, new_event
from tests.support.events import sell
from tests.support.handlers import Api
from tests.support.holds import Clock, place
from tests.support.waitlist import join, leave

JOINS = 6


@pytest.fixture(autouse=True)
def known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_items, "RECENT_SECONDS", 600.0)  # the process read the event lately, however slow


def per_key(api: Api, event_id: str, **body: str) -> dict[str, float]:
    """The read units JOINS joins (of `body`) into the event's marked line take on each partition key, each."""
    assert join(api, new_account(), event_id, **body).status == 201  # the event's first join marks its line
    buyers = [new_account() for _ in range(JOINS)]
    charges: list[Charge]
    with billed() as charges:
        for buyer in buyers:
            assert join(api, buyer, event_id, **body).status == 201
    units: dict[str, float] = {}
    for c in charges:
        units[c.key] = units.get(c.key, 0.0) + c.rcu / JOINS
    return units


def per_join(api: Api, event_id: str) -> float:
    """The read units JOINS joins into the event's marked line take on its own partition, each."""
    return per_key(api, event_id).get(f"EVENT#{event_id}", 0.0)


def sold_out(event_id: str, total: int) -> None:
    buyer = new_account()
    for _ in range(total):
        booked = Api().call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1})
        assert booked.status == 201, booked.body


def test_joins_into_a_known_events_line_read_about_one_unit_each_on_its_own_partition(api: Api) -> None:
    event_id = new_event(total=2)
    assert sell(event_id, 2)
    assert per_join(api, event_id) <= 1.4


def test_joins_into_a_sharded_events_line_read_at_most_one_unit_each_on_every_stock_partition(api: Api) -> None:
    event_id = new_event(total=4, inventory_shards=4)
    sold_out(event_id, 4)
    units = per_key(api, event_id)
    # Shard 0: its own items' Query alone (nothing before the commit); shards 1..3: their quota, plainly.
    stock = {key: units.get(key, 0.0) for key in [f"EVENT#{event_id}", *(f"EVENT#{event_id}#S{k}" for k in (1, 2, 3))]}
    assert all(0 < rcu <= 1 for rcu in stock.values()), stock


def test_joins_for_a_sub_quota_type_read_its_shards_counters_beside_their_quotas(api: Api) -> None:
    types = [{"name": "Balcony", "price": "30.00", "total_tickets": 4}, {"name": "Stalls", "price": "20.00"}]
    event_id = new_event(total=8, inventory_shards=4, types=types)
    shown = Api().call("get_event", path={"event_id": event_id}).body["ticket_types"]
    balcony = next(t["id"] for t in shown if t["name"] == "Balcony")
    buyer = new_account()
    for _ in range(4):
        body = {"quantity": 1, "ticket_type_id": balcony}
        assert api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body=body).status == 201
    units = per_key(api, event_id, ticket_type_id=balcony)
    # Shard 0's Query takes its quota and the type's counter at once; each other shard's two items, 1 RCU each.
    assert units[f"EVENT#{event_id}"] <= 1
    assert all(units[f"EVENT#{event_id}#S{k}"] <= 2 for k in (1, 2, 3)), units


def test_a_lapsed_hold_the_gate_finds_after_a_known_events_join_is_offered_to_the_line(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    event_id = new_event(total=1)
    assert place(api, new_account(), event_id, 1).status == 201  # its one ticket held
    first, late = new_account(), new_account()
    joined = join(api, first, event_id)
    assert leave(api, first, joined.body["id"]).status == 200  # the line is marked, and empty
    clock.advance(settings().hold_seconds)

    entry = join(api, late, event_id)  # reads no stock before its commit: the hold lapsed then comes to the line

    assert (entry.status, entry.body.get("status")) == (201, "OFFERED"), entry.body
    assert entry.body["hold_id"] is not None


def test_a_refusal_judged_on_the_event_as_its_process_read_it_lately_stands_only_on_a_fresh_read(api: Api) -> None:
    event_id = new_event(total=2, per_user=1)
    capped, admin = new_account(), new_account("admin")
    for buyer in (capped, new_account()):
        assert (
            api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1}).status
            == 201
        )
    assert join(api, new_account(), event_id).status == 201  # the process knows the event and its marked line
    before = dynamo.get(settings().events_table, event_items.event_key(event_id))
    raised = api.call("update_event", token=admin.token, path={"event_id": event_id}, body={"max_tickets_per_user": 5})
    assert raised.status == 200, raised.body
    event_items.keep(before)  # the edit as another process made it: this one still has the event as it read it

    assert join(api, capped, event_id).status == 201  # the cap it knew (1) would refuse; the event's (5) lets it wait
