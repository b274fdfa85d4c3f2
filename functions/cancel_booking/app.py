"""DELETE /bookings/{booking_id}: cancel one of the caller's bookings before its event starts."""

from boxoffice.errors import (
    AlreadyCancelled,
    BookingNotFound,
    Busy,
    EventNotFound,
    EventStarted,
    NotAuthenticated,
    TicketUsed,
)
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import bookings
from boxoffice.models.bookings import Booking

app = api()


@app.delete(
    "/bookings/<booking_id>",
    operation_id="cancelBooking",
    tags=["bookings"],
    responses=failures(
        NotAuthenticated, BookingNotFound, EventNotFound, AlreadyCancelled, EventStarted, TicketUsed, Busy
    ),
)
def cancel_booking(booking_id: str, principal: CurrentPrincipal) -> Booking:
    return bookings.cancel_booking(principal, booking_id)


handler = lambda_handler(app)
