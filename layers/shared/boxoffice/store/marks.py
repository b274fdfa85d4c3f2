"""The mark of a used waiting line on an event's stock shards (inventory.LINE_USED), and its removal.

While any shard's quota carries the mark, returns of tickets to open sale prove nobody waits with
line.LINE_SHARDS ConditionChecks on the line's counters (the NOBODY path); without it, on their own
shard's quota alone (UNUSED). A join marks every stock shard and flags its own counter (line.STOCK_MARKED)
in its transaction (store/waitlist.py); once the line is empty again, `unmark` takes the marks and the
flags off in one transaction, so an event whose crowd has gone stops paying for its line.
"""

from __future__ import annotations

import time
from typing import Any, Final

from boxoffice.errors import Busy, Throttled
from boxoffice.store import dynamo, event_items, inventory, line
from boxoffice.store.dynamo import Failed, Item, Transaction, dump, events_table, values

# An unmark that failed (someone joined) is not tried again for the event within this many seconds by this
# process: while a line fills and empties, a burst of returns pays for one failed unmark, not one each.
DEBOUNCE_SECONDS: Final = 1.0
_EVENTS: Final = 1024  # bounded as the other per-process guesses: cleared when full
_failed: dict[str, float] = {}


def check_stocked(tx: Transaction, event_id: str, stocked: int) -> None:
    """The event has no more stock shards than `stocked` (their count only grows): action `event`."""
    tx.add(
        "event",
        {
            "ConditionCheck": {
                "TableName": events_table(),
                "Key": dump(event_items.event_key(event_id)),
                "ConditionExpression": "(attribute_not_exists(inventory_shards) OR inventory_shards <= :stocked)"
                " AND (attribute_not_exists(stock_shards) OR stock_shards <= :stocked)",
                "ExpressionAttributeValues": values(stocked=stocked),
            }
        },
    )


def unmark(event_id: str) -> bool:
    """Take LINE_USED off every stock shard's quota and STOCK_MARKED off every counter, in one transaction
    (at most 90 + 9 actions), while every counter is 0, the legacy line (shard 0's `waiting`) is empty and
    the event has no more shards than read; whether it committed. Best effort (run once a return has
    committed: it never fails the request): a join since makes it fail (its line is in use again), as does
    a re-shard (its new shards may keep the mark: that only costs their returns the counters' checks), and
    a conflict past boxoffice.retry's attempts. A re-shard copies the mark from shard 0 as it read it,
    and puts a shard unmarked only while shard 0 has no mark at its commit (store/events.py): then no
    counter is flagged, so every join since marks every shard, the new ones too."""
    failed_at = _failed.get(event_id)
    if failed_at is not None and time.monotonic() - failed_at < DEBOUNCE_SECONDS:
        return False
    item = event_items.recent(event_id) or _shard_counts(event_id)
    if item is None:
        return False
    stocked = event_items.stocked(item)
    tx = Transaction()
    line.unflag(tx, event_id)
    check_stocked(tx, event_id, stocked)
    for shard in range(stocked):
        legacy = f" AND {inventory.NOBODY_WAITS}" if shard == 0 else ""
        tx.add(inventory.quota_action(shard), _unmark_quota(event_id, shard, legacy))
    try:
        tx.commit()
    except (Failed, Busy, Throttled):  # (a return has committed: the line stays marked, which only costs)
        if len(_failed) >= _EVENTS:
            _failed.clear()
        _failed[event_id] = time.monotonic()
        return False
    _failed.pop(event_id, None)
    return True


def _shard_counts(event_id: str) -> Item | None:
    """The event item's shard counts (a BatchGetItem of one key: the read every returning function may make)."""
    table = events_table()
    found = dynamo.batch_get(
        {table: [event_items.event_key(event_id)]}, attributes={table: ["pk", "inventory_shards", "stock_shards"]}
    )
    return next(iter(found[table]), None)


def _unmark_quota(event_id: str, shard: int, legacy: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": events_table(),
            "Key": dump(inventory.quota_key(event_id, shard)),
            "UpdateExpression": f"REMOVE {inventory.LINE_USED}",
            "ConditionExpression": f"attribute_exists(pk){legacy}",  # (never a quota of its own)
            **({"ExpressionAttributeValues": values(zero=0)} if legacy else {}),
        }
    }
