"""GET /bookings/{booking_id}: one of the caller's bookings (anyone else's is not found)."""

from boxoffice.errors import BookingNotFound, NotAuthenticated
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import bookings
from boxoffice.models.bookings import Booking

app = api()


@app.get(
    "/bookings/<booking_id>",
    operation_id="getBooking",
    tags=["bookings"],
    responses=failures(NotAuthenticated, BookingNotFound),
)
def get_booking(booking_id: str, principal: CurrentPrincipal) -> Booking:
    return bookings.get_booking(principal, booking_id)


handler = lambda_handler(app)
