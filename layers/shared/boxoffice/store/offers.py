"""A waiting-list offer: reserved tickets become a hold for the entry's user, in one transaction.

It moves the tickets from `reserved` (the line's pool, spread over the stock shards they came back to: one
or several in the one transaction) to `held` and counts one fewer WAITING in the entry's line shard, the
type and the user's holding as a hold does (inventory.allot), puts the hold (HELD, with `waiting_entry_id`), takes the
entry's line item out and moves the entry WAITING -> OFFERED with the hold's id and expiry. Every part is
conditioned on what it reads from the allocator's one read, so racing allocators offer each ticket once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from boxoffice import shards
from boxoffice.records import EntryRecord, EventRecord, HoldRecord, TicketType
from boxoffice.store import holds, inventory
from boxoffice.store import waitlist as lines
from boxoffice.store.dynamo import Failed, Transaction, bookings_table, dump, events_table


class OfferRefused(Exception):
    """An offer's transaction lost a condition: `pool` (the quota changed: read it again), else this entry
    cannot have it now (it left, its type stopped selling or changed price, its user reached the cap)."""

    def __init__(self, *, pool: bool) -> None:
        super().__init__("offer refused")
        self.pool = pool


def offer(
    entry: EntryRecord,
    hold: HoldRecord,
    *,
    event: EventRecord,
    pools: Sequence[int],
    ticket_type: TicketType,
    now: datetime,
    head: bool,
) -> shards.Plan:
    """Make `hold` (HELD, for the entry's user) from the event's reserved tickets, in one transaction (`head`:
    nobody waits ahead of the entry, so it counts as served from the line's head), taking from the stock
    shards' `pools` (each one's part as read); the tickets it took from each shard."""
    taken = shards.plan(pools, entry.quantity)
    if taken is None:  # (the read's parts are short: read again)
        raise OfferRefused(pool=True)
    tx = Transaction()
    shard = inventory.offer_shard(event, ticket_type, entry.quantity, taken)
    hold = replace(hold, shards=((shard, entry.quantity),)) if shard else hold
    inventory.allot(
        tx,
        event,
        ticket_type,
        entry.user_id,
        entry.quantity,
        now,
        taken=taken,
        shard=shard,
        legacy_line=entry.line_shard is None,
    )
    tx.add(
        "hold",
        {
            "Put": {
                "TableName": bookings_table(),
                "Item": dump(holds.hold_item(hold)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    )
    tx.add("line", {"Delete": {"TableName": events_table(), "Key": dump(lines.line_key(entry))}})
    if entry.line_shard is not None:  # (the legacy line is counted by the quota's update, in allot)
        tx.add("count", lines.count_entry(entry, -1, served=head))
    tx.add("entry", lines.offered(entry, hold.id, hold.expires_at))
    try:
        tx.commit()
    except Failed as exc:
        raise OfferRefused(pool=inventory.failed_quota(exc, taken)[0]) from None
    return taken
