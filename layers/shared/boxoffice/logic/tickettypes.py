"""Ticket types: the rules a type must meet within its event, and the admin's add, change and delete.

A type draws on its event's quota and, with `total_tickets`, on a sub-quota of its own; it is sold
between `sales_start` and `sales_end`; its price must fit the event's currency. Names are unique within
an event (ignoring case and accents), and an event has 1 to 20 types.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from boxoffice import clock, ids, money, retry
from boxoffice.errors import InvalidInput, LastTicketType, TicketTypeNotFound
from boxoffice.logic.access import editable
from boxoffice.models.events import CreateTicketType, TicketTypeOut, UpdateTicketType
from boxoffice.records import MAX_TICKET_TYPES, EventRecord, TicketType
from boxoffice.store import tickettypes as store
from boxoffice.text import venue_key
from boxoffice.vocabulary import Principal


def public(ticket_type: TicketType, currency: str) -> TicketTypeOut:
    return TicketTypeOut(
        id=ticket_type.id,
        name=ticket_type.name,
        description=ticket_type.description,
        price=money.in_minor_units(ticket_type.price, currency),
        total_tickets=ticket_type.total_tickets,
        available_tickets=ticket_type.available_tickets if ticket_type.total_tickets is not None else None,
        max_tickets_per_booking=ticket_type.max_tickets_per_booking,
        sales_start=ticket_type.sales_start,
        sales_end=ticket_type.sales_end,
        hidden=ticket_type.hidden,
    )


def new(request: CreateTicketType, *, per_booking: int, now: datetime) -> TicketType:
    """A type as requested, nothing sold; the per-booking limit defaults to the event's."""
    return TicketType(
        id=ids.new_uuid(),
        name=request.name,
        description=request.description,
        price=request.price,
        total_tickets=request.total_tickets,
        max_tickets_per_booking=request.max_tickets_per_booking or per_booking,
        sales_start=request.sales_start,
        sales_end=request.sales_end,
        created_at=now,
        available_tickets=request.total_tickets,
        hidden=request.hidden,
    )


def check_price(price: Decimal, currency: str, *, field: str) -> None:
    if not money.fits(price, currency):
        raise InvalidInput(f"must have at most {money.places(currency)} decimal places in {currency}", field=field)


def _check_one(t: TicketType, *, total: int, currency: str, prefix: str) -> None:
    """A type fits its event: price in the currency's minor unit, sub-quota within the event's quota, and
    a sales window that ends after it starts. Errors name the field, after `prefix`."""
    check_price(t.price, currency, field=f"{prefix}price")
    if t.total_tickets is not None and t.total_tickets > total:
        raise InvalidInput(f"must not exceed the event's total_tickets ({total})", field=f"{prefix}total_tickets")
    if t.sales_start is not None and t.sales_end is not None and t.sales_end <= t.sales_start:
        raise InvalidInput("must be after sales_start", field=f"{prefix}sales_end")


def _check_name(t: TicketType, others: Sequence[TicketType], *, field: str) -> None:
    if any(venue_key(o.name) == venue_key(t.name) for o in others if o.id != t.id):
        raise InvalidInput("must be unique among the event's ticket types", field=field)


def check(types: Sequence[TicketType], *, total: int, currency: str) -> None:
    """The types of a new event, each fitting it and named apart (errors name `ticket_types.<n>.<field>`)."""
    for n, t in enumerate(types):
        _check_one(t, total=total, currency=currency, prefix=f"ticket_types.{n}.")
        _check_name(t, types[:n], field=f"ticket_types.{n}.name")


def _own(event: EventRecord, type_id: str) -> TicketType:
    found = event.ticket_type(type_id) if ids.is_uuid(type_id) else None
    if found is None:
        raise TicketTypeNotFound()
    return found


def add_ticket_type(principal: Principal, event_id: str, request: CreateTicketType) -> TicketTypeOut:
    """POST /events/{id}/ticket-types: one transaction puts the type's counter item and its description
    on the event, while the event has fewer than 20 types and none of the same name."""

    def attempt() -> TicketTypeOut:
        event = editable(principal, event_id)
        ticket_type = new(request, per_booking=event.max_tickets_per_booking, now=clock.now())
        if len(event.ticket_types) >= MAX_TICKET_TYPES:
            raise InvalidInput(f"the event already has {MAX_TICKET_TYPES} ticket types", field="ticket_types")
        _check_one(ticket_type, total=event.total_tickets, currency=event.currency, prefix="")
        _check_name(ticket_type, event.ticket_types, field="name")
        store.add(event, ticket_type)
        return public(ticket_type, event.currency)

    return retry.retried(attempt)


def update_ticket_type(principal: Principal, event_id: str, type_id: str, request: UpdateTicketType) -> TicketTypeOut:
    """PATCH: any field; a new total_tickets moves the type's available count in the same conditional
    write (409 CAPACITY_BELOW_SOLD below what it has sold)."""
    changes = request.changes()

    def attempt() -> TicketTypeOut:
        event = editable(principal, event_id)
        old = _own(event, type_id)
        updated = dataclasses.replace(old, **changes)
        _check_one(updated, total=event.total_tickets, currency=event.currency, prefix="")
        _check_name(updated, event.ticket_types, field="name")
        return public(store.update(event, old, updated), event.currency)

    return retry.retried(attempt)


def delete_ticket_type(principal: Principal, event_id: str, type_id: str) -> None:
    """DELETE: only a type with no live tickets (409 TICKET_TYPE_HAS_SALES), and never the last one (409
    LAST_TICKET_TYPE)."""

    def attempt() -> None:
        event = editable(principal, event_id)
        ticket_type = _own(event, type_id)
        if len(event.ticket_types) == 1:
            raise LastTicketType()
        store.delete(event, ticket_type)

    retry.retried(attempt)
