"""DELETE /bookings/{booking_id}/tickets/{ticket_number}: cancel one ticket of the caller's booking."""

from boxoffice.errors import (
    BookingNotFound,
    Busy,
    EventNotFound,
    EventStarted,
    NotAuthenticated,
    TicketCancelled,
    TicketNotFound,
    TicketUsed,
)
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import bookings
from boxoffice.models.bookings import Booking

app = api()


@app.delete(
    "/bookings/<booking_id>/tickets/<ticket_number>",
    operation_id="cancelTicket",
    tags=["bookings"],
    responses=failures(
        NotAuthenticated,
        BookingNotFound,
        TicketNotFound,
        EventNotFound,
        TicketCancelled,
        EventStarted,
        TicketUsed,
        Busy,
    ),
)
def cancel_ticket(booking_id: str, ticket_number: str, principal: CurrentPrincipal) -> Booking:
    return bookings.cancel_ticket(principal, booking_id, ticket_number)


handler = lambda_handler(app)
