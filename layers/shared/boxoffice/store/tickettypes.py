"""A ticket type's admin writes: each one transaction over the event item (which describes the type),
the type's counter item (store/inventory.py) and its name claim (docs/data-model.md, "events").

Conditions carry the rules that racing writes could break: an event has at most 20 types (a condition on
the size of its `ticket_types` map), names are unique (claims put with attribute_not_exists), a
sub-quota never drops below what the type sold and holds, and only a type with nothing sold or held
can go (`sold = 0`, `held` absent or 0).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boxoffice import clock, shards
from boxoffice.errors import (
    CapacityBelowSold,
    EventNotFound,
    InvalidInput,
    LastTicketType,
    TicketTypeHasSales,
    TicketTypeNotFound,
)
from boxoffice.records import MAX_TICKET_TYPES, EventRecord, TicketType
from boxoffice.store import dynamo, event_items, inventory
from boxoffice.store.dynamo import ALL_OLD, Failed, Item, Transaction, dump, events_table, values
from boxoffice.store.event_items import claim_name, definition, event_key, name_key
from boxoffice.store.events import Stale, Update, pin_shards
from boxoffice.vocabulary import EventStatus


def _event_failure(exc: Failed, type_id: str) -> Exception | None:
    """Why the event item's condition failed, if it did."""
    if not exc.failed("event"):
        return None
    current = exc.old("event")
    if current is None or current.get("status") != EventStatus.ON_SALE:
        return EventNotFound()
    if type_id not in current.get("ticket_types", {}):
        return TicketTypeNotFound()
    return None


def add(event: EventRecord, ticket_type: TicketType) -> None:
    described = Update.on_sale()
    described.sets.append("ticket_types.#type = :definition")
    described.names["#type"] = ticket_type.id
    described.named["definition"] = definition(ticket_type, len(event.ticket_types))
    described.conditions.append("size(ticket_types) < :most AND currency = :currency")
    described.named.update(most=MAX_TICKET_TYPES, currency=event.currency)
    described.put("updated_at", clock.now().isoformat())
    pin_shards(described, event)
    tx = Transaction().add("event", described.action(event_key(event.id)))
    # A sub-quota is split over the selling stock shards, as at the event's creation.
    total = ticket_type.total_tickets
    split = shards.split(total, event.inventory_shards) if total is not None else []
    for shard in range(event.stocked):
        stock = split[shard] if shard < len(split) else 0
        item = inventory.type_item(event.id, ticket_type, shard, stock if total is not None else None)
        tx.add(inventory.type_action(shard), {"Put": {"TableName": events_table(), "Item": dump(item)}})
    tx.add("name", claim_name(event.id, ticket_type.name))
    event_items.forget(event.id)  # read again by this process's next booking
    try:
        tx.commit()
    except Failed as exc:
        if exc.failed("name"):
            raise InvalidInput("must be unique among the event's ticket types", field="name") from None
        current = exc.old("event")
        if current is None or current.get("status") != EventStatus.ON_SALE:
            raise EventNotFound() from None
        if len(current.get("ticket_types", {})) >= MAX_TICKET_TYPES:
            raise InvalidInput(f"the event already has {MAX_TICKET_TYPES} ticket types", field="ticket_types") from None
        raise Stale() from None  # its currency changed: check the price again


_DESCRIBED = (
    *("name", "description", "price", "total_tickets", "max_tickets_per_booking", "sales_start", "sales_end"),
    "hidden",
)
_COUNTED = ("price", "max_tickets_per_booking", "sales_start", "sales_end")


def _stored(value: Any) -> Any:
    if value is False:  # hidden: absent unless true, as the event item is first written
        return None
    return value.isoformat() if isinstance(value, datetime) else value


def update(event: EventRecord, old: TicketType, new: TicketType) -> TicketType:
    """Change the type's description and counter item together; returns it with its live counters."""
    changed = [f for f in _DESCRIBED if getattr(new, f) != getattr(old, f)]
    described = Update.on_sale()
    described.conditions.append("attribute_exists(ticket_types.#type) AND currency = :currency")
    described.names["#type"] = new.id
    described.named["currency"] = event.currency
    for n, field in enumerate(changed):
        path, value = f"ticket_types.#type.#f{n}", _stored(getattr(new, field))
        described.names[f"#f{n}"] = field
        if value is None:
            described.removes.append(path)
        else:
            described.sets.append(f"{path} = :f{n}")
            described.named[f"f{n}"] = value
    described.put("updated_at", clock.now().isoformat())
    pin_shards(described, event)
    tx = Transaction().add("event", described.action(event_key(event.id)))
    counters = [Update([], [], ["attribute_exists(sold)"], {}, {}) for _ in range(event.stocked)]
    for counter in counters:  # every stock shard's counter carries the copies its bookings' conditions read
        for field in _COUNTED:
            if field in changed:
                counter.put(field, _stored(getattr(new, field)))
    if "total_tickets" in changed:
        if event.stocked == 1:
            _resize(counters[0], event.id, old, new)
        else:
            _resize_shards(counters, event, old, new)
    for shard, counter in enumerate(counters):
        if counter.sets or counter.removes:
            tx.add(inventory.type_action(shard), counter.action(inventory.type_key(event.id, new.id, shard)))
    if name_key(event.id, new.name) != name_key(event.id, old.name):  # not for a change of case or accents
        tx.add("old name", {"Delete": {"TableName": events_table(), "Key": dump(name_key(event.id, old.name))}})
        tx.add("name", claim_name(event.id, new.name))
    event_items.forget(event.id)  # read again by this process's next booking
    try:
        tx.commit()
    except Failed as exc:
        raise _update_failure(exc, new) from None
    items = [dynamo.get(events_table(), inventory.type_key(event.id, new.id))]
    if event.stocked > 1:
        items = list(inventory.type_stock(event, new.id))
    if not items[0]:  # deleted meanwhile: as if the delete came after
        raise TicketTypeNotFound()
    return inventory.with_counters(new, [i for i in items if i])


def _resize(counter: Update, event_id: str, old: TicketType, new: TicketType) -> None:
    """The counter item's part of a new sub-quota: what the type has sold and holds stays off it."""
    if new.total_tickets is None:
        counter.removes += ["total_tickets", "available_tickets"]
        return
    counter.named["total"] = new.total_tickets
    if old.total_tickets is not None:
        # By the difference, from the total we read, as for an event's capacity (store/events.py: update).
        change = new.total_tickets - old.total_tickets
        counter.sets.append("total_tickets = :total, available_tickets = available_tickets + :change")
        counter.conditions.append("total_tickets = :old_total AND available_tickets >= :cut")
        counter.named.update(change=change, old_total=old.total_tickets, cut=max(0, -change))
        return
    # A first sub-quota: `:total - sold - held` is two operations, more than an update may make; the held
    # count is read and pinned instead (a hold placed meanwhile makes the edit go round again).
    item = dynamo.get(events_table(), inventory.type_key(event_id, new.id)) or {}
    held, counted = int(item.get("held", 0)), "held" in item
    counter.sets.append("total_tickets = :total, available_tickets = :room - sold")
    counter.conditions.append("sold <= :room AND " + ("held = :held" if counted else "attribute_not_exists(held)"))
    counter.named.update(room=new.total_tickets - held, **({"held": held} if counted else {}))


def _resize_shards(counters: list[Update], event: EventRecord, old: TicketType, new: TicketType) -> None:
    """A new sub-quota of a type whose counters are in several stock shards, from one atomic read of them:
    each shard's share pinned by condition (a booking or hold since makes the edit read again). None: every
    share goes. A first sub-quota: what the type has not sold or held, split over the selling shards. A
    changed one: more goes to shard 0, less comes from the shards that have it (CAPACITY_BELOW_SOLD below
    what it has sold and holds)."""
    if new.total_tickets is None:
        counters[0].removes += ["total_tickets", "available_tickets"]
        for counter in counters[1:]:
            counter.removes.append("available_tickets")
        return
    items = inventory.type_stock(event, new.id)
    counters[0].sets.append("total_tickets = :total")
    counters[0].named["total"] = new.total_tickets
    if old.total_tickets is None:
        taken = sum(int(i.get("sold", 0)) + int(i.get("held", 0)) for i in items)
        if taken > new.total_tickets:
            raise CapacityBelowSold(taken)
        split = shards.split(new.total_tickets - taken, event.inventory_shards)
        for shard, (counter, item) in enumerate(zip(counters, items, strict=True)):
            counter.sets.append("available_tickets = :share")
            counter.conditions.append(
                "sold = :sold AND " + ("held = :held" if "held" in item else "attribute_not_exists(held)")
            )
            counter.named.update(share=split[shard] if shard < len(split) else 0, sold=int(item.get("sold", 0)))
            if "held" in item:
                counter.named["held"] = int(item["held"])
        return
    counters[0].conditions.append("total_tickets = :old_total")
    counters[0].named["old_total"] = old.total_tickets
    change = new.total_tickets - old.total_tickets
    if change >= 0:
        counters[0].sets.append("available_tickets = available_tickets + :change")
        counters[0].named["change"] = change
        return
    stock = [int(i.get("available_tickets", 0)) for i in items]
    cuts = shards.plan(stock, -change)
    if cuts is None:
        raise CapacityBelowSold(old.total_tickets - sum(stock))
    for shard, cut in cuts.items():
        counters[shard].sets.append("available_tickets = available_tickets - :cut")
        counters[shard].conditions.append("available_tickets >= :cut")
        counters[shard].named["cut"] = cut


def _update_failure(exc: Failed, new: TicketType) -> Exception:
    failure = _event_failure(exc, new.id)
    if failure is not None:
        return failure
    if exc.failed("type"):
        current: Item | None = exc.old("type")
        if current is None:
            return TicketTypeNotFound()
        taken = int(current["sold"]) + int(current.get("held", 0))
        if new.total_tickets is not None and taken > new.total_tickets:
            return CapacityBelowSold(taken)
    if exc.failed("name"):
        return InvalidInput("must be unique among the event's ticket types", field="name")
    return Stale()  # the currency changed since we checked the price


def delete(event: EventRecord, ticket_type: TicketType) -> None:
    described = Update.on_sale()
    described.removes.append("ticket_types.#type")
    described.names["#type"] = ticket_type.id
    described.conditions.append("attribute_exists(ticket_types.#type) AND size(ticket_types) > :one")
    described.named["one"] = 1
    described.put("updated_at", clock.now().isoformat())
    pin_shards(described, event)
    tx = Transaction().add("event", described.action(event_key(event.id)))
    for shard in range(event.stocked):  # its counter in every stock shard, none with a live ticket
        tx.add(
            inventory.type_action(shard),
            {
                "Delete": {
                    "TableName": events_table(),
                    "Key": dump(inventory.type_key(event.id, ticket_type.id, shard)),
                    "ConditionExpression": "sold = :zero AND (attribute_not_exists(held) OR held = :zero)",
                    "ExpressionAttributeValues": values(zero=0),
                    **ALL_OLD,
                }
            },
        )
    tx.add("name", {"Delete": {"TableName": events_table(), "Key": dump(name_key(event.id, ticket_type.name))}})
    event_items.forget(event.id)  # read again by this process's next booking
    try:
        tx.commit()
    except Failed as exc:
        failure = _event_failure(exc, ticket_type.id)
        if failure is not None:
            raise failure from None
        failed, current = _failed_counter(exc, event)
        if failed:
            if current is None:
                raise TicketTypeNotFound() from None
            raise TicketTypeHasSales(int(current["sold"]) + int(current.get("held", 0))) from None
        if not exc.failed("event"):
            raise Stale() from None  # its stock shards changed since our read
        raise LastTicketType() from None


def _failed_counter(exc: Failed, event: EventRecord) -> tuple[bool, Item | None]:
    """Whether one of the type's counters failed its condition, and the first such as DynamoDB saw it."""
    for shard in range(event.stocked):
        if exc.failed(inventory.type_action(shard)):
            return True, exc.old(inventory.type_action(shard))
    return False, None
