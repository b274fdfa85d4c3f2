"""The waiting list: each user's entry in the bookings table, the line itself in the events table.
Keys and attributes: docs/data-model.md, "events" (waiting line) and "bookings and tickets"
(waiting-list entry).

The line is spread over shards (store/line.py), each counting its entries WAITING (`waiting`) in the same
transactions that add and remove its line items; the line of an event stored before the shards is counted
by the quota's `waiting` as before. A join writes no item of the event's own partition: its gate (too few
tickets on open sale) is judged from the join's read and again from a read after its commit, which takes
the entry back if tickets came back in between (logic/waitlist.py). An offer (store/offers.py) takes an
entry out of the line in the transaction that makes its hold.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from boxoffice.errors import AlreadyWaiting, EventNotFound
from boxoffice.records import EntryRecord, EventRecord, Holding, Stock, TicketType
from boxoffice.shards import MAX_SHARDS
from boxoffice.store import dynamo, event_items, inventory, legacy, line, marks, users
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
        "line_shard": record.line_shard,
        "line_waiting": record.line_waiting,
        "line_served": record.line_served,
    }


def entry_of(item: Mapping[str, Any]) -> EntryRecord:
    expires_at, ended_at = item.get("expires_at"), item.get("ended_at")
    shard, waiting, served = item.get("line_shard"), item.get("line_waiting"), item.get("line_served")
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
        line_shard=None if shard is None else int(shard),
        line_waiting=None if waiting is None else int(waiting),
        line_served=None if served is None else int(served),
    )


def entry_in_line(event_id: str, shard: int, item: Mapping[str, Any]) -> EntryRecord:
    """The WAITING entry a line item of `shard` stands for."""
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
        line_shard=None if shard == line.LEGACY else shard,
    )


@dataclass(frozen=True, slots=True)
class JoinContext:
    """Everything a join reads, in one BatchGetItem."""

    user: UserRecord | None
    event: EventRecord | None  # with its quota's counters (stock_known False: not read); its types' are not read
    holding: Holding
    entry: EntryRecord | None  # the caller's entry for the event, live or ended


class EntryChanged(Exception):
    """An entry's condition failed: the entry as DynamoDB saw it (None: gone or replaced)."""

    def __init__(self, entry: EntryRecord | None) -> None:
        super().__init__("entry changed")
        self.entry = entry


def entry_key(user_id: str, event_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{_WAITING}{event_id}"}


def shard(entry: EntryRecord) -> int:
    return line.LEGACY if entry.line_shard is None else entry.line_shard


def line_key(entry: EntryRecord) -> dict[str, str]:
    return {"pk": line.line_pk(entry.event_id, shard(entry)), "sk": line_sk(entry)}


def count_entry(entry: EntryRecord, delta: int, *, served: bool = False) -> dict[str, Any]:
    """The count of the entry's shard moves by `delta` (the quota's `waiting` for the legacy line); `served`:
    it leaves from the head of the line (line.count)."""
    if entry.line_shard is None:
        return count_waiting(entry.event_id, delta)
    return line.count(entry.event_id, entry.line_shard, delta, served=served)


def _line_item(entry: EntryRecord) -> Item:
    return {
        **line_key(entry),
        "entry_id": entry.id,
        "user_id": entry.user_id,
        "ticket_type_id": entry.ticket_type_id,
        "ticket_type_name": entry.ticket_type_name,
        "quantity": entry.quantity,
    }


# Events whose sharded line this process has seen marked (LINE_USED; a guess: an emptied line is unmarked,
# store/marks.py): a join into such a line, by a process that read the event lately (event_items.recent),
# reads nothing of the event's partition first, and finds its counter unflagged if the guess was wrong.
_MARKED_EVENTS = 1024
_marked: set[str] = set()


def _note_marked(event: EventRecord) -> None:
    if event.line_used:
        if len(_marked) >= _MARKED_EVENTS:
            _marked.clear()
        _marked.add(event.id)


def read_for_join(user_id: str, event_id: str, *, fresh: bool = False) -> JoinContext:
    """One BatchGetItem: the account, the caller's holding and entry, and what this process does not know of
    the event. Its descriptive item comes from event_items.recent when read in the last second (its rules
    are judged again after the commit, on the quota's copies); its quota (and a sharded event's other
    shards, plainly) only while this process has not seen its line marked: a join into a marked line needs
    none of its counters before the commit (the event's stock is then unknown: the gate after the commit
    decides). So a join reads nothing of `EVENT#<id>` before its commit once the process knows the event.
    `fresh`: read the event and its quota whatever the process knows (a refusal rests on them).

    An event stored before ticket types is first moved to today's items (store.legacy.upgrade).
    """
    described = None if fresh else event_items.recent(event_id)
    known = described is not None and event_id in _marked
    events_keys = [] if known else [inventory.quota_key(event_id)]
    if described is None:
        events_keys.append(event_items.event_key(event_id))
    found = dynamo.batch_get(
        {
            users_table(): [users.user_key(user_id)],
            events_table(): events_keys,
            bookings_table(): [inventory.holding_key(user_id, event_id), entry_key(user_id, event_id)],
        },
        attributes=users.readable(),
    )
    items = found[events_table()]
    if described is None:
        described = next((i for i in items if i["sk"] == event_items.EVENT), None)
        if described is not None and "ticket_types" not in described and legacy.upgrade(event_id):
            return read_for_join(user_id, event_id)
        if described is not None:
            event_items.keep(described)
    own = {i["sk"]: i for i in found[bookings_table()]}
    entry = own.get(entry_key(user_id, event_id)["sk"])
    account = found[users_table()]
    event = None
    if described is not None and known:
        event = replace(event_items.describe(described), line_used=True, stock_known=False)
    elif described is not None:
        # A sharded event's stock from a plain read of its shards, which no booking in flight cancels: enough
        # to let a join go ahead (the gate is judged again on one atomic read once it has committed, gate_now);
        # a refusal is judged again on one (confirmed).
        event = inventory.with_stock(event_items.assemble(described, items), atomic=False)
        _note_marked(event)
    return JoinContext(
        user=users.user_of(account[0]) if account else None,
        event=event,
        holding=inventory.holding(own.get(inventory.holding_key(user_id, event_id)["sk"])),
        entry=entry_of(entry) if entry else None,
    )


def confirmed(event: EventRecord) -> EventRecord:
    """A sharded event's open stock from one atomic read of its shards (read_for_join's plain read may have
    seen each at a different moment, so its sum proves nothing); an unsharded one as it is."""
    return inventory.with_stock(event)


class LineUnmarked(Exception):
    """A join found its counter without STOCK_MARKED (the line was unmarked since, or was marked before
    counters carried the flag): it goes again as a first join, marking every stock shard."""


class ShardsChanged(Exception):
    """A first join found the event's stock shards changed since its read (a re-shard added some): read again."""


def join(entry: EntryRecord, *, token_version: int, first: EventRecord | None = None) -> EntryRecord:
    """Put the entry and its line item in its shard and count it there, in one transaction; the entry as put.
    `first`: the event as read, whose quota showed no LINE_USED (or whose counter had no flag: LineUnmarked),
    which this join sets on every stock shard's quota and flags on its counter (returns check the line's
    counters from then on, on whichever shard they go to, until the line is empty and unmarked again),
    while the event has the shards read (a re-shard since that added any is ShardsChanged: a re-shard that
    adds shards copies the mark from shard 0's quota as it read it, and holds only while it reads the same).
    Without `first`, the join holds only while its counter is flagged: every shard is marked.

    A live entry of the caller's for the event is AlreadyWaiting: of racing joins by one user exactly one
    commits. Nothing here conditions on the event's own items (a ConditionCheck costs write units on their
    partition, which every booking writes): the caller judges the gate again once committed (gate_now).
    """
    entry = replace(entry, line_shard=line.shard_of(entry.id))
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
    tx.add("count", line.join_count(entry.event_id, shard(entry), marking=first is not None))
    if first is not None:
        _mark_line_used(tx, first)
    users.check_current(tx, entry.user_id, token_version)
    try:
        tx.commit()
    except Failed as exc:  # (a revoked token is the transaction's own answer)
        if exc.failed("event"):
            raise ShardsChanged() from None
        if exc.failed("count"):
            _marked.discard(entry.event_id)
            raise LineUnmarked() from None
        raise EventNotFound() if exc.failed("quota") else AlreadyWaiting() from None
    if first is not None:
        _note_marked(replace(first, line_used=True))
    return entry


def _mark_line_used(tx: Transaction, event: EventRecord) -> None:
    """LINE_USED on each of the event's stock shards' quotas (at most 90 actions), while it has no more shards
    than read."""
    marks.check_stocked(tx, event.id, event.stocked)
    for shard in range(event.stocked):
        tx.add(
            inventory.quota_action(shard),
            {
                "Update": {
                    "TableName": events_table(),
                    "Key": dump(inventory.quota_key(event.id, shard)),
                    "UpdateExpression": f"SET {inventory.LINE_USED} = :used",
                    "ConditionExpression": "attribute_exists(pk)",  # (never a quota of its own)
                    "ExpressionAttributeValues": values(used=True),
                }
            },
        )


@dataclass(frozen=True, slots=True)
class GateNow:
    """What a committed join reads to judge its gate again, and the line's length just after it."""

    event: EventRecord | None  # the event as joined, with its quota's counters as they are now
    ticket_type: TicketType | None  # its type, with its counter as it is now
    waiting: line.Counts
    atomic: bool = True  # False: a sharded event's stock summed from a plain read (gate_confirmed proves it)


def gate_now(stock: Stock) -> GateNow:
    """The quota and the type's counter (its sales window and sub-quota, as they are now), in one strongly
    consistent Query of the event's partition from `QUOTA` to `TYPE#<type id>` (the quota and the type
    counters between: 1 RCU while they weigh under 4 KB, where a BatchGetItem takes 1 an item), and the
    line's counters in one BatchGetItem, with a sharded event's other stock shards, plainly
    (inventory.gate_stock: atomically only after a recent move between shards): no partition takes more than
    1 read unit a join."""
    event, kind = stock.event, stock.ticket_type
    type_sk = inventory.type_key(event.id, kind.id)["sk"]
    with aws_errors():
        raw = client().query(
            TableName=events_table(),
            KeyConditionExpression="pk = :pk AND sk BETWEEN :quota AND :type",
            ExpressionAttributeValues=values(pk=inventory.event_pk(event.id), quota=inventory.QUOTA, type=type_sk),
            ConsistentRead=True,
        )
    own = {item["sk"]: item for item in map(load, raw.get("Items", []))}
    keys = [line.counter_key(event.id, k) for k in range(line.LINE_SHARDS)]
    items = dynamo.batch_get({events_table(): keys + inventory.gate_keys(event, kind)})[events_table()]
    quota, counter = own.get(inventory.QUOTA), own.get(type_sk)
    now_event = inventory.with_quota(event, quota) if quota else None
    now_type = inventory.with_counter(kind, counter) if counter else None
    atomic = True
    if quota is not None and counter is not None and event.stocked > 1:
        shards = [quota, counter, *(i for i in items if i["sk"] != line.COUNT)]
        now_event, now_type, atomic = inventory.gate_stock(event, kind, shards)
    if now_event is not None:
        _note_marked(now_event)
    return GateNow(
        event=now_event,
        ticket_type=now_type,
        waiting=line.counted(event.id, items, int((quota or {}).get("waiting", 0))),
        atomic=atomic,
    )


def gate_confirmed(after: GateNow) -> GateNow:
    """gate_now's plain sum of a sharded event's stock confirmed by one atomic read of every shard (a join is
    taken back only on a sum that was true at one moment)."""
    if after.atomic or after.event is None or after.ticket_type is None:
        return after
    event, ticket_type = inventory.gate_snapshot(after.event, after.ticket_type)
    return replace(after, event=event, ticket_type=ticket_type, atomic=True)


def withdraw(entry: EntryRecord) -> bool:
    """Take back a join whose gate no longer holds: the entry (if still this one and WAITING) and its line
    item go, its count goes down, in one transaction. False when an offer or a leave came first."""
    tx = Transaction()
    tx.add(
        "entry",
        {
            "Delete": {
                "TableName": bookings_table(),
                "Key": dump(entry_key(entry.user_id, entry.event_id)),
                "ConditionExpression": "id = :id AND #status = :waiting",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(id=entry.id, waiting=EntryStatus.WAITING),
            }
        },
    )
    tx.add("line", {"Delete": {"TableName": events_table(), "Key": dump(line_key(entry))}})
    tx.add("count", count_entry(entry, -1))
    try:
        tx.commit()
    except Failed:
        return False
    return True


def note_waiting(entry: EntryRecord, counts: line.Counts) -> EntryRecord:
    """Keep on the entry the line's counts just after it joined, the start of its position's bound: one
    UpdateItem of the user's own item, if it is still this entry."""
    with aws_errors(), suppress(client().exceptions.ConditionalCheckFailedException):
        client().update_item(
            TableName=bookings_table(),
            Key=dump(entry_key(entry.user_id, entry.event_id)),
            UpdateExpression="SET line_waiting = :waiting, line_served = :served",
            ConditionExpression="id = :id",
            ExpressionAttributeValues=values(waiting=counts.total, served=counts.served, id=entry.id),
        )
    return replace(entry, line_waiting=counts.total, line_served=counts.served)


# Below this many entries ahead (by its bound), a position is counted exactly: at most this many line items.
EXACT_BELOW = 1000


def position(entry: EntryRecord, counts: line.Counts) -> int:
    """1 + how many WAITING entries are ahead of the entry: exact (strongly consistent COUNT Queries of
    each shard's items ahead, at most EXACT_BELOW items in all) when its bound says fewer than EXACT_BELOW
    are ahead, else the bound (position_bound)."""
    at_join = None if entry.line_waiting is None else (entry.line_waiting, entry.line_served or 0)
    bound = position_bound(counts.total, counts.served, at_join)
    if bound > EXACT_BELOW:
        return bound
    # Entries of the line of before the shards joined before every sharded one.
    shards = [line.LEGACY] if entry.line_shard is None else counts.lined()
    ahead = 0
    for k in shards:
        query: dict[str, Any] = {
            "TableName": events_table(),
            "KeyConditionExpression": "pk = :pk AND sk < :mine",
            "ExpressionAttributeValues": values(pk=line.line_pk(entry.event_id, k), mine=line_sk(entry)),
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        while True:
            with aws_errors():
                raw = client().query(**query)
            ahead += int(raw.get("Count", 0))
            if "LastEvaluatedKey" not in raw:
                break
            query["ExclusiveStartKey"] = raw["LastEvaluatedKey"]
    return ahead + 1


def position_bound(waiting: int, served: int, at_join: tuple[int, int] | None) -> int:
    """The most a WAITING entry's position can be, from the line's counts now (`waiting`, `served`) and just
    after it joined (`at_join`, the same two): everyone waiting now (the entry included), and no more than
    waited when it joined less those served from the head since (while it waits, the head is ahead of it;
    nobody joins ahead of an entry already in line). Entries that left from elsewhere are not taken off:
    an upper bound. Pure: the arithmetic of the bound."""
    now = max(waiting, 1)
    if at_join is None:
        return now
    waited, served_then = at_join
    return max(1, min(now, waited - (served - served_then)))


def read_entry(user_id: str, event_id: str) -> tuple[UserRecord | None, EntryRecord | None]:
    """The caller's account and their entry for the event, in one BatchGetItem."""
    found = dynamo.batch_get(
        {users_table(): [users.user_key(user_id)], bookings_table(): [entry_key(user_id, event_id)]},
        attributes=users.readable(),
    )
    account, entry = found[users_table()], found[bookings_table()]
    return (users.user_of(account[0]) if account else None), (entry_of(entry[0]) if entry else None)


def leave_line(entry: EntryRecord, *, token_version: int, now: datetime) -> EntryRecord:
    """WAITING -> LEFT in one transaction: the entry, its line item out, its shard's count - 1.

    The entry must still be this one and WAITING (an offer may have come first): EntryChanged carries it
    as it is otherwise.
    """
    left = replace(entry, status=EntryStatus.LEFT, ended_at=now)
    tx = Transaction()
    tx.add("entry", end_waiting(entry, status=EntryStatus.LEFT, now=now))
    tx.add("line", {"Delete": {"TableName": events_table(), "Key": dump(line_key(entry))}})
    tx.add("count", count_entry(entry, -1))
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
    """The quota's count of the legacy line's entries WAITING moves with it (a deleted event's tombstone too)."""
    return {
        "Update": {
            "TableName": events_table(),
            "Key": dump(inventory.quota_key(event_id)),
            "UpdateExpression": "ADD waiting :delta",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values(delta=delta),
        }
    }


@dataclass(frozen=True, slots=True)
class LineState:
    """An event's line as a list shows it: whether it is open (from the quota) and its counts."""

    status: EventStatus
    starts_at: datetime
    counts: line.Counts


def list_page(
    user_id: str, limit: int, after: str | None
) -> tuple[UserRecord | None, list[EntryRecord], bool, dict[str, LineState]]:
    """The caller's account, up to `limit` of their entries by event id after event id `after`, whether
    more follow, and each of their events' line (its quota's status and start: whether it is still open;
    the counts of its shards): one Query and one BatchGetItem (two above 100 keys)."""
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
    waiting = [e.event_id for e in entries[:limit] if e.status == EntryStatus.WAITING]
    found = dynamo.batch_get(
        {
            users_table(): [users.user_key(user_id)],
            events_table(): [inventory.quota_key(e.event_id) for e in entries[:limit]]
            + [line.counter_key(event_id, k) for event_id in waiting for k in range(line.LINE_SHARDS)],
        },
        attributes=users.readable(),
    )
    account = found[users_table()]
    events = {
        event_id: LineState(
            EventStatus(q["status"]),
            datetime.fromisoformat(q["starts_at"]),
            line.counted(event_id, found[events_table()], int(q.get("waiting", 0))),
        )
        for q in found[events_table()]
        if q["sk"] == inventory.QUOTA and (event_id := q["pk"].removeprefix(inventory.event_pk("")))
    }
    user = users.user_of(account[0]) if account else None
    return user, entries[:limit], len(entries) > limit or "LastEvaluatedKey" in raw, events


# --- the pool of tickets kept for the line, and offers ---


def read_pool(event_id: str) -> tuple[EventRecord | None, frozenset[int], line.Counts]:
    """The event with its counters and its types' (one strongly consistent Query of its partition, and its
    other stock shards' items: its `pools`, each shard's part of `reserved`), the stock shards whose quota is
    in the pool index, and its line's counts (one BatchGetItem); the event's `waiting` is their sum."""
    items = event_store.items_of(event_id)
    listed = frozenset(
        inventory.shard_of(i["pk"]) for i in items if i["sk"] == inventory.QUOTA and inventory.POOL_KEY in i
    )
    event = event_store.from_items(items)
    counts = line.counts(event_id, event.waiting if event else 0)
    return (replace(event, waiting=counts.total) if event else None), listed, counts


def head(event_id: str, limit: int, counts: line.Counts) -> tuple[list[EntryRecord], bool]:
    """The first `limit` WAITING entries of the event's line, in join order over its shards, and whether
    more follow: one strongly consistent Query a shard anyone waits in (and the legacy line while anyone
    waits in it), `limit` items in all, whatever the line's length."""
    return line.head(event_id, limit, counts.lined(), lambda k, item: entry_in_line(event_id, k, item))


def _quota_update(event_id: str, expression: str, condition: str, shard: int = 0, **named: Any) -> bool:
    """One conditional UpdateItem of the event's quota (in stock `shard`); False when its condition failed."""
    request: dict[str, Any] = {
        "TableName": events_table(),
        "Key": dump(inventory.quota_key(event_id, shard)),
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


_REOPEN = f"SET available_tickets = available_tickets + :reserved, reserved = :zero REMOVE {inventory.POOL_KEY}"
_KEPT = "(attribute_not_exists(reserved) OR reserved = :reserved)"  # (absent: none ever kept there)


def _reopen(
    event_id: str, pools: Sequence[int], listed: Iterable[int], legacy: int, checks: Callable[[Transaction], None]
) -> bool:
    """Each stock shard's part of the pool (`pools`, by shard) back on that shard's open sale, and each shard
    of it or `listed` out of the pool index, if its part is still what was read, shard 0's line from before
    the shards still counts `legacy` and the line's counters meet `checks`; False when any of it changed. That
    line's count only falls (nobody joins it again), so shard 0 is checked only while it counted someone.
    One transaction: a shard's quota each (at most 90) and the counters' checks (8)."""
    tx = Transaction()
    for shard in sorted({k for k, part in enumerate(pools) if part} | set(listed) | ({0} if legacy else set())):
        part = pools[shard] if shard < len(pools) else 0
        old_line = " AND waiting = :waiting" if shard == 0 and legacy else ""
        tx.add(
            inventory.quota_action(shard),
            {
                "Update": {
                    "TableName": events_table(),
                    "Key": dump(inventory.quota_key(event_id, shard)),
                    "UpdateExpression": _REOPEN,
                    "ConditionExpression": f"{_KEPT}{old_line}",
                    "ExpressionAttributeValues": values(
                        reserved=part, zero=0, **({"waiting": legacy} if old_line else {})
                    ),
                }
            },
        )
    checks(tx)
    try:
        tx.commit()
    except Failed:
        return False
    return True


def reopen(event_id: str, pools: Sequence[int], listed: Iterable[int]) -> bool:
    """Once nobody waits (nobody in the line from before the shards either, as read: it is never joined
    again), the pool goes back on open sale in the shards that keep it, and they leave the pool index; False
    when the pool or the line changed since it was read."""
    return _reopen(event_id, pools, listed, 0, lambda tx: line.check_nobody(tx, event_id))


def release_pool(event_id: str, pools: Sequence[int], listed: Iterable[int], waiting: line.Counts) -> bool:
    """The pool goes back on open sale in the shards that keep it though `waiting` entries remain: none of
    them can take it (their event closed, or each is held back by something more tickets cannot change).
    False when the pool or the line changed since that was judged: a join, a leave or a return makes it read
    again."""
    return _reopen(event_id, pools, listed, waiting.legacy, lambda tx: line.check_unchanged(tx, event_id, waiting))


def unlist(event_id: str, listed: Iterable[int]) -> None:
    """The stock shards `listed` leave the pool index once their part of the pool is empty (unless tickets
    came back to one meanwhile: it stays listed)."""
    empty = "attribute_not_exists(reserved) OR reserved = :zero"  # (a deleted event is listed with none)
    for shard in listed:
        _quota_update(event_id, f"REMOVE {inventory.POOL_KEY}", empty, shard, zero=0)


def relist(event_id: str) -> None:
    """The event stays in the pool index though its pool is empty: the sweeper has work left on its line."""
    pooled = inventory.pool_key(event_id)
    _quota_update(event_id, f"SET {inventory.POOL_KEY} = :pooled", "attribute_exists(pk)", pooled=pooled)


def pooled(limit: int) -> list[str]:
    """Up to `limit` events whose stock shards' quotas keep tickets for their line, each once: Queries of the
    sparse pool index's partitions (inventory.pool_keys), in an order of their own each call so that none
    waits behind the others, each paged (a page of `limit` x MAX_SHARDS keys, ~120 bytes each, holds `limit`
    events even when each lists every shard there)."""
    keys = inventory.pool_keys()
    random.shuffle(keys)
    found: dict[str, None] = {}
    for key in keys:
        query: dict[str, Any] = {
            "TableName": events_table(),
            "IndexName": inventory.BY_POOL,
            "KeyConditionExpression": f"{inventory.POOL_KEY} = :pooled",
            "ExpressionAttributeValues": values(pooled=key),
            "Limit": limit * MAX_SHARDS,
        }
        while len(found) < limit:
            with aws_errors():
                raw = client().query(**query)
            found.update(dict.fromkeys(inventory.event_of(load(item)["pk"]) for item in raw.get("Items", [])))
            if "LastEvaluatedKey" not in raw:
                break
            query["ExclusiveStartKey"] = raw["LastEvaluatedKey"]
    return list(found)[:limit]


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


def drop(entry: EntryRecord, *, status: EntryStatus, now: datetime, served: bool = False) -> None:
    """WAITING -> `status` for an entry that can wait no more (EXPIRED: its type no longer sells; CLOSED:
    its event was deleted or has started): out of the line, one fewer WAITING (`served`: from its head)."""
    tx = Transaction()
    tx.add("entry", end_waiting(entry, status=status, now=now))
    tx.add("line", {"Delete": {"TableName": events_table(), "Key": dump(line_key(entry))}})
    tx.add("count", count_entry(entry, -1, served=served))
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
