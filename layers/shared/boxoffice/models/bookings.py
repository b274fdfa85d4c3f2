"""Bookings: the request to book, and a booking with its tickets as the API returns it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from boxoffice.models.common import RequestModel, ResponseModel
from boxoffice.models.events import MAX_PER_BOOKING, PriceOut
from boxoffice.models.events import Status as EventStatus

# A booking is one TransactWriteItems (at most 100 actions): the event, the token check, the
# booking, the Idempotency-Key and one put per ticket. 4 + MAX_PER_BOOKING must stay <= 100.

BookingStatus = Literal["CONFIRMED", "CANCELLED"]
TicketStatus = Literal["VALID", "CANCELLED"]

# Printable ASCII (space included), as the IETF Idempotency-Key draft expects of a key.
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"


class BookingRequest(RequestModel):
    # strict: `true` or `"2"` is not a quantity.
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_PER_BOOKING)]


class BookedEvent(ResponseModel):
    """The event as its booking shows it (status DELETED once the event is gone)."""

    name: str
    venue: str
    starts_at: datetime
    status: EventStatus


class Ticket(ResponseModel):
    ticket_number: str
    status: TicketStatus


class Booking(ResponseModel):
    id: str
    event_id: str
    event: BookedEvent
    quantity: int
    tickets: list[Ticket]
    unit_price: PriceOut
    total_price: PriceOut
    currency: str
    status: BookingStatus
    created_at: datetime
    cancelled_at: datetime | None = None
