"""The word index that finds events by the words of their names, and the searches that read it or the
events' listing indexes. Keys and indexes: docs/data-model.md, "events".

Index entries only point at events: a reader always fetches the event itself and keeps it only if it
is on sale, starts at the entry's time and still matches. So the writers add entries before the event
changes and remove them after it has, and an entry left behind by a crash or a lost race is never a
wrong answer, only a wasted read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from boxoffice import retry
from boxoffice.errors import DomainError
from boxoffice.records import EventRecord
from boxoffice.store import dynamo
from boxoffice.store.dynamo import Failed, Item, Transaction, aws_errors, client, dump, events_table, load, values
from boxoffice.store.event_items import BY_TIME, BY_VENUE, LIVE, complete, describe, event_key, venue_pk
from boxoffice.text import venue_key, words
from boxoffice.vocabulary import EventStatus

MAX_PREFIX = 20  # longer query words use their first 20 characters' entries and are checked on the event
MAX_BATCH_WRITE = 25  # per BatchWriteItem
MAX_EXAMINED = 1000  # entries one search request reads before it answers with a short page and a cursor
MAX_QUERY_LIMIT = 100

Key = tuple[str, str]


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
            event.status == EventStatus.ON_SALE
            and all(any(w.startswith(term) for w in name_words) for term in self.terms)
            and (self.venue_key is None or venue_key(event.venue) == self.venue_key)
            and (self.first_day is None or self.first_day <= local_day)
            and (self.last_day is None or local_day <= self.last_day)
        )


def _word_pk(prefix: str) -> str:
    return f"WORD#{prefix}"


def entries(event: EventRecord) -> list[Key]:
    """The word index entries of an on-sale event: one per distinct prefix of its name's words."""
    prefixes = dict.fromkeys(w[:n] for w in words(event.name) for n in range(1, min(len(w), MAX_PREFIX) + 1))
    return [(_word_pk(p), event.starts_key) for p in prefixes]


def key_item(key: Key) -> dict[str, Any]:
    return dump({"pk": key[0], "sk": key[1]})


def batch(requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem in chunks of 25, sending unprocessed requests again (a Conflict: retry.once)."""
    waiting: list[Any] = list(requests)

    def write() -> None:
        nonlocal waiting
        while waiting:
            chunk, rest = waiting[:MAX_BATCH_WRITE], waiting[MAX_BATCH_WRITE:]
            with aws_errors():
                left = client().batch_write_item(RequestItems={events_table(): chunk}).get("UnprocessedItems")
            waiting = [*(left or {}).get(events_table(), []), *rest]
            if left:
                raise retry.Conflict()  # throttled: the rest is sent again (what was written stays) after a pause

    retry.once(write)


def _batch_write(*, puts: Sequence[Key] = (), deletes: Sequence[Key] = ()) -> None:
    batch(
        [{"PutRequest": {"Item": key_item(k)}} for k in puts]
        + [{"DeleteRequest": {"Key": key_item(k)}} for k in deletes]
    )


def write(tx: Transaction, *, puts: Sequence[Key] = (), deletes: Sequence[Key] = ()) -> None:
    """One transaction: `tx` (whose actions carry the conditions) plus the index changes that fit beside them.

    Entries that do not fit are added before the transaction and removed after it, so the index never
    misses a live event; new entries added early are taken back if the transaction is cancelled (or is to be
    sent again: a conflict).
    """
    tx.check_size()  # a transaction too big for DynamoDB is refused before any entry is written
    room = dynamo.MAX_ACTIONS - len(tx)
    inline_puts, early = list(puts[:room]), list(puts[room:])
    room -= len(inline_puts)
    inline_deletes, late = list(deletes[:room]), list(deletes[room:])
    _batch_write(puts=early)
    for n, key in enumerate(inline_puts):
        tx.add(f"entry:put:{n}", {"Put": {"TableName": events_table(), "Item": key_item(key)}})
    for n, key in enumerate(inline_deletes):
        tx.add(f"entry:delete:{n}", {"Delete": {"TableName": events_table(), "Key": key_item(key)}})
    try:
        tx.commit()
    except (Failed, DomainError, retry.Again):  # not committed: refused (a revoked token), busy, or to be resent
        _batch_write(deletes=early)
        raise
    _batch_write(deletes=late)


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
        return _Source(BY_VENUE, "venue_pk", venue_pk(search.venue_key), "starts_key")
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
    keys = [event_key(e) for e in dict.fromkeys(ids)]
    fetched = dynamo.batch_get({events_table(): keys}, consistent=False)[events_table()]  # a public read
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
                    return complete(found), None if exhausted else sort_key
        if last is None or examined >= MAX_EXAMINED:
            return complete(found), last
        after = last
        round_ += 1
