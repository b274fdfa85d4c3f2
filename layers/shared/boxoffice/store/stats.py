"""An event's sales and door counters, kept in the same transactions as the changes they count.

On the event's quota item (events table, `EVENT#<id>/QUOTA`, store/inventory.py), which every booking and
cancel already updates (so counting adds no item to their transactions):
  total_tickets, available_tickets, sold   the live counts
  cancelled_tickets   ADD q by every cancel
  revenue_<CURRENCY>  ADD the total by every booking, minus it by its cancel, in the booking's currency
On the tickets table, `EVENT#<id>/CHECKINS#<0..7>` (store/tickets.py): checked_in, summed.

Reading them all is one BatchGetItem: the event and its quota, the eight shards (and the caller's account).
An event stored before ticket types has its counts on its own item, and no cancel or revenue counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from boxoffice.config import settings
from boxoffice.records import EventRecord
from boxoffice.store import dynamo, inventory, tickets, users
from boxoffice.store import events as event_store
from boxoffice.store.users import UserRecord


@dataclass(frozen=True, slots=True)
class StatsRecord:
    event: EventRecord
    cancelled: int
    checked_in: int
    revenue: dict[str, Decimal]  # by currency; a currency whose bookings were all cancelled shows 0


def read(event_id: str, caller_id: str) -> tuple[UserRecord | None, StatsRecord | None]:
    """The caller's account and the event's counters (None: no such event), in one BatchGetItem."""
    events_table, tickets_table, users_table = settings().events_table, tickets.table(), settings().users_table
    found = dynamo.batch_get(
        {
            users_table: [users.user_key(caller_id)],
            events_table: [event_store.event_key(event_id), inventory.quota_key(event_id)],
            tickets_table: tickets.checkin_shard_keys(event_id),
        }
    )
    account = UserRecord.from_item(found[users_table][0]) if found[users_table] else None
    items = {item["sk"]: item for item in found[events_table]}
    if event_store.EVENT not in items:
        return account, None
    counters = items.get(inventory.QUOTA, items[event_store.EVENT])
    stats = StatsRecord(
        event=event_store.assemble(items[event_store.EVENT], items.values()),
        cancelled=int(counters.get(inventory.CANCELLED_TICKETS, 0)),
        checked_in=sum(int(shard.get("checked_in", 0)) for shard in found[tickets_table]),
        revenue=inventory.revenue(counters),
    )
    return account, stats
