"""An event's sales and door counters, kept in the same transactions as the changes they count.

On the event item (events table, `EVENT#<id>/EVENT`), which every booking and cancel already updates
(so counting adds no item to their transactions):
  available_tickets   the live count (sold = total_tickets - available_tickets)
  cancelled_tickets   ADD q by every cancel
  revenue_<CURRENCY>  ADD the total by every booking, minus it by its cancel, in the booking's currency
On the tickets table, `EVENT#<id>/CHECKINS#<0..7>` (store/tickets.py): checked_in, summed.

Reading them all is one BatchGetItem: the event item, the eight shards (and the caller's account).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boxoffice.config import settings
from boxoffice.store import dynamo, tickets, users
from boxoffice.store.events import EventRecord, event_key
from boxoffice.store.users import UserRecord

CANCELLED = "cancelled_tickets"
_REVENUE = "revenue_"


def revenue_attribute(currency: str) -> str:
    """Currencies are three capital letters (validated on the way in): safe in an attribute name."""
    return f"{_REVENUE}{currency}"


def count_sale(currency: str, amount: Decimal) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The ADD clause (with its names and values) that counts a booking's money: negative for a refund."""
    return "#revenue :revenue", {"#revenue": revenue_attribute(currency)}, {"revenue": amount}


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
            events_table: [event_key(event_id)],
            tickets_table: tickets.checkin_shard_keys(event_id),
        }
    )
    account = UserRecord.from_item(found[users_table][0]) if found[users_table] else None
    if not found[events_table]:
        return account, None
    item = found[events_table][0]
    revenue = {name.removeprefix(_REVENUE): Decimal(value) for name, value in item.items() if name.startswith(_REVENUE)}
    stats = StatsRecord(
        event=EventRecord.from_item(item),
        cancelled=int(item.get(CANCELLED, 0)),
        checked_in=sum(int(shard.get("checked_in", 0)) for shard in found[tickets_table]),
        revenue=revenue,
    )
    return account, stats
