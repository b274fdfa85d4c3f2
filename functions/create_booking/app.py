"""POST /events/{event_id}/bookings: book tickets; an Idempotency-Key makes the request safe to retry."""

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import (
    CODE_REFUSALS,
    SALE_REFUSALS,
    Busy,
    IdempotencyKeyReused,
    InvalidInput,
    NotAuthenticated,
)
from boxoffice.http import IDEMPOTENT_REPLAYED, CurrentPrincipal, api, created, failures, lambda_handler
from boxoffice.logic import bookings
from boxoffice.models.bookings import Booking, BookingRequest
from boxoffice.params import IdempotencyKey

app = api()


@app.post(
    "/events/<event_id>/bookings",
    operation_id="createBooking",
    status_code=201,
    tags=["bookings"],
    responses=failures(
        NotAuthenticated,
        *SALE_REFUSALS,
        Busy,
        InvalidInput,
        IdempotencyKeyReused,
        *CODE_REFUSALS,
        success=201,
        headers={"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
    ),
)
def create_booking(
    event_id: str, body: BookingRequest, principal: CurrentPrincipal, idempotency_key: IdempotencyKey = None
) -> Response[Booking]:
    outcome = bookings.book(principal, event_id, body, idempotency_key)
    return created(outcome.booking, replayed=outcome.replayed)


handler = lambda_handler(app)
