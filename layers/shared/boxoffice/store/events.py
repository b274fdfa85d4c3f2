"""Events (the descriptive item, its create, edit and delete) and the word index that finds them by the
words of their names, in the events table. Keys, indexes and attributes: docs/data-model.md, "events".

Index entries only point at events: a reader always fetches the event itself and keeps it only if it
is on sale, starts at the entry's time and still matches. So the writers add entries before the event
changes and remove them after it has, and an entry left behind by a crash or a lost race is never a
wrong answer, only a wasted read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from boxoffice import clock
from boxoffice.errors import Busy, CapacityBelowSold, EventNotFound, NotAuthenticated
from boxoffice.models.events import venue_key, words
from boxoffice.records import (
    DEFAULT_TIMEZONE,
    DEFAULT_TYPE_NAME,
    DELETED,
    DOORS_CLOSE_MINUTES,
    DOORS_OPEN_MINUTES,
    ON_SALE,
    EventRecord,
    TicketType,
    legacy_type_id,
)
from boxoffice.store import dynamo, inventory, tickets, users
from boxoffice.store.dynamo import (
    ALL_OLD,
    Failed,
    Item,
    Transaction,
    aws_errors,
    client,
    dump,
    events_table,
    load,
    users_table,
    values,
)
from boxoffice.store.users import UserRecord

LIVE = "LIVE"
BY_TIME = "by_time"
BY_VENUE = "by_venue"
EVENT = "EVENT"
NAME = "NAME#"
MAX_PREFIX = 20  # longer query words use their first 20 characters' entries and are checked on the event
MAX_ACTIONS = 100  # per TransactWriteItems
MAX_BATCH_WRITE = 25  # per BatchWriteItem
MAX_EXAMINED = 1000  # entries one search request reads before it answers with a short page and a cursor
MAX_QUERY_LIMIT = 100

Key = tuple[str, str]


class Stale(Exception):
    """The event changed between our read and our conditional write; read it again and retry."""


@dataclass(frozen=True, slots=True)
class Search:
    """Events on sale starting within [lower, upper] (UTC ISO instants) and, when given, on local dates from
    first_day to last_day at their venues; optionally by venue and name words."""

    lower: str
    upper: str
    terms: tuple[str, ...] = ()
    venue_key: str | None = None
    first_day: date | None = None
    last_day: date | None = None

    def accepts(self, event: EventRecord) -> bool:
        name_words = words(event.name)
        local_day = event.local_start.date()
        return (
            event.status == ON_SALE
            and all(any(w.startswith(term) for w in name_words) for term in self.terms)
            and (self.venue_key is None or venue_key(event.venue) == self.venue_key)
            and (self.first_day is None or self.first_day <= local_day)
            and (self.last_day is None or local_day <= self.last_day)
        )


def event_key(event_id: str) -> dict[str, str]:
    return {"pk": f"EVENT#{event_id}", "sk": "EVENT"}


def _venue_pk(key: str) -> str:
    return f"VENUE#{key}"


def _word_pk(prefix: str) -> str:
    return f"WORD#{prefix}"


def definition(ticket_type: TicketType, position: int) -> Item:
    """A ticket type as the event item describes it (its counters live in its own item)."""
    definition = {
        "name": ticket_type.name,
        "description": ticket_type.description,
        "price": ticket_type.price,
        "total_tickets": ticket_type.total_tickets,
        "max_tickets_per_booking": ticket_type.max_tickets_per_booking,
        "sales_start": ticket_type.sales_start.isoformat() if ticket_type.sales_start else None,
        "sales_end": ticket_type.sales_end.isoformat() if ticket_type.sales_end else None,
        "created_at": ticket_type.created_at.isoformat(),
        "position": position,
    }
    return {k: v for k, v in definition.items() if v is not None}


def _item(event: EventRecord) -> Item:
    """The descriptive item: everything but the counters, which live in small items of their own."""
    return {
        **event_key(event.id),
        "id": event.id,
        "name": event.name,
        "description": event.description,
        "venue": event.venue,
        "venue_key": venue_key(event.venue),
        "starts_at": event.starts_at.isoformat(),
        "starts_key": event.starts_key,
        "timezone": event.timezone,
        "currency": event.currency,
        "max_tickets_per_booking": event.max_tickets_per_booking,
        "max_tickets_per_user": event.max_tickets_per_user,
        **inventory.hold_ceilings(event),
        "status": event.status,
        "created_at": event.created_at.isoformat(),
        "updated_at": event.updated_at.isoformat(),
        "ticket_types": {t.id: definition(t, n) for n, t in enumerate(event.ticket_types)},
        "doors_open_minutes_before": event.doors_open_minutes_before,
        "doors_close_minutes_after": event.doors_close_minutes_after,
        "list_pk": LIVE,
        "venue_pk": _venue_pk(venue_key(event.venue)),
    }


def _is_legacy(item: Item) -> bool:
    """Stored before ticket types: the counters are on the event item itself."""
    return "ticket_types" not in item


def _ticket_type(type_id: str, definition: Item) -> TicketType:
    total = definition.get("total_tickets")
    start, end = definition.get("sales_start"), definition.get("sales_end")
    return TicketType(
        id=type_id,
        name=definition["name"],
        description=definition.get("description", ""),
        price=Decimal(definition["price"]),
        total_tickets=int(total) if total is not None else None,
        max_tickets_per_booking=int(definition["max_tickets_per_booking"]),
        sales_start=datetime.fromisoformat(start) if start else None,
        sales_end=datetime.fromisoformat(end) if end else None,
        created_at=datetime.fromisoformat(definition["created_at"]),
    )


def describe(item: Item) -> EventRecord:
    """The event from its descriptive item alone: counters are zero until its counter items are read,
    except for an event stored before ticket types, which is read as one "General admission" type."""
    created_at = datetime.fromisoformat(item["created_at"])
    per_booking = int(item["max_tickets_per_booking"])
    cap = item.get("max_tickets_per_user")
    if _is_legacy(item):
        total, available = int(item["total_tickets"]), int(item["available_tickets"])
        legacy = TicketType(
            id=legacy_type_id(item["id"]),
            name=DEFAULT_TYPE_NAME,
            description="",
            price=Decimal(item["ticket_price"]),
            total_tickets=None,
            max_tickets_per_booking=per_booking,
            sales_start=None,
            sales_end=None,
            created_at=created_at,
            sold=total - available,
        )
        types: tuple[TicketType, ...] = (legacy,)
    else:
        total = available = 0
        ordered = sorted(item["ticket_types"].items(), key=lambda kv: (kv[1]["created_at"], int(kv[1]["position"])))
        types = tuple(_ticket_type(type_id, definition) for type_id, definition in ordered)
    record = EventRecord(
        id=item["id"],
        name=item["name"],
        description=item.get("description", ""),
        venue=item["venue"],
        starts_at=datetime.fromisoformat(item["starts_at"]),
        timezone=item.get("timezone", DEFAULT_TIMEZONE),
        total_tickets=total,
        available_tickets=available,
        currency=item["currency"],
        max_tickets_per_booking=per_booking,
        max_tickets_per_user=int(cap) if cap is not None else None,
        status=item["status"],
        created_at=created_at,
        updated_at=datetime.fromisoformat(item["updated_at"]),
        ticket_types=types,
        doors_open_minutes_before=int(item.get("doors_open_minutes_before", DOORS_OPEN_MINUTES)),
        doors_close_minutes_after=int(item.get("doors_close_minutes_after", DOORS_CLOSE_MINUTES)),
    )
    return inventory.with_hold_ceilings(record, item)


def assemble(item: Item, counters: Iterable[Item]) -> EventRecord:
    """The event from its descriptive item and whichever of its counter items were read."""
    event = describe(item)
    by_sk = {c["sk"]: c for c in counters}
    if inventory.QUOTA in by_sk:
        event = inventory.with_quota(event, by_sk[inventory.QUOTA])
    types = tuple(
        inventory.with_counter(t, by_sk[f"{inventory.TYPE}{t.id}"]) if f"{inventory.TYPE}{t.id}" in by_sk else t
        for t in event.ticket_types
    )
    return replace(event, ticket_types=types)


def _counter_keys(item: Item) -> list[dict[str, str]]:
    """What a listing reads beside the event: its quota, and the counters of the types with a sub-quota."""
    if _is_legacy(item):
        return []
    subs = [t for t, d in item["ticket_types"].items() if d.get("total_tickets") is not None]
    return [inventory.quota_key(item["id"]), *(inventory.type_key(item["id"], t) for t in subs)]


def _complete(items: list[Item]) -> list[EventRecord]:
    """Events from their descriptive items with live counters, in one BatchGetItem."""
    keys = [k for item in items for k in _counter_keys(item)]
    found = dynamo.batch_get({events_table(): keys})[events_table()] if keys else []
    by_event: dict[str, list[Item]] = {}
    for counter in found:
        by_event.setdefault(counter["pk"], []).append(counter)
    return [assemble(item, by_event.get(item["pk"], [])) for item in items]


def _entries(event: EventRecord) -> list[Key]:
    """The word index entries of an on-sale event: one per distinct prefix of its name's words."""
    prefixes = dict.fromkeys(w[:n] for w in words(event.name) for n in range(1, min(len(w), MAX_PREFIX) + 1))
    return [(_word_pk(p), event.starts_key) for p in prefixes]


def _key_item(key: Key) -> dict[str, Any]:
    return dump({"pk": key[0], "sk": key[1]})


def _batch(requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed requests with jittered backoff."""
    for start in range(0, len(requests), MAX_BATCH_WRITE):
        pending: Any = {events_table(): requests[start : start + MAX_BATCH_WRITE]}
        for attempt in range(6):
            if attempt:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not crypto
            with aws_errors():
                pending = client().batch_write_item(RequestItems=pending).get("UnprocessedItems")
            if not pending:
                break
        else:
            raise Busy()


def _batch_write(*, puts: Sequence[Key] = (), deletes: Sequence[Key] = ()) -> None:
    _batch(
        [{"PutRequest": {"Item": _key_item(k)}} for k in puts]
        + [{"DeleteRequest": {"Key": _key_item(k)}} for k in deletes]
    )


def _write(tx: Transaction, *, puts: Sequence[Key] = (), deletes: Sequence[Key] = ()) -> None:
    """One transaction: `tx` (whose actions carry the conditions) plus the index changes that fit beside them.

    Entries that do not fit are added before the transaction and removed after it, so the index never
    misses a live event; new entries added early are taken back if the transaction is cancelled.
    """
    room = MAX_ACTIONS - len(tx)
    inline_puts, early = list(puts[:room]), list(puts[room:])
    room -= len(inline_puts)
    inline_deletes, late = list(deletes[:room]), list(deletes[room:])
    _batch_write(puts=early)
    for n, key in enumerate(inline_puts):
        tx.add(f"entry:put:{n}", {"Put": {"TableName": events_table(), "Item": _key_item(key)}})
    for n, key in enumerate(inline_deletes):
        tx.add(f"entry:delete:{n}", {"Delete": {"TableName": events_table(), "Key": _key_item(key)}})
    try:
        tx.commit()
    except Failed:
        _batch_write(deletes=early)
        raise
    _batch_write(deletes=late)


# --- reads ---


def items_of(event_id: str) -> list[Item]:
    """The event's items (descriptive, quota, type counters, name claims): one strongly consistent Query."""
    with aws_errors():
        raw = client().query(
            TableName=events_table(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values(pk=inventory.event_pk(event_id)),
            ConsistentRead=True,
        )
    return [load(i) for i in raw.get("Items", [])]


def from_items(items: list[Item]) -> EventRecord | None:
    described = next((i for i in items if i["sk"] == EVENT), None)
    return assemble(described, items) if described else None


def get(event_id: str) -> EventRecord | None:
    """The event, tombstones included, with its live counters: one strongly consistent Query of its items."""
    return from_items(items_of(event_id))


def get_for_user(
    event_id: str, user_id: str, *, upgrading: bool = True
) -> tuple[EventRecord | None, UserRecord | None]:
    """One BatchGetItem: the event with its quota, and the caller's account (to check the token version).

    An event stored before ticket types is first moved to today's items (upgrade), then read again;
    unless not `upgrading` (a reader that writes nothing shows it as it is).
    """
    found = dynamo.batch_get(
        {
            events_table(): [event_key(event_id), inventory.quota_key(event_id)],
            users_table(): [users.user_key(user_id)],
        },
        attributes=users.readable(),
    )
    items, accounts = found[events_table()], found[users_table()]
    described = next((i for i in items if i["sk"] == EVENT), None)
    if described is not None and _is_legacy(described) and upgrading and upgrade(event_id):
        return get_for_user(event_id, user_id)
    event = assemble(described, items) if described else None
    return event, UserRecord.from_item(accounts[0]) if accounts else None


@dataclass(frozen=True, slots=True)
class _Source:
    """One sorted partition a search walks: an index of events, or the word entries pointing at them."""

    index: str | None
    hash_attr: str
    hash_value: str
    range_attr: str

    def start_key(self, after: str) -> dict[str, Any]:
        if self.index is None:
            return dump({"pk": self.hash_value, "sk": after})
        event_id = after.rpartition("#")[2]
        return dump({**event_key(event_id), self.hash_attr: self.hash_value, self.range_attr: after})


def _source(search: Search) -> _Source:
    """The partition that holds every answer: the venue's, else the longest word's, else all live events."""
    if search.venue_key is not None:
        return _Source(BY_VENUE, "venue_pk", _venue_pk(search.venue_key), "starts_key")
    if search.terms:
        longest = max(search.terms, key=len)
        return _Source(None, "pk", _word_pk(longest[:MAX_PREFIX]), "sk")
    return _Source(BY_TIME, "list_pk", LIVE, "starts_key")


def _query(source: _Source, search: Search, after: str | None, limit: int) -> tuple[list[Item], str | None]:
    """One page of the source in start order, and the sort key to go on from (None at the end)."""
    params: dict[str, Any] = {
        "TableName": events_table(),
        "KeyConditionExpression": "#h = :h AND #r BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#h": source.hash_attr, "#r": source.range_attr},
        "ExpressionAttributeValues": values(h=source.hash_value, lo=search.lower, hi=f"{search.upper}#~"),
        "Limit": limit,
    }
    if source.index is not None:
        params["IndexName"] = source.index
    if after is not None:
        params["ExclusiveStartKey"] = source.start_key(after)
    with aws_errors():
        raw = client().query(**params)
    last = raw.get("LastEvaluatedKey")
    return [load(i) for i in raw.get("Items", [])], load(last)[source.range_attr] if last else None


def _resolve(source: _Source, items: list[Item]) -> list[tuple[str, Item | None]]:
    """(sort key, descriptive item or None when the entry is stale) for each item, in index order."""
    if source.index is not None:
        return [(i["starts_key"], i) for i in items]
    ids = [i["sk"].rpartition("#")[2] for i in items]
    # One event can have two entries in a partition (a stale one beside the live one); BatchGetItem
    # refuses duplicate keys outright, so each event is read once and the entries share it.
    fetched = dynamo.batch_get({events_table(): [event_key(e) for e in dict.fromkeys(ids)]})[events_table()]
    by_id = {e["id"]: e for e in fetched}
    resolved: list[tuple[str, Item | None]] = []
    for item, event_id in zip(items, ids, strict=True):
        event = by_id.get(event_id)
        resolved.append((item["sk"], event if event and event["starts_key"] == item["sk"] else None))
    return resolved


def search(query: Search, limit: int, after: str | None) -> tuple[list[EventRecord], str | None]:
    """Up to `limit` matching events in start order after the sort key `after`, and where to go on from.

    The first Query asks for exactly `limit`: when every entry matches (one filter, or none), a page
    costs one Query (plus one BatchGetItem for word entries) and reads one item (two) per event, then
    one BatchGetItem of the page's counter items (the quota, and each type with a sub-quota).
    Entries that fail a second filter cost extra reads; each further Query asks for twice as many.
    """
    source = _source(query)
    found: list[Item] = []
    examined = round_ = 0
    while True:
        items, last = _query(source, query, after, min(MAX_QUERY_LIMIT, (limit - len(found)) << round_))
        examined += len(items)
        resolved = _resolve(source, items)
        for position, (sort_key, item) in enumerate(resolved, start=1):
            if item is not None and query.accepts(describe(item)):
                found.append(item)
                if len(found) == limit:
                    exhausted = last is None and position == len(resolved)
                    return _complete(found), None if exhausted else sort_key
        if last is None or examined >= MAX_EXAMINED:
            return _complete(found), last
        after = last
        round_ += 1


# --- writes ---


def _counter_puts(tx: Transaction, event: EventRecord) -> None:
    """The event's quota item, and each type's counter item and name claim."""
    tx.add("quota", {"Put": {"TableName": events_table(), "Item": dump(inventory.quota_item(event)), **_NEW}})
    for t in event.ticket_types:
        tx.add(
            f"type:{t.id}",
            {"Put": {"TableName": events_table(), "Item": dump(inventory.type_item(event.id, t)), **_NEW}},
        )
        tx.add(f"name:{t.id}", claim_name(event.id, t.name))


def name_key(event_id: str, name: str) -> dict[str, str]:
    """A ticket type's name claim: type names are unique within an event, ignoring case and accents."""
    return {"pk": inventory.event_pk(event_id), "sk": f"{NAME}{venue_key(name)}"}


def claim_name(event_id: str, name: str) -> dict[str, Any]:
    return {"Put": {"TableName": events_table(), "Item": dump(name_key(event_id, name)), **_NEW}}


def _copy_door(tx: Transaction, event: EventRecord) -> None:
    """The check-in count shards' copy of the event's door window and status, which check-ins' conditions read."""
    for name, action in tickets.door_actions(event):
        tx.add(name, action)


def create(event: EventRecord, *, caller: tuple[str, int] | None) -> None:
    """Put the event, its counter items and its word entries; with a caller, only while the caller's token
    is current."""
    tx = Transaction()
    if caller:
        tx.add("account", users.current_check(*caller))
    tx.add("event", {"Put": {"TableName": events_table(), "Item": dump(_item(event)), **_NEW}})
    _counter_puts(tx, event)
    _copy_door(tx, event)
    try:
        _write(tx, puts=_entries(event))
    except Failed as exc:
        if exc.failed("account"):
            raise NotAuthenticated("The token was revoked.") from exc
        raise


def upgrade(event_id: str) -> bool:
    """Move an event stored before ticket types (counters on the event item) to today's items, once.

    One transaction: the event item loses its counters and gains its one "General admission" type, and
    the quota and type counter items are put with the counts it had. It holds only while the event item
    still has those counts, so a sale in between makes it fail; the caller reads again either way.
    Returns whether the event was in the old shape.
    """
    item = dynamo.get(events_table(), event_key(event_id))
    if item is None or not _is_legacy(item):
        return False
    event = describe(item)
    tx = Transaction()
    tx.add(
        "event",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(event_key(event_id)),
                "UpdateExpression": "SET ticket_types = :types, #tz = :tz"
                " REMOVE total_tickets, available_tickets, ticket_price",
                "ConditionExpression": "attribute_not_exists(ticket_types) AND total_tickets = :total"
                " AND available_tickets = :available",
                "ExpressionAttributeNames": {"#tz": "timezone"},
                "ExpressionAttributeValues": values(
                    types={t.id: definition(t, n) for n, t in enumerate(event.ticket_types)},
                    tz=event.timezone,
                    total=event.total_tickets,
                    available=event.available_tickets,
                ),
            }
        },
    )
    _counter_puts(tx, event)
    with suppress(Failed):  # upgraded by a racing request, or sold meanwhile: either way the caller reads again
        tx.commit()
    return True


_NEW = {"ConditionExpression": "attribute_not_exists(pk)"}


@dataclass
class Update:
    """One UpdateItem's SET and REMOVE clauses, conditions and values, built up field by field."""

    sets: list[str]
    removes: list[str]
    conditions: list[str]
    names: dict[str, str]
    named: dict[str, Any]

    @classmethod
    def on_sale(cls) -> Update:
        return cls([], [], ["#status = :on_sale"], {"#status": "status"}, {"on_sale": ON_SALE})

    def put(self, field: str, value: Any) -> None:
        """SET the attribute, or REMOVE it when `value` is None."""
        self.names[f"#{field}"] = field
        if value is None:
            self.removes.append(f"#{field}")
        else:
            self.sets.append(f"#{field} = :{field}")
            self.named[field] = value

    def action(self, key: dict[str, str]) -> dict[str, Any]:
        clauses = [("SET", self.sets), ("REMOVE", self.removes)]
        request: dict[str, Any] = {
            "TableName": events_table(),
            "Key": dump(key),
            "UpdateExpression": " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses if parts),
            "ConditionExpression": " AND ".join(self.conditions),
            **ALL_OLD,
        }
        if self.names:  # DynamoDB refuses empty maps
            request["ExpressionAttributeNames"] = self.names
        if self.named:
            request["ExpressionAttributeValues"] = values(**self.named)
        return {"Update": request}


def _pin_index(update: Update, old: EventRecord) -> None:
    """Hold only while the event has the name and start we read, so the word entries we swap are its own."""
    update.conditions.append("#name = :old_name AND starts_key = :old_key")
    update.names["#name"] = "name"
    update.named.update(old_name=old.name, old_key=old.starts_key)


def _recount(quota: Update, old: EventRecord, total: int) -> None:
    """A new capacity moves the tickets on open sale by the difference, from the total we read (pinned).

    Fewer: only tickets on open sale can go (never sold, held or reserved ones). More: they are tickets
    that come back, so they go to the waiting list's pool while anyone waits (inventory.returned), to open
    sale otherwise; each under a condition on `waiting`, so a line that formed or emptied since our read
    makes the edit read again.
    """
    change = total - old.total_tickets
    quota.sets.append("total_tickets = :total")
    quota.conditions.append("total_tickets = :old_total")
    quota.named.update(total=total, old_total=old.total_tickets, change=abs(change))
    if change < 0:
        quota.sets.append("available_tickets = available_tickets - :change")
        quota.conditions.append("available_tickets >= :change")
        return
    to_pool, right_pool, pool_values = inventory.returned(
        inventory.RESERVED if old.waiting else inventory.AVAILABLE, "change"
    )
    quota.sets.append(to_pool)
    quota.conditions.append(right_pool)
    quota.named.update(pool_values)


def _failure(exc: Failed, new: EventRecord, old: EventRecord) -> Exception:
    """Why an edit's transaction failed, from its items as the failing write saw them."""
    for name in ("event", "quota"):
        if exc.failed(name):
            current = exc.old(name)
            if current is None or current.get("status") != ON_SALE:
                return EventNotFound()
    quota = exc.old("quota") if exc.failed("quota") else None
    if quota is not None and int(quota["total_tickets"]) == old.total_tickets:
        available = int(quota["available_tickets"])
        if old.total_tickets - new.total_tickets > available:
            return CapacityBelowSold(old.total_tickets - available)  # the lowest capacity allowed
    return Stale()


_DESCRIBED = (
    *(
        "name",
        "description",
        "venue",
        "timezone",
        "currency",
        "max_tickets_per_booking",
        "max_tickets_per_user",
        "doors_open_minutes_before",
        "doors_close_minutes_after",
    ),
    *inventory.HOLD_CEILINGS,
)
_QUOTA_COPIES = ("currency", "max_tickets_per_booking", "max_tickets_per_user", *inventory.HOLD_CEILINGS)


def update(old: EventRecord, new: EventRecord, *, before_start: bool) -> EventRecord:
    """Write `new` over `old` in one transaction: the event item, and its quota item when a copy or the
    capacity changes, and the price of a type whose price changed.

    A capacity change moves `available` by the change in `total` on the quota item, while the total is the
    one we read and enough are on open sale to lose, so racing bookings and holds keep available + held +
    reserved + sold == total without pinning their counters (a racing capacity edit makes it go round again). A new name
    or start pins the old ones, so the word entries we swap are the event's own. `before_start`: the write
    holds only while the stored start is after new.updated_at (another edit may have brought the start
    forward since our read).
    """
    described, quota = Update.on_sale(), Update.on_sale()
    if before_start:
        described.conditions.append("starts_at > :now")
        described.named["now"] = new.updated_at.isoformat()
    for field in _DESCRIBED:
        if getattr(new, field) != getattr(old, field):
            described.put(field, getattr(new, field))
            if field in _QUOTA_COPIES:
                quota.put(field, getattr(new, field))
    described.put("updated_at", new.updated_at.isoformat())
    if new.venue != old.venue:
        described.put("venue_key", venue_key(new.venue))
        described.put("venue_pk", _venue_pk(venue_key(new.venue)))
    if new.starts_at != old.starts_at:
        described.put("starts_at", new.starts_at.isoformat())
        described.put("starts_key", new.starts_key)
        quota.put("starts_at", new.starts_at.isoformat())
    if new.name != old.name or new.starts_at != old.starts_at:
        _pin_index(described, old)
    if new.total_tickets != old.total_tickets:
        _recount(quota, old, new.total_tickets)
    repriced = [t for t in new.ticket_types if (o := old.ticket_type(t.id)) is not None and o.price != t.price]
    for n, t in enumerate(repriced):
        described.sets.append(f"ticket_types.#t{n}.price = :price{n}")
        described.names[f"#t{n}"] = t.id
        described.named[f"price{n}"] = t.price
    tx = Transaction().add("event", described.action(event_key(old.id)))
    if quota.sets or quota.removes:
        tx.add("quota", quota.action(inventory.quota_key(old.id)))
    for t in repriced:
        tx.add(f"type:{t.id}", inventory.reprice(old.id, t))
    if new.doors != old.doors:
        _copy_door(tx, new)
    before, after = _entries(old), _entries(new)
    try:
        _write(
            tx,
            puts=[k for k in after if k not in before],
            deletes=[k for k in before if k not in after],
        )
    except Failed as exc:
        raise _failure(exc, new, old) from None
    # A transaction returns no item: read the live one back (its counts may have moved meanwhile).
    updated = get(old.id)
    if updated is None or updated.status != ON_SALE:  # deleted since: answer as if the delete came first
        raise EventNotFound()
    return updated


def delete(old: EventRecord) -> None:
    """Keep the event as a tombstone (bookings still point at it), out of every index; its quota says so too."""
    described, quota = Update.on_sale(), Update.on_sale()
    _pin_index(described, old)
    for update in (described, quota):
        update.put("status", DELETED)
    # Listed for the sweeper, which closes any waiting line of the event (and unlists it): the line is
    # not read here, so a join racing the delete cannot be missed.
    quota.put(inventory.POOL_KEY, inventory.POOLED)
    described.put("updated_at", clock.now().isoformat())
    described.put("list_pk", None)
    described.put("venue_pk", None)
    tx = Transaction().add("event", described.action(event_key(old.id)))
    tx.add("quota", quota.action(inventory.quota_key(old.id)))
    _copy_door(tx, replace(old, status=DELETED))  # its tickets are let in no more
    try:
        _write(tx, deletes=_entries(old))
    except Failed as exc:
        raise _failure(exc, old, old) from None


def put_many(events: Iterable[EventRecord]) -> None:
    """Bulk load (benchmarks, sample data): events, counters and entries by BatchWriteItem, no conditions."""
    requests: list[dict[str, Any]] = []
    for event in events:
        items = [_item(event), inventory.quota_item(event)]
        items += [inventory.type_item(event.id, t) for t in event.ticket_types]
        items += [name_key(event.id, t.name) for t in event.ticket_types]
        requests += [{"PutRequest": {"Item": dump(i)}} for i in items]
        requests += [{"PutRequest": {"Item": _key_item(k)}} for k in _entries(event)]
    _batch(requests)
