"""An event's sales and door counters, kept in the same transactions as the changes they count, and the
read that sums them. Which item holds which counter: docs/data-model.md, "Stats".

Reading them is two BatchGetItems: the event and its quota, the eight check-in shards (and the caller's
account); then the counter items of the event's types, whose ids the event item holds.
An event stored before ticket types has its counts on its own item, and no cancel or revenue counters.
"""

from __future__ import annotations

from boxoffice.records import StatsRecord, TypeStatsRecord
from boxoffice.store import dynamo, event_items, inventory, tickets, users
from boxoffice.store.dynamo import Item, events_table, tickets_table, users_table
from boxoffice.vocabulary import UserRecord


def _type_counters(event_id: str, described: Item) -> dict[str, Item]:
    """The counter items of the event's types, by type id, in one BatchGetItem (none for an event stored
    before ticket types: its one type's counts are the event's own)."""
    keys = [inventory.type_key(event_id, type_id) for type_id in described.get("ticket_types", {})]
    if not keys:
        return {}
    found = dynamo.batch_get({events_table(): keys})[events_table()]
    return {item["sk"].removeprefix(inventory.TYPE): item for item in found}


def read(event_id: str, caller_id: str) -> tuple[UserRecord | None, StatsRecord | None]:
    """The caller's account and the event's counters (None: no such event), in two BatchGetItems."""
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
    counters = items.get(inventory.QUOTA, described)
    by_type = _type_counters(event_id, described)
    event = event_items.assemble(described, [*items.values(), *by_type.values()])
    stats = StatsRecord(
        event=event,
        cancelled=int(counters.get(inventory.CANCELLED_TICKETS, 0)),
        checked_in=tickets.checked_in(shards),
        revenue=inventory.revenue(counters),
        ticket_types=tuple(
            TypeStatsRecord(
                ticket_type=t,
                cancelled=int(by_type.get(t.id, {}).get(inventory.CANCELLED_TICKETS, 0)),
                checked_in=tickets.checked_in(shards, t.id),
                revenue=inventory.revenue(by_type.get(t.id, {})),
            )
            for t in event.ticket_types
        ),
    )
    return account, stats
