"""The tickets table: one item per ticket, the source of truth for its status at the door, and the
event's sharded check-in counts. Keys, the by_update index and attributes: docs/data-model.md,
"bookings and tickets".

Bookings put their tickets and cancel them inside their own transactions (the actions come from
here); a booking's tickets are read beside it in the same BatchGetItem, never one by one.

A check-in reads the ticket (with the scanner's account) for its type, then is one TransactWriteItems:
the ticket VALID -> CHECKED_IN (the condition that makes any number of simultaneous scans succeed
exactly once), +1 on one shard of the count and of its type's count, and the scanner's token check.
The count is sharded so that scans of different tickets at one event's doors do not all conflict on
one counter item; the shard is drawn at random and a stats read sums all of them. The shard's +1
holds only while the event is on sale and inside its door window: every shard carries a copy of
both, written by the event's own create, edit and delete transactions (door_actions), so a delete or
a new start decides the next scan without the scan reading the event.

An event's tickets are spread over TICKET_SHARDS partitions (`EVENT#<id>#<k>`, k from the ticket number),
and so are their by_update entries (the index shares the table's partition key): no partition of either
takes more than its share of an on-sale's tickets. Tickets stored before keep the event's own key
(`EVENT#<id>`): a booking says which its tickets have (tickets_spread), a ticket found by number alone is
looked for there when its shard lacks it, and the sync reads that partition beside the shards.
"""

from __future__ import annotations

import base64
import contextvars
import secrets
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from boxoffice.records import BookedType, EventRecord, TicketRecord
from boxoffice.store import dynamo, users
from boxoffice.store.dynamo import (
    ALL_OLD,
    Failed,
    Item,
    Transaction,
    aws_errors,
    client,
    dump,
    load,
    tickets_table,
    users_table,
    values,
)
from boxoffice.vocabulary import EventStatus, Principal, TicketStatus, UserRecord

_TICKET = "TICKET#"
_CHECKINS = "CHECKINS#"
CHECKIN_SHARDS = 8
BY_UPDATE = "by_update"
# 32 partitions take 16,000 tickets a second (2 WCU each, table and index alike): 5,000 bookings a second
# of up to 3 tickets. The number is part of every ticket's key: changing it needs a new layout marker.
TICKET_SHARDS = 32
SYNC_READERS = 8  # a sync page's partitions read at once (boto3's client is thread-safe)


def ticket_of(item: Mapping[str, Any]) -> TicketRecord:
    checked_in_at = item.get("checked_in_at")
    return TicketRecord(
        event_id=item["event_id"],
        ticket_number=item["ticket_number"],
        status=TicketStatus(item["status"]),
        updated_at=datetime.fromisoformat(item.get("updated_at") or item["created_at"]),
        checked_in_at=datetime.fromisoformat(checked_in_at) if checked_in_at else None,
        booking_id=item["booking_id"],
        user_id=item["user_id"],
        ticket_type_id=item.get("ticket_type_id"),
        ticket_type_name=item.get("ticket_type_name"),
        code=item.get("code"),
        spread=item["pk"] != _event_partition(item["event_id"]),
    )


def _event_partition(event_id: str) -> str:
    """The event's own key: its check-in counts, and its tickets stored before they were spread."""
    return f"EVENT#{event_id}"


def shard_of(number: str) -> int:
    """The shard of a ticket: from a hash of its whole number, as random as the number itself."""
    return dynamo.spread(number, TICKET_SHARDS)


def key(event_id: str, number: str, *, spread: bool) -> dict[str, str]:
    """A ticket's key: under its shard, or (`spread` False) the event's own key, where tickets were stored before."""
    partition = f"{_event_partition(event_id)}#{shard_of(number)}" if spread else _event_partition(event_id)
    return {"pk": partition, "sk": f"{_TICKET}{number}"}


def partitions(event_id: str) -> list[str]:
    """Every partition key that can hold the event's tickets: its shards and its own key."""
    return [*(f"{_event_partition(event_id)}#{k}" for k in range(TICKET_SHARDS)), _event_partition(event_id)]


def instant(at: datetime) -> str:
    """UTC with microseconds, always the same width (a four-digit year, 0999 too: strftime writes 999),
    so that stored instants sort as text."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _updated(number: str, at: datetime) -> dict[str, str]:
    """updated_at and the by_update sort key, which every write of a ticket sets together."""
    return {"updated_at": instant(at), "updated_key": f"{instant(at)}#{number}"}


def put_action(
    event_id: str, number: str, *, code: str, booking_id: str, user_id: str, ticket_type: BookedType, at: datetime
) -> dict[str, Any]:
    """A new VALID ticket of `ticket_type` with its code, for the booking's transaction (a number
    already taken fails it)."""
    item = {
        **key(event_id, number, spread=True),
        "ticket_number": number,
        "event_id": event_id,
        "booking_id": booking_id,
        "user_id": user_id,
        "ticket_type_id": ticket_type.id,
        "ticket_type_name": ticket_type.name,
        "status": TicketStatus.VALID,
        "code": code,
        "created_at": at.isoformat(),
        **_updated(number, at),
    }
    return {
        "Put": {"TableName": tickets_table(), "Item": dump(item), "ConditionExpression": "attribute_not_exists(pk)"}
    }


def cancel_action(event_id: str, number: str, at: datetime, *, spread: bool) -> dict[str, Any]:
    """VALID -> CANCELLED, for the cancel's transaction: a ticket already checked in fails it (ALL_OLD).
    `spread`: as its booking says (key)."""
    return {
        "Update": {
            "TableName": tickets_table(),
            "Key": dump(key(event_id, number, spread=spread)),
            "UpdateExpression": "SET #status = :cancelled, cancelled_at = :at, updated_at = :updated_at,"
            " updated_key = :updated_key",
            "ConditionExpression": "#status = :valid",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(
                cancelled=TicketStatus.CANCELLED, valid=TicketStatus.VALID, at=at.isoformat(), **_updated(number, at)
            ),
            **ALL_OLD,
        }
    }


def ticket_in(item: Item) -> TicketRecord | None:
    """The ticket an item of the tickets table holds; None for its other items (the check-in counts)."""
    return ticket_of(item) if str(item.get("sk", "")).startswith(_TICKET) else None


def of_items(items: Iterable[Item]) -> dict[tuple[str, str], TicketRecord]:
    """Ticket records by (event id, ticket number)."""
    records = (ticket_of(item) for item in items)
    return {(r.event_id, r.ticket_number): r for r in records}


def checkin_shard_keys(event_id: str) -> list[dict[str, str]]:
    return [{"pk": f"EVENT#{event_id}", "sk": f"{_CHECKINS}{shard}"} for shard in range(CHECKIN_SHARDS)]


def type_counter(type_id: str) -> str:
    """A shard's attribute counting one ticket type's check-ins: `in_` and the type id's 16 bytes in
    base64url (22 characters), so that a shard with all 20 types stays far below 1 KB. Always used
    through an expression placeholder (it may hold `-`)."""
    packed = base64.urlsafe_b64encode(uuid.UUID(type_id).bytes).rstrip(b"=").decode()
    return f"in_{packed}"


def checked_in(shards: Iterable[Item], type_id: str | None = None) -> int:
    """The check-ins counted on the shards: the event's, or one type's."""
    name = "checked_in" if type_id is None else type_counter(type_id)
    return sum(int(shard.get(name, 0)) for shard in shards)


class DoorUnknown(Exception):
    """The drawn count shard has no copy of the event's door window (an event stored before shards
    carried it): copy it there (copy_door) and scan again."""


def _door(event: EventRecord) -> dict[str, str]:
    opens, closes = event.doors
    return {"doors_open_at": instant(opens), "doors_close_at": instant(closes), "event_status": event.status}


def _door_updates(event: EventRecord, *, keep_newer: bool) -> list[tuple[str, dict[str, Any]]]:
    """One named UpdateItem per count shard setting its copy of the event's door window and status (a
    shard not written yet is created with it); `keep_newer`: only where the shard has none yet."""
    door = _door(event)
    value = "if_not_exists({0}, :{0})" if keep_newer else ":{0}"
    update = "SET " + ", ".join(f"{name} = {value.format(name)}" for name in door)
    shards = enumerate(checkin_shard_keys(event.id))
    return [
        (f"door:{n}", {"Update": {"TableName": tickets_table(), "Key": dump(shard), "UpdateExpression": update,
                                  "ExpressionAttributeValues": values(**door)}})
        for n, shard in shards
    ]  # fmt: skip


def door_actions(event: EventRecord) -> list[tuple[str, dict[str, Any]]]:
    """For the event's own transaction (create, edit, delete): each shard's copy, as `event` has it."""
    return _door_updates(event, keep_newer=False)


def copy_door(event: EventRecord) -> None:
    """Give the shards that lack it the copy of the event's door window, in one transaction; a copy
    written meanwhile by the event's own edit or delete is newer and stays (if_not_exists)."""
    tx = Transaction()
    for name, action in _door_updates(event, keep_newer=True):
        tx.add(name, action)
    tx.commit()


def _count_checkin(event_id: str, type_id: str, delta: int, at: datetime) -> dict[str, Any]:
    """+-1 on a shard drawn at random; a check-in (+1) only while the event is on sale and its doors open."""
    shard = checkin_shard_keys(event_id)[secrets.randbelow(CHECKIN_SHARDS)]
    update: dict[str, Any] = {
        "TableName": tickets_table(),
        "Key": dump(shard),
        "UpdateExpression": "ADD checked_in :delta, #type :delta",
        "ExpressionAttributeNames": {"#type": type_counter(type_id)},
        "ExpressionAttributeValues": values(delta=delta),
    }
    if delta > 0:
        update["ConditionExpression"] = "event_status = :on_sale AND doors_open_at <= :now AND doors_close_at > :now"
        update["ExpressionAttributeValues"] |= values(on_sale=EventStatus.ON_SALE, now=instant(at))
        update |= ALL_OLD
    return {"Update": update}


def read_for_door(event_id: str, number: str, caller_id: str) -> tuple[UserRecord | None, TicketRecord | None]:
    """The caller's account (for the token check) and the ticket (None: no such ticket), in one BatchGetItem;
    a ticket not in its shard is looked for under the event's own key (one more: stored before)."""
    found = dynamo.batch_get(
        {users_table(): [users.user_key(caller_id)], tickets_table(): [key(event_id, number, spread=True)]},
        attributes=users.readable(),
    )
    account = users.user_of(found[users_table()][0]) if found[users_table()] else None
    item = found[tickets_table()][0] if found[tickets_table()] else None
    if item is None:
        before = dynamo.batch_get({tickets_table(): [key(event_id, number, spread=False)]})[tickets_table()]
        item = before[0] if before else None
    return account, ticket_of(item) if item else None


class TicketMoved(Exception):
    """A door transaction's condition on the ticket failed: its status (None: missing) and check-in time as
    DynamoDB saw them."""

    def __init__(self, status: TicketStatus | None, checked_in_at: datetime | None) -> None:
        super().__init__("ticket moved")
        self.status = status
        self.checked_in_at = checked_in_at


class DoorShut(Exception):
    """A check-in's condition on its count shard failed: the event's status and door window as the shard
    had them."""

    def __init__(self, status: EventStatus, opens: datetime, closes: datetime) -> None:
        super().__init__("door shut")
        self.status, self.opens, self.closes = status, opens, closes


def _door_failure(exc: Failed) -> Exception:
    """What a check-in or its undo lost to, from the items as the transaction saw them."""
    if exc.failed("count"):
        door = exc.old("count") or {}
        if "doors_open_at" not in door:
            return DoorUnknown()
        opens, closes = (datetime.fromisoformat(door[f"doors_{at}_at"]) for at in ("open", "close"))
        return DoorShut(EventStatus(door["event_status"]), opens, closes)
    old = exc.old("ticket") or {}
    status, at = old.get("status"), old.get("checked_in_at")
    return TicketMoved(TicketStatus(status) if status else None, datetime.fromisoformat(at) if at else None)


def _move(
    ticket: TicketRecord, *, to: TicketStatus, sets: str, named: dict[str, Any], by: Principal, at: datetime
) -> TicketRecord:
    """One door transaction: the ticket (as read, its type known) from the other door state to `to`
    (VALID <-> CHECKED_IN), its count shard and its type's count moved with it (a check-in only while
    the event is on sale and its doors are open: DoorShut, or DoorUnknown), and the
    caller's (`by`) token still current; TicketMoved when the ticket is no longer in the
    other state. A ticket written before tickets recorded their type gets it here."""
    came_from = TicketStatus.VALID if to == TicketStatus.CHECKED_IN else TicketStatus.CHECKED_IN
    kind, number = ticket.ticket_type, ticket.ticket_number
    tx = Transaction().add(
        "ticket",
        {
            "Update": {
                "TableName": tickets_table(),
                "Key": dump(key(ticket.event_id, number, spread=ticket.spread)),
                "UpdateExpression": "SET #status = :to, updated_at = :updated_at, updated_key = :updated_key,"
                f" ticket_type_id = :type_id, ticket_type_name = :type_name{sets}",
                "ConditionExpression": "#status = :from",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(
                    to=to,
                    **{"from": came_from},
                    type_id=kind.id,
                    type_name=kind.name,
                    **_updated(number, at),
                    **named,
                ),
                **ALL_OLD,
            }
        },
    )
    tx.add("count", _count_checkin(ticket.event_id, kind.id, +1 if to == TicketStatus.CHECKED_IN else -1, at))
    users.check_current(tx, by.user_id, by.token_version, name="caller")
    try:
        tx.commit()
    except Failed as exc:
        raise _door_failure(exc) from None
    return replace(ticket, status=to, updated_at=at, checked_in_at=at if to == TicketStatus.CHECKED_IN else None)


def check_in(ticket: TicketRecord, *, by: Principal, at: datetime) -> TicketRecord:
    """VALID -> CHECKED_IN at `at`, by the caller `by`, counted, in one transaction."""
    sets = ", checked_in_at = :at, checked_in_by = :by"
    return _move(
        ticket, to=TicketStatus.CHECKED_IN, sets=sets, named={"at": at.isoformat(), "by": by.user_id}, by=by, at=at
    )


def undo_check_in(ticket: TicketRecord, *, by: Principal, at: datetime) -> TicketRecord:
    """CHECKED_IN -> VALID again, uncounted, in one transaction."""
    return _move(ticket, to=TicketStatus.VALID, sets=" REMOVE checked_in_at, checked_in_by", named={}, by=by, at=at)


def changed_since(
    event_id: str, since: datetime | None, after: str | None, limit: int
) -> tuple[list[TicketRecord], bool]:
    """Up to `limit` of the event's tickets that changed at or after `since`, in the order they changed,
    after the by_update key `after`; and whether more follow. Each of the event's partitions of the index
    is read in change order and the reads merged (eventually consistent: a change shows up a moment after
    it is made). A by_update key names one change of one ticket, so `after` is a position in every
    partition at once: a key condition, valid in each, whatever the shard."""
    condition, bound = _changes_range(since, after)
    sources = [
        _Changes(
            {
                "TableName": tickets_table(),
                "IndexName": BY_UPDATE,
                "KeyConditionExpression": f"pk = :pk{condition}",
                "ExpressionAttributeValues": values(pk=partition) | bound,
            }
        )
        for partition in partitions(event_id)
    ]
    # A first page from each partition about its share of the page, read side by side; a partition that
    # runs out while it may still hold the next change is read on.
    share = -(-(limit + 1) // len(sources)) + 1
    _fill_together(sources, share)
    merged: list[Item] = []
    while len(merged) <= limit:  # one more than asked tells whether a next page exists
        for source in sources:
            source.fill(share)
        ready = [source for source in sources if source.items]
        if not ready:
            break
        merged.append(min(ready, key=lambda source: str(source.items[0]["updated_key"])).items.popleft())
    return [ticket_of(item) for item in merged[:limit]], len(merged) > limit


def _changes_range(since: datetime | None, after: str | None) -> tuple[str, dict[str, Any]]:
    """The condition on updated_key a sync page reads, the same in every partition, and its value: after the
    cursor's change, else from `since`, else every change."""
    if after is not None:
        return " AND updated_key > :bound", values(bound=after)
    if since is not None:
        return " AND updated_key >= :bound", values(bound=instant(since))
    return "", {}


def _fill_together(sources: list[_Changes], size: int) -> None:
    """Each source's first read, SYNC_READERS at a time: a page waits for a few round trips, not 33. Each
    read runs in a copy of this request's context (its deadline and retry)."""
    from concurrent.futures import ThreadPoolExecutor  # the sync's alone: no other function pays for it

    with ThreadPoolExecutor(max_workers=SYNC_READERS) as pool:
        reads = [pool.submit(contextvars.copy_context().run, source.fill, size) for source in sources]
        for read in reads:
            read.result()  # the first failure is the request's


class _Changes:
    """One partition of by_update read in change order, page by page as the merge needs it."""

    def __init__(self, query: dict[str, Any]) -> None:
        self.query = query
        self.items: deque[Item] = deque()
        self.start: dict[str, Any] | None = None
        self.done = False

    def fill(self, size: int) -> None:
        """Read the next `size` changes, when none is left from the last read and more may follow."""
        if self.items or self.done:
            return
        page = {**self.query, "Limit": size, **({"ExclusiveStartKey": self.start} if self.start else {})}
        with aws_errors():
            raw = client().query(**page)
        self.items.extend(load(item) for item in raw.get("Items", []))
        self.start = raw.get("LastEvaluatedKey")
        self.done = self.start is None


def sync_key(ticket: TicketRecord) -> str:
    """The by_update position of a ticket as read: where the next page starts."""
    return f"{instant(ticket.updated_at)}#{ticket.ticket_number}"
