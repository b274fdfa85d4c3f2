"""The waiting list: each user's entry in the bookings table, the line itself in the events table.
Keys and attributes: docs/data-model.md, "events" (waiting line) and "bookings and tickets"
(waiting-list entry).

The quota item counts the line (`waiting`: entries WAITING) in the same transactions that add and remove
line items, and a join holds only while too few tickets are on open sale: by condition, never by a read.
An offer (store/offers.py) takes an entry out of the line in the transaction that makes its hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from boxoffice.errors import AlreadyWaiting
from boxoffice.records import EntryRecord, EventRecord, Holding, Stock
from boxoffice.store import dynamo, event_items, inventory, legacy, users
from boxoffice.store import events as event_store
from boxoffice.store.dynamo import (
    ALL_OLD,
    Failed,
    Item,
    Transaction,
    aws_errors,
    bookings_table,
    client,
    dump,
    events_table,
    load,
    users_table,
    values,
)
from boxoffice.vocabulary import EntryStatus, EventStatus, UserRecord

_WAITING = "WAITING#"
_LINE = "LINE#"


def line_sk(record: EntryRecord) -> str:
    """Its place in the line: join order, then id (microsecond ties are broken, not lost)."""
    return f"{record.joined_at.isoformat(timespec='microseconds')}#{record.id}"


def entry_attributes(record: EntryRecord) -> Item:
    return {
        "id": record.id,
        "user_id": record.user_id,
        "event_id": record.event_id,
        "ticket_type_id": record.ticket_type_id,
        "ticket_type_name": record.ticket_type_name,
        "quantity": record.quantity,
        "status": record.status,
        "joined_at": record.joined_at.isoformat(timespec="microseconds"),
        "line_sk": line_sk(record),
        "hold_id": record.hold_id,
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
    }


def entry_of(item: Mapping[str, Any]) -> EntryRecord:
    expires_at, ended_at = item.get("expires_at"), item.get("ended_at")
    return EntryRecord(
        id=item["id"],
        user_id=item["user_id"],
        event_id=item["event_id"],
        ticket_type_id=item["ticket_type_id"],
        ticket_type_name=item["ticket_type_name"],
        quantity=int(item["quantity"]),
        status=EntryStatus(item["status"]),
        joined_at=datetime.fromisoformat(item["joined_at"]),
        hold_id=item.get("hold_id"),
        expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
        ended_at=datetime.fromisoformat(ended_at) if ended_at else None,
    )


def entry_in_line(event_id: str, item: Mapping[str, Any]) -> EntryRecord:
    """The WAITING entry a line item stands for."""
    joined_at, _, _ = item["sk"].partition("#")
    return EntryRecord(
        id=item["entry_id"],
        user_id=item["user_id"],
        event_id=event_id,
        ticket_type_id=item["ticket_type_id"],
        ticket_type_name=item["ticket_type_name"],
        quantity=int(item["quantity"]),
        status=EntryStatus.WAITING,
        joined_at=datetime.fromisoformat(joined_at),
    )


@dataclass(frozen=True, slots=True)
class JoinContext:
    """Everything a join reads, in one BatchGetItem."""

    user: UserRecord | None
    event: EventRecord | None  # with its quota's counters; its types' counters are not read
    holding: Holding
    entry: EntryRecord | None  # the caller's entry for the event, live or ended


class EntryChanged(Exception):
    """An entry's condition failed: the entry as DynamoDB saw it (None: gone or replaced)."""

    def __init__(self, entry: EntryRecord | None) -> None:
        super().__init__("entry changed")
        self.entry = entry


def entry_key(user_id: str, event_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{_WAITING}{event_id}"}


def line_pk(event_id: str) -> str:
    return f"{_LINE}{event_id}"


def line_key(entry: EntryRecord) -> dict[str, str]:
    return {"pk": line_pk(entry.event_id), "sk": line_sk(entry)}


def _line_item(entry: EntryRecord) -> Item:
    return {
        **line_key(entry),
        "entry_id": entry.id,
        "user_id": entry.user_id,
        "ticket_type_id": entry.ticket_type_id,
        "ticket_type_name": entry.ticket_type_name,
        "quantity": entry.quantity,
    }


def read_for_join(user_id: str, event_id: str) -> JoinContext:
    """One BatchGetItem: the account, the event with its quota, the caller's holding and entry.

    An event stored before ticket types is first moved to today's items (store.legacy.upgrade).
    """
    found = dynamo.batch_get(
        {
            users_table(): [users.user_key(user_id)],
            events_table(): [event_items.event_key(event_id), inventory.quota_key(event_id)],
            bookings_table(): [inventory.holding_key(user_id, event_id), entry_key(user_id, event_id)],
        },
        attributes=users.readable(),
    )
    items = found[events_table()]
    described = next((i for i in items if i["sk"] == event_items.EVENT), None)
    if described is not None and "ticket_types" not in described and legacy.upgrade(event_id):
        return read_for_join(user_id, event_id)
    own = {i["sk"]: i for i in found[bookings_table()]}
    entry = own.get(entry_key(user_id, event_id)["sk"])
    account = found[users_table()]
    return JoinContext(
        user=users.user_of(account[0]) if account else None,
        # A sharded event's stock from one atomic read: a join must see what all its shards have.
        event=inventory.with_stock(event_items.assemble(described, items)) if described else None,
        holding=inventory.holding(own.get(inventory.holding_key(user_id, event_id)["sk"])),
        entry=entry_of(entry) if entry else None,
    )


def join(entry: EntryRecord, stock: Stock, *, gate: str, token_version: int, now: datetime) -> None:
    """Put the entry and its line item and count it on the quota, in one transaction.

    It holds only while the event is on sale and not started, the type still sells, and the quota named by
    `gate` ("quota": the event's, "type": the type's sub-quota) has fewer than `entry.quantity` tickets on
    open sale; otherwise StockChanged carries `stock` as DynamoDB saw it. A live entry of the caller's for
    the event is AlreadyWaiting: of racing joins by one user exactly one commits.
    """
    qty = {"qty": entry.quantity}
    event, own = stock.event, stock.ticket_type
    # A sharded event: each shard keeps at most what one atomic read saw, whose sum is short (shards.py).
    quota_seen = list(event.shard_stock) if gate == "quota" and event.stocked > 1 else []
    type_seen = _type_seen(stock, entry.quantity) if gate == "type" and event.stocked > 1 else []
    quota_short = "available_tickets <= :mine" if quota_seen else "available_tickets < :qty"
    type_short = "available_tickets <= :mine" if type_seen else "available_tickets < :qty"
    tx = Transaction()
    tx.add(
        "entry",
        {
            "Put": {
                "TableName": bookings_table(),
                "Item": dump({**entry_key(entry.user_id, entry.event_id), **entry_attributes(entry)}),
                "ConditionExpression": "attribute_not_exists(pk) OR NOT #status IN (:waiting, :offered)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(waiting=EntryStatus.WAITING, offered=EntryStatus.OFFERED),
            }
        },
    )
    tx.add("line", {"Put": {"TableName": events_table(), "Item": dump(_line_item(entry))}})  # its key has a new id
    quota_values = ({"mine": quota_seen[0]} if quota_seen else qty) if gate == "quota" else {}
    tx.add(
        "quota",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(inventory.quota_key(entry.event_id)),
                "UpdateExpression": "ADD waiting :one",
                "ConditionExpression": "#status = :on_sale AND starts_at > :now"
                + (f" AND {quota_short}" if gate == "quota" else ""),
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(
                    one=1, on_sale=EventStatus.ON_SALE, now=now.isoformat(), **quota_values
                ),
                **ALL_OLD,
            }
        },
    )
    type_values = ({"mine": type_seen[0]} if type_seen else qty) if gate == "type" else {}
    tx.add(
        "type",
        {
            "ConditionCheck": {
                "TableName": events_table(),
                "Key": dump(inventory.type_key(entry.event_id, entry.ticket_type_id)),
                "ConditionExpression": "attribute_exists(sold)"
                " AND (attribute_not_exists(sales_end) OR sales_end > :now)"
                + (f" AND {type_short}" if gate == "type" else ""),
                "ExpressionAttributeValues": values(now=now.isoformat(), **type_values),
                **ALL_OLD,
            }
        },
    )
    inventory.short_checks(tx, "quota", lambda k: inventory.quota_key(event.id, k), quota_seen)
    inventory.short_checks(tx, "type", lambda k: inventory.type_key(event.id, own.id, k), type_seen)
    users.check_current(tx, entry.user_id, token_version)
    try:
        tx.commit()
    except Failed as exc:
        if exc.failed("entry"):
            raise AlreadyWaiting() from None
        every_shard = dict.fromkeys(range(event.stocked), 0)
        raise inventory.stock_changed(exc, stock.event, stock.ticket_type, stock.holding, every_shard) from None


def _type_seen(stock: Stock, quantity: int) -> list[int]:
    """The type's sub-quota in each stock shard, from one atomic read; StockChanged (with their sum) when
    they have enough together after all."""
    items = inventory.type_stock(stock.event, stock.ticket_type.id)
    seen = [int(i.get("available_tickets", 0)) for i in items]
    if sum(seen) >= quantity:
        raise inventory.StockChanged(
            stock.event, replace(stock.ticket_type, available_tickets=sum(seen)), stock.holding
        )
    return seen


def position(entry: EntryRecord) -> int:
    """1 + how many line items sort before the entry's: strongly consistent COUNT pages (1 MB each,
    some 10,000 line items), so exact at the time of the answer."""
    query: dict[str, Any] = {
        "TableName": events_table(),
        "KeyConditionExpression": "pk = :pk AND sk < :mine",
        "ExpressionAttributeValues": values(pk=line_pk(entry.event_id), mine=line_sk(entry)),
        "Select": "COUNT",
        "ConsistentRead": True,
    }
    ahead = 0
    while True:
        with aws_errors():
            raw = client().query(**query)
        ahead += int(raw.get("Count", 0))
        if "LastEvaluatedKey" not in raw:
            return ahead + 1
        query["ExclusiveStartKey"] = raw["LastEvaluatedKey"]


def read_entry(user_id: str, event_id: str) -> tuple[UserRecord | None, EntryRecord | None]:
    """The caller's account and their entry for the event, in one BatchGetItem."""
    found = dynamo.batch_get(
        {users_table(): [users.user_key(user_id)], bookings_table(): [entry_key(user_id, event_id)]},
        attributes=users.readable(),
    )
    account, entry = found[users_table()], found[bookings_table()]
    return (users.user_of(account[0]) if account else None), (entry_of(entry[0]) if entry else None)


def leave_line(entry: EntryRecord, *, token_version: int, now: datetime) -> EntryRecord:
    """WAITING -> LEFT in one transaction: the entry, its line item out, the quota's `waiting` - 1.

    The entry must still be this one and WAITING (an offer may have come first): EntryChanged carries it
    as it is otherwise.
    """
    left = replace(entry, status=EntryStatus.LEFT, ended_at=now)
    tx = Transaction()
    tx.add("entry", end_waiting(entry, status=EntryStatus.LEFT, now=now))
    tx.add("line", {"Delete": {"TableName": events_table(), "Key": dump(line_key(entry))}})
    tx.add("quota", count_waiting(entry.event_id, -1))
    users.check_current(tx, entry.user_id, token_version)
    try:
        tx.commit()
    except Failed as exc:
        old = exc.old("entry")
        raise EntryChanged(entry_of(old) if old else None) from None
    return left


def end_waiting(entry: EntryRecord, *, status: EntryStatus, now: datetime) -> dict[str, Any]:
    """The entry WAITING -> `status` (its ended_at set), if it is still this entry and WAITING."""
    return {
        "Update": {
            "TableName": bookings_table(),
            "Key": dump(entry_key(entry.user_id, entry.event_id)),
            "UpdateExpression": "SET #status = :status, ended_at = :now",
            "ConditionExpression": "id = :id AND #status = :waiting",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(
                status=status, now=now.isoformat(), id=entry.id, waiting=EntryStatus.WAITING
            ),
            **ALL_OLD,
        }
    }


def count_waiting(event_id: str, delta: int) -> dict[str, Any]:
    """The quota's count of entries WAITING moves with the line (a deleted event's tombstone too)."""
    return {
        "Update": {
            "TableName": events_table(),
            "Key": dump(inventory.quota_key(event_id)),
            "UpdateExpression": "ADD waiting :delta",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values(delta=delta),
        }
    }


def list_page(
    user_id: str, limit: int, after: str | None
) -> tuple[UserRecord | None, list[EntryRecord], bool, dict[str, tuple[EventStatus, datetime]]]:
    """The caller's account, up to `limit` of their entries by event id after event id `after`, whether
    more follow, and each of their events' status and start (from its quota: whether its line is still
    open): one Query and one BatchGetItem."""
    query: dict[str, Any] = {
        "TableName": bookings_table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": values(pk=f"USER#{user_id}", prefix=_WAITING),
        "ConsistentRead": True,
        "Limit": limit + 1,  # one more than asked tells whether a next page exists
    }
    if after is not None:
        query["ExclusiveStartKey"] = dump(entry_key(user_id, after))
    with aws_errors():
        raw = client().query(**query)
    entries = [entry_of(load(item)) for item in raw.get("Items", [])]
    found = dynamo.batch_get(
        {
            users_table(): [users.user_key(user_id)],
            events_table(): [inventory.quota_key(e.event_id) for e in entries[:limit]],
        },
        attributes=users.readable(),
    )
    account = found[users_table()]
    events = {
        q["pk"].removeprefix(inventory.event_pk("")): (EventStatus(q["status"]), datetime.fromisoformat(q["starts_at"]))
        for q in found[events_table()]
    }
    user = users.user_of(account[0]) if account else None
    return user, entries[:limit], len(entries) > limit or "LastEvaluatedKey" in raw, events


# --- the pool of tickets kept for the line, and offers ---


def read_pool(event_id: str) -> tuple[EventRecord | None, bool]:
    """The event with its counters and its types' (one strongly consistent Query of its partition), and
    whether its quota is in the pool index."""
    items = event_store.items_of(event_id)
    quota = next((i for i in items if i["sk"] == inventory.QUOTA), {})
    return event_store.from_items(items), inventory.POOL_KEY in quota


def line(event_id: str, limit: int) -> tuple[list[EntryRecord], bool]:
    """The first `limit` WAITING entries of the event's line, in join order, and whether more follow: one
    strongly consistent Query, whatever the line's length."""
    with aws_errors():
        raw = client().query(
            TableName=events_table(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values(pk=line_pk(event_id)),
            ConsistentRead=True,
            Limit=limit,
        )
    entries = [entry_in_line(event_id, load(item)) for item in raw.get("Items", [])]
    return entries, "LastEvaluatedKey" in raw


def _quota_update(event_id: str, expression: str, condition: str, **named: Any) -> bool:
    """One conditional UpdateItem of the event's quota; False when its condition failed."""
    request: dict[str, Any] = {
        "TableName": events_table(),
        "Key": dump(inventory.quota_key(event_id)),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
    }
    if named:  # DynamoDB refuses an empty map
        request["ExpressionAttributeValues"] = values(**named)
    with aws_errors():
        try:
            client().update_item(**request)
        except client().exceptions.ConditionalCheckFailedException:
            return False
    return True


def reopen(event_id: str, reserved: int) -> bool:
    """Once nobody waits, the pool's `reserved` tickets go back on open sale and the event leaves the pool
    index; False when the pool or the line changed since it was read."""
    return _quota_update(
        event_id,
        f"SET available_tickets = available_tickets + :reserved, reserved = :zero REMOVE {inventory.POOL_KEY}",
        f"reserved = :reserved AND {inventory.NOBODY_WAITS}",
        reserved=reserved,
        zero=0,
    )


def release_pool(event_id: str, reserved: int, waiting: int) -> bool:
    """The pool's `reserved` tickets go back on open sale though `waiting` entries remain: none of them can
    take them (their event closed, or each is held back by something more tickets cannot change). False
    when the pool or the line changed since that was judged: a join, a leave or a return makes it read again.
    """
    return _quota_update(
        event_id,
        f"SET available_tickets = available_tickets + :reserved, reserved = :zero REMOVE {inventory.POOL_KEY}",
        "reserved = :reserved AND waiting = :waiting",
        reserved=reserved,
        waiting=waiting,
        zero=0,
    )


def unlist(event_id: str) -> bool:
    """The event leaves the pool index once its pool is empty (unless tickets came back to it meanwhile)."""
    empty = "attribute_not_exists(reserved) OR reserved = :zero"  # (a deleted event is listed with none)
    return _quota_update(event_id, f"REMOVE {inventory.POOL_KEY}", empty, zero=0)


def relist(event_id: str) -> None:
    """The event stays in the pool index though its pool is empty: the sweeper has work left on its line."""
    _quota_update(event_id, f"SET {inventory.POOL_KEY} = :pooled", "attribute_exists(pk)", pooled=inventory.POOLED)


def pooled(limit: int) -> list[str]:
    """Up to `limit` events whose quota keeps tickets for its line: one Query of the sparse pool index."""
    with aws_errors():
        raw = client().query(
            TableName=events_table(),
            IndexName=inventory.BY_POOL,
            KeyConditionExpression=f"{inventory.POOL_KEY} = :pooled",
            ExpressionAttributeValues=values(pooled=inventory.POOLED),
            Limit=limit,
        )
    return [load(item)["pk"].removeprefix(inventory.event_pk("")) for item in raw.get("Items", [])]


def offered(entry: EntryRecord, hold_id: str, expires_at: datetime) -> dict[str, Any]:
    """The entry WAITING -> OFFERED with its hold, if it is still this entry and WAITING."""
    return {
        "Update": {
            "TableName": bookings_table(),
            "Key": dump(entry_key(entry.user_id, entry.event_id)),
            "UpdateExpression": "SET #status = :offered, hold_id = :hold, expires_at = :expires",
            "ConditionExpression": "id = :id AND #status = :waiting",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(
                offered=EntryStatus.OFFERED,
                hold=hold_id,
                expires=expires_at.isoformat(),
                id=entry.id,
                waiting=EntryStatus.WAITING,
            ),
            **ALL_OLD,
        }
    }


def offer_ended(user_id: str, event_id: str, entry_id: str, *, status: EntryStatus, now: datetime) -> dict[str, Any]:
    """The entry OFFERED -> `status` (BOOKED, EXPIRED, LEFT) as its offer hold ends, in the hold's transaction."""
    return {
        "Update": {
            "TableName": bookings_table(),
            "Key": dump(entry_key(user_id, event_id)),
            "UpdateExpression": "SET #status = :status, ended_at = :now",
            "ConditionExpression": "id = :id AND #status = :offered",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(
                status=status, now=now.isoformat(), id=entry_id, offered=EntryStatus.OFFERED
            ),
        }
    }


def drop(entry: EntryRecord, *, status: EntryStatus, now: datetime) -> None:
    """WAITING -> `status` for an entry that can wait no more (EXPIRED: its type no longer sells; CLOSED:
    its event was deleted or has started): out of the line, one fewer WAITING."""
    tx = Transaction()
    tx.add("entry", end_waiting(entry, status=status, now=now))
    tx.add("line", {"Delete": {"TableName": events_table(), "Key": dump(line_key(entry))}})
    tx.add("quota", count_waiting(entry.event_id, -1))
    with suppress(Failed):  # left, or dropped by a racing allocator: it is out of the line either way
        tx.commit()


def started(since: datetime, until: datetime, limit: int) -> list[str]:
    """Up to `limit` events on sale that started in [since, until]: one Query of the by_time index."""
    with aws_errors():
        raw = client().query(
            TableName=events_table(),
            IndexName=event_items.BY_TIME,
            KeyConditionExpression="list_pk = :live AND starts_key BETWEEN :since AND :until",
            ExpressionAttributeValues=values(
                live=event_items.LIVE, since=since.isoformat(), until=f"{until.isoformat()}#~"
            ),
            ProjectionExpression="pk",
            Limit=limit,
        )
    return [load(item)["pk"].removeprefix(inventory.event_pk("")) for item in raw.get("Items", [])]
