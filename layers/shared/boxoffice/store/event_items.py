"""The event's items in the events table: its keys, and its descriptive item read into an EventRecord and
written from one. Keys, indexes and attributes: docs/data-model.md, "events"."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from boxoffice.records import (
    DEFAULT_TIMEZONE,
    DEFAULT_TYPE_NAME,
    DOORS_CLOSE_MINUTES,
    DOORS_OPEN_MINUTES,
    EventRecord,
    TicketType,
    legacy_type_id,
)
from boxoffice.store import dynamo, inventory
from boxoffice.store.dynamo import Item, Transaction, dump, events_table
from boxoffice.text import venue_key
from boxoffice.vocabulary import EventStatus

LIVE = "LIVE"
BY_TIME = "by_time"
BY_VENUE = "by_venue"
EVENT = "EVENT"
NAME = "NAME#"
NEW = {"ConditionExpression": "attribute_not_exists(pk)"}


# The descriptive items this process read lately, by event id: a booking takes the event's and its types'
# names from here instead of reading the (up to 100 KB) item each time. Every rule a booking's condition
# reads is on the small stock items it reads anyway; a name may be RECENT_SECONDS old (a rename in another
# process), and this process's own edits forget what they change. Bounded: cleared when full.
RECENT_SECONDS = 1.0
_RECENT_EVENTS = 1024
_recent: dict[str, tuple[float, Item]] = {}


def recent(event_id: str) -> Item | None:
    """The event's descriptive item as this process read it less than RECENT_SECONDS ago (None: not)."""
    kept = _recent.get(event_id)
    return kept[1] if kept is not None and time.monotonic() - kept[0] < RECENT_SECONDS else None


def keep(item: Item) -> None:
    if is_legacy(item):  # upgraded on its next read: not worth keeping
        return
    if len(_recent) >= _RECENT_EVENTS:
        _recent.clear()
    _recent[item["id"]] = (time.monotonic(), item)


def forget(event_id: str | None = None) -> None:
    """An edit changed the event (None: every event, a new runtime): read its item again next time."""
    if event_id is None:
        _recent.clear()
    else:
        _recent.pop(event_id, None)


def stocked(item: Item) -> int:
    """How many stock shards the event's descriptive item says it has."""
    return int(item.get("stock_shards") or item.get("inventory_shards") or 1)


def event_key(event_id: str) -> dict[str, str]:
    return {"pk": f"EVENT#{event_id}", "sk": "EVENT"}


def venue_pk(key: str) -> str:
    return f"VENUE#{key}"


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
        "hidden": ticket_type.hidden or None,  # absent unless hidden
    }
    return {k: v for k, v in definition.items() if v is not None}


def descriptive_item(event: EventRecord) -> Item:
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
        "venue_pk": venue_pk(venue_key(event.venue)),
        # Absent: one, as for every event stored before stock shards.
        "inventory_shards": event.inventory_shards if event.inventory_shards > 1 else None,
        "stock_shards": event.stock_shards if event.stock_shards > event.inventory_shards else None,
    }


def is_legacy(item: Item) -> bool:
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
        hidden=bool(definition.get("hidden", False)),
    )


def describe(item: Item) -> EventRecord:
    """The event from its descriptive item alone: counters are zero until its counter items are read,
    except for an event stored before ticket types, which is read as one "General admission" type."""
    created_at = datetime.fromisoformat(item["created_at"])
    per_booking = int(item["max_tickets_per_booking"])
    cap = item.get("max_tickets_per_user")
    if is_legacy(item):
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
        status=EventStatus(item["status"]),
        created_at=created_at,
        updated_at=datetime.fromisoformat(item["updated_at"]),
        ticket_types=types,
        doors_open_minutes_before=int(item.get("doors_open_minutes_before", DOORS_OPEN_MINUTES)),
        doors_close_minutes_after=int(item.get("doors_close_minutes_after", DOORS_CLOSE_MINUTES)),
        inventory_shards=int(item.get("inventory_shards", 1)),
        stock_shards=int(item.get("stock_shards") or item.get("inventory_shards") or 1),
    )
    return inventory.with_hold_ceilings(record, item)


def assemble(item: Item, counters: Iterable[Item]) -> EventRecord:
    """The event from its descriptive item and whichever of its counter items were read: shard 0's (its
    own partition's), and those of its other stock shards, summed when every one was read."""
    event = describe(item)
    counters = list(counters)
    by_sk = {c["sk"]: c for c in counters if c["pk"] == item["pk"]}
    if inventory.QUOTA in by_sk:
        event = inventory.with_quota(event, by_sk[inventory.QUOTA])
    types = tuple(
        inventory.with_counter(t, by_sk[f"{inventory.TYPE}{t.id}"]) if f"{inventory.TYPE}{t.id}" in by_sk else t
        for t in event.ticket_types
    )
    if event.stocked > 1 and inventory.QUOTA in by_sk:
        return inventory.with_shards(event, types, (c for c in counters if c["pk"] != item["pk"]))
    return replace(event, ticket_types=types)


def shard_keys(item: Item) -> list[dict[str, str]]:
    """The items of the event's stock shards beyond its own partition: their quota and sub-quota counters."""
    count = stocked(item)
    if count == 1 or is_legacy(item):
        return []
    subs = [t for t, d in item["ticket_types"].items() if d.get("total_tickets") is not None]
    return inventory.shard_keys(item["id"], count, subs)


def _counter_keys(item: Item) -> list[dict[str, str]]:
    """What a listing reads beside the event: its quota, and the counters of the types with a sub-quota,
    in each of its stock shards."""
    if is_legacy(item):
        return []
    subs = [t for t, d in item["ticket_types"].items() if d.get("total_tickets") is not None]
    return [inventory.quota_key(item["id"]), *(inventory.type_key(item["id"], t) for t in subs), *shard_keys(item)]


def complete(items: list[Item]) -> list[EventRecord]:
    """Events from their descriptive items with their counters, in one eventually consistent BatchGetItem
    (for search: availability may be a moment old, and no read of an on-sale's counters is strong)."""
    keys = [k for item in items for k in _counter_keys(item)]
    found = dynamo.batch_get({events_table(): keys}, consistent=False)[events_table()] if keys else []
    by_event: dict[str, list[Item]] = {}
    for counter in found:
        by_event.setdefault(counter["pk"], []).append(counter)
    return [assemble(item, by_event.get(item["pk"], [])) for item in items]


def counter_puts(tx: Transaction, event: EventRecord) -> list[Item]:
    """The event's quota item, and each type's counter item and name claim (shard 0's); returns the items of
    its other stock shards, which the caller puts beside the transaction (they would not fit in it)."""
    own: list[Item] = []
    others: list[Item] = []
    for item in inventory.stock_items(event):
        (own if item["pk"] == inventory.event_pk(event.id) else others).append(item)
    for item in own:
        name = "quota" if item["sk"] == inventory.QUOTA else f"type:{item['sk'].removeprefix(inventory.TYPE)}"
        tx.add(name, {"Put": {"TableName": events_table(), "Item": dump(item), **NEW}})
    for t in event.ticket_types:
        tx.add(f"name:{t.id}", claim_name(event.id, t.name))
    return others


def name_key(event_id: str, name: str) -> dict[str, str]:
    """A ticket type's name claim: type names are unique within an event, ignoring case and accents."""
    return {"pk": inventory.event_pk(event_id), "sk": f"{NAME}{venue_key(name)}"}


def claim_name(event_id: str, name: str) -> dict[str, Any]:
    return {"Put": {"TableName": events_table(), "Item": dump(name_key(event_id, name)), **NEW}}
