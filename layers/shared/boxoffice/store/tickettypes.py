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

from boxoffice import clock
from boxoffice.errors import (
    CapacityBelowSold,
    EventNotFound,
    InvalidInput,
    LastTicketType,
    TicketTypeHasSales,
    TicketTypeNotFound,
)
from boxoffice.records import MAX_TICKET_TYPES, EventRecord, TicketType
from boxoffice.store import dynamo, inventory
from boxoffice.store.dynamo import ALL_OLD, Failed, Item, Transaction, dump, events_table, values
from boxoffice.store.event_items import claim_name, definition, event_key, name_key
from boxoffice.store.events import Stale, Update
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
    tx = Transaction().add("event", described.action(event_key(event.id)))
    tx.add("type", {"Put": {"TableName": events_table(), "Item": dump(inventory.type_item(event.id, ticket_type))}})
    tx.add("name", claim_name(event.id, ticket_type.name))
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
    tx = Transaction().add("event", described.action(event_key(event.id)))
    counter = Update([], [], ["attribute_exists(sold)"], {}, {})
    for field in _COUNTED:
        if field in changed:
            counter.put(field, _stored(getattr(new, field)))
    if "total_tickets" in changed:
        _resize(counter, event.id, old, new)
    if counter.sets or counter.removes:
        tx.add("type", counter.action(inventory.type_key(event.id, new.id)))
    if name_key(event.id, new.name) != name_key(event.id, old.name):  # not for a change of case or accents
        tx.add("old name", {"Delete": {"TableName": events_table(), "Key": dump(name_key(event.id, old.name))}})
        tx.add("name", claim_name(event.id, new.name))
    try:
        tx.commit()
    except Failed as exc:
        raise _update_failure(exc, new) from None
    item = dynamo.get(events_table(), inventory.type_key(event.id, new.id))
    if item is None:  # deleted meanwhile: as if the delete came after
        raise TicketTypeNotFound()
    return inventory.with_counter(new, item)


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
    tx = Transaction().add("event", described.action(event_key(event.id)))
    tx.add(
        "type",
        {
            "Delete": {
                "TableName": events_table(),
                "Key": dump(inventory.type_key(event.id, ticket_type.id)),
                "ConditionExpression": "sold = :zero AND (attribute_not_exists(held) OR held = :zero)",
                "ExpressionAttributeValues": values(zero=0),
                **ALL_OLD,
            }
        },
    )
    tx.add("name", {"Delete": {"TableName": events_table(), "Key": dump(name_key(event.id, ticket_type.name))}})
    try:
        tx.commit()
    except Failed as exc:
        failure = _event_failure(exc, ticket_type.id)
        if failure is not None:
            raise failure from None
        if exc.failed("type"):
            current = exc.old("type")
            if current is None:
                raise TicketTypeNotFound() from None
            raise TicketTypeHasSales(int(current["sold"]) + int(current.get("held", 0))) from None
        raise LastTicketType() from None
