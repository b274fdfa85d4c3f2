"""Domain events: what other teams may react to, derived from committed changes only.

The bookings and tickets tables' streams feed this, so an event exists exactly when its change was
committed; nothing on a request path writes twice. Each event's detail carries ids, counts and
instants, never personal data beyond the user's id. Its `id` names the transition itself (a booking
is confirmed once and cancelled once), so consumers drop repeats: delivery is at least once
(docs/events.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from boxoffice import bus
from boxoffice.observability import logger, metrics
from boxoffice.records import BookingRecord, Change, HoldImage, TicketRecord
from boxoffice.store import changes
from boxoffice.vocabulary import BookingStatus, HoldStatus, TicketStatus

SCHEMA_VERSION: Final = 1
BOOKING_CONFIRMED: Final = "BookingConfirmed"
BOOKING_CANCELLED: Final = "BookingCancelled"
HOLD_OFFERED: Final = "HoldOffered"
HOLD_EXPIRED: Final = "HoldExpired"
TICKET_CHECKED_IN: Final = "TicketCheckedIn"
TICKET_CHECK_IN_UNDONE: Final = "TicketCheckInUndone"
TICKET_CANCELLED: Final = "TicketCancelled"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    name: str  # the EventBridge detail-type
    detail: dict[str, Any]


def _event(name: str, subject: str, at: datetime, *, event_id: str, user_id: str | None, **fields: Any) -> DomainEvent:
    """The envelope every detail shares, then the event's own fields (ids, counts, instants)."""
    common = {"id": f"{name}:{subject}", "version": SCHEMA_VERSION, "occurred_at": at.isoformat()}
    return DomainEvent(name, {**common, "event_id": event_id, "user_id": user_id, **fields})


def _booking(name: str, booking: BookingRecord, at: datetime, subject: str = "", **fields: Any) -> DomainEvent:
    # `ticket_type_id` is its first line's for an order of several: `lines` names them all.
    lines = [{"ticket_type_id": x.ticket_type.id, "quantity": len(booking.kept_in(x))} for x in booking.booked_lines]
    return _event(
        name,
        subject or booking.id,
        at,
        event_id=booking.event_id,
        user_id=booking.user_id,
        booking_id=booking.id,
        **{"ticket_type_id": booking.ticket_type_id, "quantity": booking.quantity, "lines": lines, **fields},
    )


def _ticket_cancelled(booking: BookingRecord, at: datetime) -> DomainEvent:
    # One ticket goes per change (DELETE /bookings/{id}/tickets/{n}): the latest one added, of its line's type.
    number = booking.cancelled_tickets[-1]
    line = next(x for x in booking.booked_lines if number in x.ticket_numbers)
    subject = f"{booking.id}:{number}"
    return _booking(TICKET_CANCELLED, booking, at, subject, ticket_number=number, ticket_type_id=line.ticket_type.id)


def _hold(name: str, hold: HoldImage, at: datetime, **fields: Any) -> DomainEvent:
    return _event(
        name,
        hold.id,
        at,
        event_id=hold.event_id,
        user_id=hold.user_id,
        hold_id=hold.id,
        ticket_type_id=hold.ticket_type_id,
        quantity=hold.quantity,
        waiting_entry_id=hold.waiting_entry_id,
        **fields,
    )


def _ticket(name: str, ticket: TicketRecord, at: datetime) -> DomainEvent:
    # A ticket is checked in and undone any number of times: the instant of the change names it.
    return _event(
        name,
        f"{ticket.event_id}:{ticket.ticket_number}:{ticket.updated_at.isoformat()}",
        at,
        event_id=ticket.event_id,
        user_id=ticket.user_id,
        booking_id=ticket.booking_id,
        ticket_number=ticket.ticket_number,
    )


def of(change: Change) -> DomainEvent | None:
    """The domain event a committed change is, if any (most changes are none: keys, counters, edits)."""
    before, after = change.before, change.after
    if isinstance(after, BookingRecord):
        if before is None and after.status == BookingStatus.CONFIRMED:
            return _booking(BOOKING_CONFIRMED, after, after.created_at)
        if isinstance(before, BookingRecord) and (before.status, after.status) == (
            BookingStatus.CONFIRMED,
            BookingStatus.CANCELLED,
        ):
            return _booking(BOOKING_CANCELLED, after, after.cancelled_at or after.created_at)
        if (
            isinstance(before, BookingRecord)
            and before.status == after.status == BookingStatus.CONFIRMED
            and len(after.cancelled_tickets) > len(before.cancelled_tickets)
        ):
            return _ticket_cancelled(after, after.ticket_cancelled_at or after.created_at)
    if isinstance(after, HoldImage):
        if before is None and after.status == HoldStatus.HELD and after.waiting_entry_id is not None:
            return _hold(HOLD_OFFERED, after, after.created_at, expires_at=after.expires_at.isoformat())
        if isinstance(before, HoldImage) and (before.status, after.status) == (HoldStatus.HELD, HoldStatus.EXPIRED):
            return _hold(HOLD_EXPIRED, after, after.ended_at or after.expires_at)
    if isinstance(after, TicketRecord) and isinstance(before, TicketRecord):
        if (before.status, after.status) == (TicketStatus.VALID, TicketStatus.CHECKED_IN):
            return _ticket(TICKET_CHECKED_IN, after, after.checked_in_at or after.updated_at)
        if (before.status, after.status) == (TicketStatus.CHECKED_IN, TicketStatus.VALID):
            return _ticket(TICKET_CHECK_IN_UNDONE, after, after.updated_at)
    return None


def publish(records: Iterable[Mapping[str, Any]]) -> str | None:
    """Publish the domain events of a batch of stream records, in order.

    Returns the sequence number of the first record whose event the bus did not take (None: all
    did); the stream then hands that record and everything after it to a new invocation.
    """
    found = [(change.sequence, event) for change in changes.read(records) if (event := of(change)) is not None]
    failed = bus.put([(event.name, event.detail) for _, event in found]) if found else None
    published = found if failed is None else found[:failed]
    for _, event in published:
        logger.info("Domain event published", extra={"detail_type": event.name, "id": event.detail["id"]})
    metrics.add_metric(name="DomainEventsPublished", unit="Count", value=len(published))
    return None if failed is None else found[failed][0]
