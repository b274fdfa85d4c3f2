"""Capacity units by DynamoDB's rules, per partition key of every table and index, for the calls a client sends.

Writes: 1 WCU per started KB of the larger of the item's old and new size (a ConditionCheck: of the item it
checks), twice inside a transaction; each global secondary index whose projection of the item changes takes a
write on its own partition by the size of the projected item (a delete and a put when the item moves between
index keys); inside a transaction those index writes are counted twice as well (conservative: AWS documents the
doubling for the item). Reads: 1 RCU per started 4 KB of the whole item (a projection does not lower it),
half of that eventually consistent, twice in a transaction; a Query is billed on the sum of the items its key
condition reads, before any filter or projection, rounded up once; a GetItem that finds nothing still takes
its minimum. Sizes are measured on the items as stored (scripts.bench.writes.item_size).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scripts.bench.writes import item_size

KB = 1024
READ_UNIT = 4 * KB
Item = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]  # hash, then range if any
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    table: str  # the template's logical id
    keys: tuple[str, ...]
    indexes: tuple[Index, ...] = ()

    def index(self, name: str) -> Index:
        return next(i for i in self.indexes if i.name == name)

    def key_of(self, item: Item) -> tuple[str, ...]:
        return tuple(_scalar(item[k]) for k in self.keys)

    def project(self, index: Index, item: Item | None) -> dict[str, Any] | None:
        """The index's copy of the item (None: the item lacks the index's keys, so is not in it)."""
        if item is None or any(k not in item for k in index.keys):
            return None
        if index.projection == "ALL":
            return dict(item)
        kept = set(self.keys) | set(index.keys) | set(index.include)
        return {k: v for k, v in item.items() if k in kept}


@dataclass(frozen=True)
class Charge:
    """Units one call takes on one partition: `where` is the table or table/index, `key` its partition key."""

    where: str
    key: str
    rcu: float = 0.0
    wcu: float = 0.0


def _scalar(value: Mapping[str, Any]) -> str:
    (_, raw), *_ = value.items()
    return str(raw)


def schemas() -> dict[str, Schema]:
    """Table name (as configured now) -> its schema, from template.yaml."""
    from boxoffice.config import settings
    from devserver import template

    config = settings()
    names = {
        "UsersTable": config.users_table,
        "EventsTable": config.events_table,
        "BookingsTable": config.bookings_table,
        "TicketsTable": config.tickets_table,
    }
    found = {}
    for logical, props in template.tables().items():
        indexes = tuple(
            Index(
                index["IndexName"],
                tuple(k["AttributeName"] for k in index["KeySchema"]),
                index["Projection"]["ProjectionType"],
                tuple(index["Projection"].get("NonKeyAttributes", ())),
            )
            for index in props.get("GlobalSecondaryIndexes", [])
        )
        found[names[logical]] = Schema(logical, tuple(k["AttributeName"] for k in props["KeySchema"]), indexes)
    return found


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return units if consistent else units / 2


def write_charges(
    schema: Schema, old: Item | None, new: Item | None, *, transactional: bool, check_only: bool = False
) -> list[Charge]:
    """A write that turns `old` into `new` (None: absent); a ConditionCheck (`check_only`) writes no index."""
    times = 2 if transactional else 1
    present = new if new is not None else old
    if present is None:  # deleting or checking nothing: still the minimum
        raise ValueError("a write names an item: give its key as `old` at least")
    size = max(item_size(old or {}), item_size(new or {}))
    charges = [Charge(schema.table, _scalar(present[schema.keys[0]]), wcu=times * write_units(size))]
    if check_only:
        return charges
    for index in schema.indexes:
        before, after = schema.project(index, old), schema.project(index, new)
        if before == after:
            continue
        where = f"{schema.table}/{index.name}"
        if before and after and all(before[k] == after[k] for k in index.keys):
            units = write_units(max(item_size(before), item_size(after)))
            charges.append(Charge(where, _scalar(after[index.keys[0]]), wcu=times * units))
            continue
        for copy in (before, after):  # leaves one key and enters another: a delete and a put
            if copy is not None:
                charges.append(Charge(where, _scalar(copy[index.keys[0]]), wcu=times * write_units(item_size(copy))))
    return charges


def read_charge(
    schema: Schema, key: str, sizes: Sequence[int], *, consistent: bool, index: str | None = None, times: int = 1
) -> Charge:
    """One GetItem (one size), or one Query's items (summed, then rounded up)."""
    where = f"{schema.table}/{index}" if index else schema.table
    return Charge(where, key, rcu=times * read_units(sum(sizes), consistent=consistent))


def merged(charges: Iterable[Charge]) -> dict[tuple[str, str], tuple[float, float]]:
    """(where, key) -> (RCU, WCU), summed."""
    total: dict[tuple[str, str], tuple[float, float]] = {}
    for c in charges:
        rcu, wcu = total.get((c.where, c.key), (0.0, 0.0))
        total[(c.where, c.key)] = (rcu + c.rcu, wcu + c.wcu)
    return total


_PLACEHOLDERS = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"[^#\s]+@[^#\s]+"), "<email>"),
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(\+00:00|Z)?"), "<time>"),
    (re.compile(r"(?<=#)[A-Za-z0-9_-]{16,}"), "<token>"),
    (re.compile(r"(?<=#)\d+$"), "<n>"),
    (re.compile(r"(?<=#[A-Z])\d+$"), "<n>"),  # a shard's number after its letter: EVENT#<id>#S<n>
]


def placeholder(key: str) -> str:
    """A partition key with its ids, emails, instants and numbers replaced, so kinds of keys compare."""
    for pattern, name in _PLACEHOLDERS:
        key = pattern.sub(name, key)
    return key
