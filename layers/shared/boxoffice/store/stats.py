"""An event's sales and door counters, kept in the same transactions as the changes they count, and the
read that sums them. Which item holds which counter: docs/data-model.md, "Stats".

Reading them is two BatchGetItems: the event and its quota, the eight check-in shards (and the caller's
account); then the counter items of the event's types, whose ids the event item holds.
An event stored before ticket types has its counts on its own item, and no cancel or revenue counters.
"""

from __future__ import annotations

from decimal import Decimal

from boxoffice.records import StatsRecord, TypeStatsRecord
from boxoffice.store import dynamo, event_items, inventory, tickets, users
from boxoffice.store.dynamo import Item, events_table, tickets_table, users_table
from boxoffice.vocabulary import UserRecord


def _stock_counters(event_id: str, described: Item) -> list[Item]:
    """The counter items of the event's types in every stock shard, and the other shards' quota items, in
    one BatchGetItem (none for an event stored before ticket types: its one type's counts are the event's own)."""
    types = list(described.get("ticket_types", {}))
    count = int(described.get("stock_shards") or described.get("inventory_shards") or 1)
    keys = [inventory.type_key(event_id, t, k) for k in range(count) for t in types]
    keys += [inventory.quota_key(event_id, k) for k in range(1, count)]
    return dynamo.batch_get({events_table(): keys})[events_table()] if keys else []


def _cancelled(items: list[Item]) -> int:
    return sum(int(item.get(inventory.CANCELLED_TICKETS, 0)) for item in items)


def _revenue(items: list[Item]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = {}
    for item in items:
        for currency, amount in inventory.revenue(item).items():
            total[currency] = total.get(currency, Decimal(0)) + amount
    return total


def read(event_id: str, caller_id: str) -> tuple[UserRecord | None, StatsRecord | None]:
    """The caller's account and the event's counters, summed over its stock shards (None: no such event),
    in two BatchGetItems."""
    found = dynamo.batch_get(
        {
            users_table(): [users.user_key(caller_id)],
            events_table(): [event_items.event_key(event_id), inventory.quota_key(event_id)],
            tickets_table(): tickets.checkin_shard_keys(event_id),
        },
        attributes=users.readable(),
    )
    account = users.user_of(found[users_table()][0]) if found[users_table()] else None
    items = {item["sk"]: item for item in found[events_table()]}
    if event_items.EVENT not in items:
        return account, None
    described, shards = items[event_items.EVENT], found[tickets_table()]
    stock = _stock_counters(event_id, described)
    quotas = [items.get(inventory.QUOTA, described), *(i for i in stock if i["sk"] == inventory.QUOTA)]
    by_type: dict[str, list[Item]] = {}
    for item in stock:
        if item["sk"].startswith(inventory.TYPE):
            by_type.setdefault(item["sk"].removeprefix(inventory.TYPE), []).append(item)
    event = event_items.assemble(described, [*items.values(), *stock])
    stats = StatsRecord(
        event=event,
        cancelled=_cancelled(quotas),
        checked_in=tickets.checked_in(shards),
        revenue=_revenue(quotas),
        ticket_types=tuple(
            TypeStatsRecord(
                ticket_type=t,
                cancelled=_cancelled(by_type.get(t.id, [])),
                checked_in=tickets.checked_in(shards, t.id),
                revenue=_revenue(by_type.get(t.id, [])),
            )
            for t in event.ticket_types
        ),
    )
    return account, stats
