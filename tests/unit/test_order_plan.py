"""Where an order's lines take their tickets from, and the order too large for one transaction: pure
decisions (store/orders.py plan; the action count is checked before anything is sent)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.errors import OrderTooLarge
from boxoffice.logic import orders as logic
from boxoffice.records import Holding
from boxoffice.store import orders
from boxoffice.store.inventory import Taken
from tests.support.records import NOW, event_record, ticket_type

ADULT = ticket_type(id="adult", name="Adult")
CHILD = ticket_type(id="child", name="Child")


def test_an_unsharded_events_lines_all_take_from_shard_0() -> None:
    assert orders.plan(event_record(), [(ADULT, 2), (CHILD, 3)]) == [{0: 2}, {0: 3}]


def test_an_order_takes_every_line_from_one_shard_that_has_them_all() -> None:
    event = event_record(inventory_shards=3, shard_stock=(2, 5, 3), available_tickets=10)
    assert orders.plan(event, [(ADULT, 3), (CHILD, 2)]) == [{1: 3}, {1: 2}]


def test_each_line_takes_from_what_the_lines_before_it_left() -> None:
    event = event_record(inventory_shards=2, shard_stock=(3, 2), available_tickets=5)
    assert orders.plan(event, [(ADULT, 3), (CHILD, 2)]) == [{0: 3}, {1: 2}]
    with pytest.raises(orders.Unplaceable) as short:
        orders.plan(event, [(ADULT, 3), (CHILD, 3)])
    assert (short.value.line, short.value.available) == (1, 2)


def test_a_line_takes_only_from_the_shards_holding_its_types_sub_quota() -> None:
    event = event_record(inventory_shards=2, shard_stock=(5, 5), available_tickets=10)
    kids = ticket_type(id="child", name="Child", total_tickets=2, available_tickets=2, shard_stock=(0, 2))
    assert orders.plan(event, [(kids, 2)]) == [{1: 2}]


def test_an_order_spread_over_more_than_100_actions_is_refused_before_anything_is_sent() -> None:
    event = event_record(inventory_shards=64, shard_stock=(1,) * 64, available_tickets=64, max_tickets_per_booking=50)
    types = [ticket_type(id=f"type-{n}", name=f"Type {n}") for n in range(10)]
    lines = [(t, 5) for t in types]
    plans = orders.plan(event, lines)
    assert all(len(p) == 5 for p in plans)  # every shard has one ticket: each line spreads over five
    sales = [logic.LineSale(t, q, Decimal(0), counted=False) for t, q in lines]
    record = logic.new_record("user", event, sales, plans, NOW, None)
    taken = [Taken(t, q, p, t.price * q) for (t, q), p in zip(lines, plans, strict=True)]
    with pytest.raises(OrderTooLarge):
        orders.create(
            record,
            codes=dict.fromkeys(record.ticket_numbers, "code"),
            event=event,
            lines=taken,
            holding=Holding(),
            token_version=0,
            claim=None,
            now=NOW,
            redemption=None,
        )
