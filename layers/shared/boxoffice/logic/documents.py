"""Tickets in hand: a booking's PDF tickets, one ticket's QR code, an event's calendar entry.

A PDF holds one page per VALID ticket of the caller's booking; cancelled tickets are left out (and used
ones: a checked-in ticket opens no door again), so a PDF in hand never shows a code that would not scan.
A booking with none left, or whose event was deleted, prints one page that says so. The renderers
(boxoffice.render) are imported where used: only the functions that render carry their layer.
"""

from __future__ import annotations

from datetime import UTC

from boxoffice import clock, ids
from boxoffice.errors import BookingNotFound, EventNotFound, TicketCancelled, TicketNotFound
from boxoffice.logic.access import event_id_or_404
from boxoffice.logic.permissions import owned
from boxoffice.records import BookingRecord, EventRecord
from boxoffice.render import CalendarEntry, TicketPage
from boxoffice.store import bookings as booking_store
from boxoffice.store import documents as store
from boxoffice.store.documents import Sheet
from boxoffice.vocabulary import EventStatus, Principal, TicketStatus, UserRecord

NO_VALID_TICKETS = "This booking has no valid tickets left: they were cancelled or have been used."
EVENT_GONE = "This event was cancelled by the organiser: its tickets are no longer valid."

Owned = tuple[UserRecord, BookingRecord]


def _with_account(user_id: str, booking_id: str) -> tuple[UserRecord | None, Owned | None]:
    account, booking = booking_store.read_booking(user_id, booking_id)
    return account, (account, booking) if account is not None and booking is not None else None


def _own(principal: Principal, booking_id: str) -> tuple[str, Sheet]:
    """The holder's name and the caller's booking as its tickets print it (anyone else's: 404)."""
    account, booking = owned(principal, booking_id, shape=ids.is_ulid, read=_with_account, missing=BookingNotFound)
    return account.name, store.read_sheet(booking)


def pages(holder: str, sheet: Sheet) -> list[TicketPage]:
    """One page per ticket that can still be scanned, in the booking's order."""
    event = sheet.event
    if event is None or event.status != EventStatus.ON_SALE:
        return []
    found = [sheet.tickets.get(number) for number in sheet.booking.ticket_numbers]
    return [
        TicketPage(
            event_name=event.name,
            starts_at=event.local_start,
            timezone=event.timezone,
            venue=event.venue,
            ticket_type=ticket.ticket_type_name or sheet.booking.ticket_type_name,
            ticket_number=ticket.ticket_number,
            holder=holder,
            code=ticket.code,
        )
        for ticket in found
        if ticket is not None and ticket.status == TicketStatus.VALID and ticket.code
    ]


def render_pdf(holder: str, sheet: Sheet) -> bytes:
    from boxoffice.render.tickets_pdf import tickets_pdf

    printed = pages(holder, sheet)
    gone = sheet.event is None or sheet.event.status != EventStatus.ON_SALE
    return tickets_pdf(printed, booking_id=sheet.booking.id, notice=EVENT_GONE if gone else NO_VALID_TICKETS)


def tickets_pdf(principal: Principal, booking_id: str) -> bytes:
    """GET /bookings/{id}/tickets.pdf: two BatchGetItems (account and booking; event and tickets)."""
    return render_pdf(*_own(principal, booking_id))


def ticket_qr(principal: Principal, booking_id: str, ticket_number: str) -> str:
    """One ticket's QR code as SVG, for apps that draw their own ticket (a checked-in one too, as the booking
    shows its code); a cancelled one has none."""
    from boxoffice.render import qr

    _, sheet = _own(principal, booking_id)
    ticket = sheet.tickets.get(ticket_number) if ticket_number in sheet.booking.ticket_numbers else None
    if ticket is None:
        raise TicketNotFound()
    if ticket.status == TicketStatus.CANCELLED or not ticket.code:
        raise TicketCancelled()
    return qr.svg(ticket.code)


def calendar_entry(event: EventRecord) -> CalendarEntry:
    return CalendarEntry(
        event_id=event.id,
        name=event.name,
        description=event.description,
        venue=event.venue,
        starts_at=event.local_start,
    )


def render_ics(event: EventRecord) -> bytes:
    from boxoffice.render.calendar import ics

    return ics(calendar_entry(event), stamp=clock.now().astimezone(UTC))


def event_calendar(event_id: str) -> bytes:
    """GET /events/{id}/calendar.ics: one GetItem; a deleted event has none."""
    event = store.read_event(event_id_or_404(event_id))
    if event is None or event.status != EventStatus.ON_SALE:
        raise EventNotFound()
    return render_ics(event)
