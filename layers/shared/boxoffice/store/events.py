"""The events table: events, and a word index that finds them by the words of their names.

Items (partition key `pk`, sort key `sk`; attributes in docs/data-model.md):
  EVENT#<id>     / EVENT         the event. While it is on sale, list_pk (`LIVE`) puts it in the by_time
                                 index and venue_pk (`VENUE#<venue_key>`) in by_venue, both sorted by
                                 starts_key (`<starts_at UTC>#<id>`). Deleting keeps it as a tombstone.
  WORD#<prefix>  / <starts_key>  one key-only entry per distinct prefix (1..MAX_PREFIX characters) of the
                                 folded words of an on-sale event's name, so a word or a word's beginning
                                 is one Query, already in start-time order.

Index entries only point at events: a reader always fetches the event itself and keeps it only if it
is on sale, starts at the entry's time and still matches. So the writers add entries before the event
changes and remove them after it has, and an entry left behind by a crash or a lost race is never a
wrong answer, only a wasted read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.errors import Busy, CapacityBelowSold, EventNotFound, NotAuthenticated
from boxoffice.models.events import venue_key, words
from boxoffice.store import dynamo, users
from boxoffice.store.dynamo import Cancelled, Item, aws_errors, client, dump, load, values
from boxoffice.store.users import UserRecord

ON_SALE: Final = "ON_SALE"
DELETED: Final = "DELETED"
LIVE = "LIVE"
BY_TIME = "by_time"
BY_VENUE = "by_venue"
MAX_PREFIX = 20  # longer query words use their first 20 characters' entries and are checked on the event
MAX_ACTIONS = 100  # per TransactWriteItems
MAX_BATCH_WRITE = 25  # per BatchWriteItem
MAX_EXAMINED = 1000  # entries one search request reads before it answers with a short page and a cursor
MAX_QUERY_LIMIT = 100
LAST_KEY = "9999-12-31T23:59:59+00:00#~"  # after every starts_key

Key = tuple[str, str]


class Stale(Exception):
    """The event changed between our read and our conditional write; read it again and retry."""


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: str
    name: str
    description: str
    venue: str
    starts_at: datetime  # UTC, whole seconds: its ISO form has a fixed width and sorts as text
    total_tickets: int
    available_tickets: int
    ticket_price: Decimal
    currency: str
    max_tickets_per_booking: int
    status: str
    created_at: datetime
    updated_at: datetime

    @property
    def starts_key(self) -> str:
        return f"{self.starts_at.isoformat()}#{self.id}"

    @classmethod
    def from_item(cls, item: Item) -> EventRecord:
        return cls(
            id=item["id"],
            name=item["name"],
            description=item.get("description", ""),
            venue=item["venue"],
            starts_at=datetime.fromisoformat(item["starts_at"]),
            total_tickets=int(item["total_tickets"]),
            available_tickets=int(item["available_tickets"]),
            ticket_price=Decimal(item["ticket_price"]),
            currency=item["currency"],
            max_tickets_per_booking=int(item["max_tickets_per_booking"]),
            status=item["status"],
            created_at=datetime.fromisoformat(item["created_at"]),
            updated_at=datetime.fromisoformat(item["updated_at"]),
        )


@dataclass(frozen=True, slots=True)
class Search:
    """Events on sale starting within [lower, upper] (UTC ISO instants), optionally by venue and name words."""

    lower: str
    upper: str
    terms: tuple[str, ...] = ()
    venue_key: str | None = None

    def accepts(self, event: EventRecord) -> bool:
        name_words = words(event.name)
        return (
            event.status == ON_SALE
            and all(any(w.startswith(term) for w in name_words) for term in self.terms)
            and (self.venue_key is None or venue_key(event.venue) == self.venue_key)
        )


def _table() -> str:
    return settings().events_table


def event_key(event_id: str) -> dict[str, str]:
    return {"pk": f"EVENT#{event_id}", "sk": "EVENT"}


def _venue_pk(key: str) -> str:
    return f"VENUE#{key}"


def _word_pk(prefix: str) -> str:
    return f"WORD#{prefix}"


def _item(event: EventRecord) -> Item:
    return {
        **event_key(event.id),
        "id": event.id,
        "name": event.name,
        "description": event.description,
        "venue": event.venue,
        "venue_key": venue_key(event.venue),
        "starts_at": event.starts_at.isoformat(),
        "starts_key": event.starts_key,
        "total_tickets": event.total_tickets,
        "available_tickets": event.available_tickets,
        "ticket_price": event.ticket_price,
        "currency": event.currency,
        "max_tickets_per_booking": event.max_tickets_per_booking,
        "status": event.status,
        "created_at": event.created_at.isoformat(),
        "updated_at": event.updated_at.isoformat(),
        "list_pk": LIVE,
        "venue_pk": _venue_pk(venue_key(event.venue)),
    }


def _entries(event: EventRecord) -> list[Key]:
    """The word index entries of an on-sale event: one per distinct prefix of its name's words."""
    prefixes = dict.fromkeys(w[:n] for w in words(event.name) for n in range(1, min(len(w), MAX_PREFIX) + 1))
    return [(_word_pk(p), event.starts_key) for p in prefixes]


def _key_item(key: Key) -> dict[str, Any]:
    return dump({"pk": key[0], "sk": key[1]})


def _batch(requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed requests with jittered backoff."""
    for start in range(0, len(requests), MAX_BATCH_WRITE):
        pending: Any = {_table(): requests[start : start + MAX_BATCH_WRITE]}
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


def _write(actions: list[dict[str, Any]], *, puts: Sequence[Key] = (), deletes: Sequence[Key] = ()) -> None:
    """One transaction: `actions` (which carry the conditions) plus the index changes that fit beside them.

    Entries that do not fit are added before the transaction and removed after it, so the index never
    misses a live event; new entries added early are taken back if the transaction is cancelled.
    """
    room = MAX_ACTIONS - len(actions)
    inline_puts, early = list(puts[:room]), list(puts[room:])
    room -= len(inline_puts)
    inline_deletes, late = list(deletes[:room]), list(deletes[room:])
    _batch_write(puts=early)
    index = [{"Put": {"TableName": _table(), "Item": _key_item(k)}} for k in inline_puts]
    index += [{"Delete": {"TableName": _table(), "Key": _key_item(k)}} for k in inline_deletes]
    try:
        dynamo.transact([*actions, *index])
    except Cancelled:
        _batch_write(deletes=early)
        raise
    _batch_write(deletes=late)


# --- reads ---


def get(event_id: str) -> EventRecord | None:
    """The event, tombstones included, with its live ticket count (strongly consistent)."""
    item = dynamo.get(_table(), event_key(event_id))
    return EventRecord.from_item(item) if item else None


def get_for_user(event_id: str, user_id: str) -> tuple[EventRecord | None, UserRecord | None]:
    """One BatchGetItem: the event and the caller's account (to check the caller's token version)."""
    users_table = settings().users_table
    found = dynamo.batch_get({_table(): [event_key(event_id)], users_table: [users.user_key(user_id)]})
    events, accounts = found[_table()], found[users_table]
    return (
        EventRecord.from_item(events[0]) if events else None,
        UserRecord.from_item(accounts[0]) if accounts else None,
    )


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
        "TableName": _table(),
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


def _resolve(source: _Source, items: list[Item]) -> list[tuple[str, EventRecord | None]]:
    """(sort key, event or None when the entry is stale) for each item, in index order."""
    if source.index is not None:
        return [(i["starts_key"], EventRecord.from_item(i)) for i in items]
    ids = [i["sk"].rpartition("#")[2] for i in items]
    # One event can have two entries in a partition (a stale one beside the live one); BatchGetItem
    # refuses duplicate keys outright, so each event is read once and the entries share it.
    fetched = dynamo.batch_get({_table(): [event_key(e) for e in dict.fromkeys(ids)]})[_table()]
    by_id = {e["id"]: EventRecord.from_item(e) for e in fetched}
    resolved: list[tuple[str, EventRecord | None]] = []
    for item, event_id in zip(items, ids, strict=True):
        event = by_id.get(event_id)
        resolved.append((item["sk"], event if event and event.starts_key == item["sk"] else None))
    return resolved


def search(query: Search, limit: int, after: str | None) -> tuple[list[EventRecord], str | None]:
    """Up to `limit` matching events in start order after the sort key `after`, and where to go on from.

    The first Query asks for exactly `limit`: when every entry matches (one filter, or none), a page
    costs one Query (plus one BatchGetItem for word entries) and reads one item (two) per event.
    Entries that fail a second filter cost extra reads; each further Query asks for twice as many.
    """
    source = _source(query)
    found: list[EventRecord] = []
    examined = round_ = 0
    while True:
        items, last = _query(source, query, after, min(MAX_QUERY_LIMIT, (limit - len(found)) << round_))
        examined += len(items)
        resolved = _resolve(source, items)
        for position, (sort_key, event) in enumerate(resolved, start=1):
            if event is not None and query.accepts(event):
                found.append(event)
                if len(found) == limit:
                    exhausted = last is None and position == len(resolved)
                    return found, None if exhausted else sort_key
        if last is None or examined >= MAX_EXAMINED:
            return found, last
        after = last
        round_ += 1


# --- writes ---


def create(event: EventRecord, *, caller: tuple[str, int] | None) -> None:
    """Put the event and its word entries; with a caller, only while the caller's token is current."""
    check = [users.current_check(*caller)] if caller else []
    put = {
        "Put": {"TableName": _table(), "Item": dump(_item(event)), "ConditionExpression": "attribute_not_exists(pk)"}
    }
    try:
        _write([*check, put], puts=_entries(event))
    except Cancelled as exc:
        if check and exc.failed_at(0):
            raise NotAuthenticated("The token was revoked.") from exc
        raise


def _pins(old: EventRecord, *, capacity: bool, index: bool) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """Conditions (with their names and values) that hold while the event is on sale and, where it matters,
    still has the capacity (`capacity`) or the name and start (`index`) we read."""
    conditions, names = ["#status = :on_sale"], {"#status": "status"}
    named: dict[str, Any] = {"on_sale": ON_SALE}
    if capacity:
        conditions.append("total_tickets = :old_total")
        named["old_total"] = old.total_tickets
    if index:
        conditions.append("#name = :old_name AND starts_key = :old_key")
        names["#name"] = "name"
        named.update(old_name=old.name, old_key=old.starts_key)
    return conditions, names, named


def _failure(old: EventRecord, current: Item | None, *, capacity: bool) -> Exception:
    """Why a conditional write on the event failed, from the item as the failing write saw it."""
    if current is None or current.get("status") != ON_SALE:
        return EventNotFound()
    now = EventRecord.from_item(current)
    if (now.total_tickets, now.name, now.starts_key) != (old.total_tickets, old.name, old.starts_key):
        return Stale()
    if capacity:
        sold = now.total_tickets - now.available_tickets
        return CapacityBelowSold(sold)
    return Stale()


_FIELDS = ("name", "description", "venue", "ticket_price", "currency", "max_tickets_per_booking")


def update(old: EventRecord, new: EventRecord, *, before_start: bool) -> EventRecord:
    """Write `new` over `old`, moving available_tickets by the change in capacity, in one conditional write.

    A capacity change pins the old total (two edits cannot interleave) and requires that enough tickets
    are unsold (`available >= old total - new total`), so racing bookings and edits keep
    available + sold == total. A new name or start pins the old ones, so the word entries we swap are
    the event's own. `before_start`: the write holds only while the stored start is after
    new.updated_at (another edit may have brought the start forward since our read).
    """
    capacity = new.total_tickets != old.total_tickets
    changed = {f: getattr(new, f) for f in _FIELDS if getattr(new, f) != getattr(old, f)}
    changed["updated_at"] = new.updated_at.isoformat()
    if new.venue != old.venue:
        changed.update(venue_key=venue_key(new.venue), venue_pk=_venue_pk(venue_key(new.venue)))
    if new.starts_at != old.starts_at:
        changed.update(starts_at=new.starts_at.isoformat(), starts_key=new.starts_key)
    conditions, names, named = _pins(old, capacity=capacity, index="name" in changed or "starts_key" in changed)
    if before_start:
        conditions.append("starts_at > :now")
        named["now"] = new.updated_at.isoformat()
    sets = [f"#{f} = :{f}" for f in changed]
    if capacity:
        sets.append("total_tickets = :total, available_tickets = available_tickets + :delta")
        conditions.append("available_tickets >= :unsold")
        named.update(
            total=new.total_tickets,
            delta=new.total_tickets - old.total_tickets,
            unsold=max(0, old.total_tickets - new.total_tickets),
        )
    request: dict[str, Any] = {
        "TableName": _table(),
        "Key": dump(event_key(old.id)),
        "UpdateExpression": "SET " + ", ".join(sets),
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": {**names, **{f"#{f}": f for f in changed}},
        "ExpressionAttributeValues": values(**named, **changed),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    before, after = _entries(old), _entries(new)
    if before == after:
        with aws_errors():
            try:
                raw = client().update_item(**request, ReturnValues="ALL_NEW")
            except client().exceptions.ConditionalCheckFailedException as exc:
                current: Any = exc.response.get("Item")
                raise _failure(old, load(current) if current else None, capacity=capacity) from None
        return EventRecord.from_item(load(raw["Attributes"]))
    try:
        _write(
            [{"Update": request}],
            puts=[k for k in after if k not in before],
            deletes=[k for k in before if k not in after],
        )
    except Cancelled as exc:
        raise _failure(old, exc.old(0), capacity=capacity) from None
    # A transaction returns no item: read the live one back (its count may have moved meanwhile).
    updated = get(old.id)
    if updated is None or updated.status != ON_SALE:  # deleted since: answer as if the delete came first
        raise EventNotFound()
    return updated


def delete(old: EventRecord) -> None:
    """Keep the event as a tombstone (bookings still point at it), out of every index."""
    conditions, names, named = _pins(old, capacity=False, index=True)
    named.update(deleted=DELETED, now=clock.now().isoformat())
    request = {
        "TableName": _table(),
        "Key": dump(event_key(old.id)),
        "UpdateExpression": "SET #status = :deleted, updated_at = :now REMOVE list_pk, venue_pk",
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values(**named),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    try:
        _write([{"Update": request}], deletes=_entries(old))
    except Cancelled as exc:
        raise _failure(old, exc.old(0), capacity=False) from None


def put_many(events: Iterable[EventRecord]) -> None:
    """Bulk load (benchmarks, sample data): events and their entries by BatchWriteItem, no conditions."""
    requests: list[dict[str, Any]] = []
    for event in events:
        requests.append({"PutRequest": {"Item": dump(_item(event))}})
        requests += [{"PutRequest": {"Item": _key_item(k)}} for k in _entries(event)]
    _batch(requests)
