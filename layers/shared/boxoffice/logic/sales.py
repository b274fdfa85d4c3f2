"""The sale rules: what a booking, a hold, a waiting-list join and an offer may take, judged from the
counters a request read (the event's quota, the type's, the buyer's holding) and the time.

Pure: no store, no clock, no metrics. Each rule answers the Stock to draw on, or raises the domain error of
the first rule broken, in the order a buyer can do something about it. The store enforces the same rules by
condition inside each transaction; these answer early, and again as a failed transaction saw the counters.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from boxoffice.errors import (
    EventNotFound,
    EventStarted,
    HoldCooldown,
    HoldLimitReached,
    InvalidInput,
    NotEnoughTickets,
    SalesEnded,
    SalesNotStarted,
    SoldOut,
    TicketTypeNotFound,
    UserLimitReached,
)
from boxoffice.records import EventRecord, Holding, Stock, TicketType
from boxoffice.vocabulary import EventStatus


def on_sale(status: EventStatus, starts_at: datetime, now: datetime) -> bool:
    """An event sells (and people wait for it) while it is on sale and has not started."""
    return status == EventStatus.ON_SALE and starts_at > now


def selling(ticket_type: TicketType | None, now: datetime) -> bool:
    """The type exists and its sales have not ended (an offer for one that stopped selling is pointless)."""
    return ticket_type is not None and (ticket_type.sales_end is None or now < ticket_type.sales_end)


def chosen_type(event: EventRecord | None, ticket_type_id: str | None) -> TicketType | None:
    """The type a request names; without a name, the event's only type (naming none of several is 422)."""
    if event is None:
        return None
    if ticket_type_id is not None:
        return event.ticket_type(ticket_type_id)
    if len(event.ticket_types) > 1:
        raise InvalidInput("is required: this event has several ticket types", field="ticket_type_id")
    return event.ticket_types[0]


def sellable(
    event: EventRecord | None, ticket_type: TicketType | None, holding: Holding, quantity: int, now: datetime
) -> Stock:
    """What `quantity` tickets of the type would be drawn on, if this buyer may have them now as far as
    every rule but the tickets left goes (what a waiting-list join asks: it waits while too few are left)."""
    if event is None or event.status != EventStatus.ON_SALE:
        raise EventNotFound()
    if ticket_type is None:
        raise TicketTypeNotFound()
    limit = min(event.max_tickets_per_booking, ticket_type.max_tickets_per_booking)
    if quantity > limit:
        whose = "event" if limit == event.max_tickets_per_booking else "ticket type"
        raise InvalidInput(f"must be between 1 and {limit} for this {whose}", field="quantity")
    if event.starts_at <= now:
        raise EventStarted()
    if ticket_type.sales_start is not None and now < ticket_type.sales_start:
        raise SalesNotStarted(ticket_type.sales_start)
    if ticket_type.sales_end is not None and ticket_type.sales_end <= now:
        raise SalesEnded(ticket_type.sales_end)
    cap = event.max_tickets_per_user
    if cap is not None and holding.tickets + quantity > cap:
        raise UserLimitReached(max(0, cap - holding.tickets), cap)
    return Stock(event, ticket_type, holding)


def bookable(
    event: EventRecord | None, ticket_type: TicketType | None, holding: Holding, quantity: int, now: datetime
) -> Stock:
    """What a booking of `quantity` tickets of the type would draw on: as sellable(), with the tickets left
    in both the event's quota and the type's sub-quota (a sharded event's, once read: until then its
    shards' conditions judge them)."""
    stock = sellable(event, ticket_type, holding, quantity, now)
    if stock.known and stock.available < quantity:
        raise SoldOut() if stock.available == 0 else NotEnoughTickets(stock.available)
    return stock


def holdable(
    event: EventRecord | None, ticket_type: TicketType | None, holding: Holding, quantity: int, now: datetime
) -> Stock:
    """What a hold may take: as bookable(), and within what one account may keep off sale: no cool-down
    running (a hold of theirs expired lately), and no more live held tickets or live holds than the event's
    ceilings. A hoarder with free accounts takes a booking's worth per account and cannot retake what they
    let lapse at once."""
    stock = bookable(event, ticket_type, holding, quantity, now)
    event = stock.event
    until = holding.cooldown_until
    if until is not None and now < until:
        raise HoldCooldown(math.ceil((until - now) / timedelta(seconds=1)))  # never too early
    room = event.held_ceiling - holding.held_tickets if holding.holds < event.holds_ceiling else 0
    if quantity > room:
        raise HoldLimitReached(max(0, room), event.held_ceiling, event.holds_ceiling)
    return stock


def confirmable(event: EventRecord | None, now: datetime) -> EventRecord:
    """The event, if a hold of it may still become a booking (on sale, not started): a hold's tickets are
    already taken, so no other rule is judged again."""
    if event is None or event.status != EventStatus.ON_SALE:
        raise EventNotFound()
    if event.starts_at <= now:
        raise EventStarted()
    return event
