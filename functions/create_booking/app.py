"""POST /events/{event_id}/bookings: book tickets; an Idempotency-Key makes the request safe to retry."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from boxoffice.errors import (
    Busy,
    EventNotFound,
    EventStarted,
    IdempotencyKeyReused,
    InvalidInput,
    NotAuthenticated,
    NotEnoughTickets,
    SalesEnded,
    SalesNotStarted,
    SoldOut,
    TicketTypeNotFound,
    UserLimitReached,
)
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import bookings
from boxoffice.models.bookings import IDEMPOTENCY_KEY_PATTERN, Booking, BookingRequest

app = api()

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="1-255 printable characters. The same key and body within 24 h answer with the same booking "
        "(and `Idempotent-Replayed: true`) instead of booking again.",
    ),
]

REPLAYED = {
    "description": "`true` when this is the booking an earlier request with the same Idempotency-Key made.",
    "schema": {"type": "string", "enum": ["true"]},
}


@app.post(
    "/events/<event_id>/bookings",
    operation_id="createBooking",
    status_code=201,
    tags=["bookings"],
    responses=failures(
        NotAuthenticated,
        EventNotFound,
        TicketTypeNotFound,
        SoldOut,
        NotEnoughTickets,
        EventStarted,
        SalesNotStarted,
        SalesEnded,
        UserLimitReached,
        Busy,
        InvalidInput,
        IdempotencyKeyReused,
        success=201,
        headers={"Idempotent-Replayed": REPLAYED},
    ),
)
def create_booking(
    event_id: str, body: BookingRequest, principal: CurrentPrincipal, idempotency_key: IdempotencyKey = None
) -> Response[Booking]:
    outcome = bookings.book(principal, event_id, body, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return Response(status_code=201, content_type="application/json", body=outcome.booking, headers=headers)


handler = lambda_handler(app)
