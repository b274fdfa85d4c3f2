"""E-mails from domain events: what a buyer is told, once per domain event.

BookingConfirmed sends the tickets (PDF) and the calendar entry (.ics); BookingCancelled says the
tickets are void, TicketCancelled which one is and what the booking has left; HoldOffered tells someone
on the waiting list what is kept for them, until when, and how to confirm. Check-ins send nothing. Each
mail is sent once per domain event id: a conditional sent-marker is claimed before sending
(store/mail.py), so a redelivered or replayed event sends nothing twice; a failure worth retrying gives
the claim back and raises, so Lambda's retry sends it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice import clock, mailer, money
from boxoffice.config import settings
from boxoffice.logic import documents
from boxoffice.observability import logger, metrics
from boxoffice.records import BookingRecord
from boxoffice.render import local_time
from boxoffice.render.mail import Attachment, Mail, compose, message
from boxoffice.store import bookings as booking_store
from boxoffice.store import documents as document_store
from boxoffice.store import mail as marks
from boxoffice.store.documents import Sheet
from boxoffice.vocabulary import BookingStatus, HoldStatus, UserRecord

BOOKING_CONFIRMED = "BookingConfirmed"
BOOKING_CANCELLED = "BookingCancelled"
TICKET_CANCELLED = "TicketCancelled"
HOLD_OFFERED = "HoldOffered"


@dataclass(frozen=True, slots=True)
class Sent:
    to: str
    subject: str
    where: str  # an SES message id, an .eml file, an SMTP server


def _when(sheet: Sheet) -> tuple[str, str, str]:
    """The event's name, local start and venue as they are now (as booked, if the event is gone)."""
    if sheet.event is not None:
        return sheet.event.name, local_time(sheet.event.local_start, sheet.event.timezone), sheet.event.venue
    seen = sheet.booking.event
    return seen.name, local_time(seen.starts_at.astimezone(ZoneInfo("UTC")), "UTC"), seen.venue


def _booking_values(sheet: Sheet) -> dict[str, Any]:
    booking = sheet.booking
    name, when, venue = _when(sheet)
    return {
        "event_name": name,
        "when": when,
        "venue": venue,
        "quantity": booking.quantity,
        "ticket_type": booking.ticket_type_name,
        "booking_id": booking.id,
        "total": money.in_minor_units(booking.total_price, booking.currency),
        "currency": booking.currency,
        "reason": "booked these tickets",
    }


def _read_booking(detail: Mapping[str, Any]) -> tuple[UserRecord, Sheet] | None:
    user, booking = booking_store.read_booking(detail["user_id"], detail["booking_id"])
    if user is None or booking is None:
        return None
    return user, document_store.read_sheet(booking)


def _confirmed(detail: Mapping[str, Any]) -> Mail | None:
    found = _read_booking(detail)
    if found is None:
        return None
    user, sheet = found
    booking: BookingRecord = sheet.booking
    attachments = [Attachment(f"tickets-{booking.id}.pdf", "application/pdf", documents.render_pdf(user.name, sheet))]
    if sheet.event is not None:
        attachments.append(Attachment("event.ics", "text/calendar", documents.render_ics(sheet.event)))
    values = _booking_values(sheet)
    values["tickets"] = [page.ticket_number for page in documents.pages(user.name, sheet)]
    return compose(
        "booking_confirmed",
        to_name=user.name,
        to_address=user.email,
        subject=f"Your tickets: {values['event_name']}",
        values=values,
        attachments=attachments,
    )


def _cancelled(detail: Mapping[str, Any]) -> Mail | None:
    found = _read_booking(detail)
    if found is None:
        return None
    user, sheet = found
    values = _booking_values(sheet)
    return compose(
        "booking_cancelled",
        to_name=user.name,
        to_address=user.email,
        subject=f"Booking cancelled: {values['event_name']}",
        values=values,
    )


def _ticket_cancelled(detail: Mapping[str, Any]) -> Mail | None:
    found = _read_booking(detail)
    if found is None:
        return None
    user, sheet = found
    # The booking as it is now: later cancels may have left fewer tickets than the event said, or none.
    left = sheet.booking.quantity if sheet.booking.status == BookingStatus.CONFIRMED else 0
    values = {**_booking_values(sheet), "ticket_number": detail["ticket_number"], "left": left}
    return compose(
        "ticket_cancelled",
        to_name=user.name,
        to_address=user.email,
        subject=f"Ticket cancelled: {values['event_name']}",
        values=values,
    )


def _offered(detail: Mapping[str, Any]) -> Mail | None:
    user, hold, event = document_store.read_hold_offer(detail["user_id"], detail["hold_id"], detail["event_id"])
    # An offer confirmed, released or lapsed before its mail went out has nothing left to offer.
    if user is None or hold is None or event is None or hold.status != HoldStatus.HELD:
        return None
    zone = ZoneInfo(event.timezone)
    return compose(
        "hold_offered",
        to_name=user.name,
        to_address=user.email,
        subject=f"Tickets kept for you: {event.name}",
        values={
            "event_name": event.name,
            "when": local_time(event.local_start, event.timezone),
            "venue": event.venue,
            "quantity": hold.quantity,
            "ticket_type": hold.ticket_type_name,
            "hold_id": hold.id,
            "until": local_time(hold.expires_at.astimezone(zone), event.timezone),
            "reason": "joined the waiting list for this event",
        },
    )


COMPOSERS: dict[str, Callable[[Mapping[str, Any]], Mail | None]] = {
    BOOKING_CONFIRMED: _confirmed,
    BOOKING_CANCELLED: _cancelled,
    TICKET_CANCELLED: _ticket_cancelled,
    HOLD_OFFERED: _offered,
}


def deliver(detail_type: str, detail: Mapping[str, Any]) -> Sent | None:
    """Mail what domain event `detail` means to its buyer, once; None when nothing was sent now (mail off,
    an event that sends none, sent already, or nothing left to tell: the account or booking is gone, the
    offer was taken up or lapsed)."""
    compose_for = COMPOSERS.get(detail_type)
    if compose_for is None or not settings().mail_enabled:
        return None
    reference = str(detail["id"])
    now = clock.now()
    token = marks.claim(reference, now)
    if token is None:
        logger.info("Mail already sent for this domain event", extra={"reference": reference})
        return None
    try:
        mail = compose_for(detail)
        if mail is None:  # nothing to tell any more
            marks.settle(reference, token, marks.SKIPPED, clock.now())
            return None
        where = mailer.send(message(mail, sender=settings().mail_from, reference=reference))
    except mailer.MailRefused as refused:
        logger.warning("SES refused the mail", extra={"reference": reference, "reason": str(refused)})
        metrics.add_metric(name="MailRefused", unit="Count", value=1)
        marks.settle(reference, token, marks.REFUSED, clock.now())
        return None
    except BaseException:
        marks.release(reference, token)  # Lambda retries the event; the retry claims it again
        raise
    marks.settle(reference, token, marks.SENT, clock.now())
    metrics.add_metric(name="MailSent", unit="Count", value=1)
    logger.info("Mail sent", extra={"reference": reference, "detail_type": detail_type})
    return Sent(to=mail.to_address, subject=mail.subject, where=where)
