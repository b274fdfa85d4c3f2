"""POST /events/{event_id}/holds: take tickets off sale for HOLD_SECONDS while the buyer pays."""

from boxoffice.errors import (
    SALE_REFUSALS,
    Busy,
    InvalidInput,
    NotAuthenticated,
)
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import holds
from boxoffice.models.bookings import BookingRequest
from boxoffice.models.holds import Hold

app = api()


@app.post(
    "/events/<event_id>/holds",
    operation_id="createHold",
    status_code=201,
    tags=["holds"],
    responses=failures(
        NotAuthenticated,
        *SALE_REFUSALS,
        Busy,
        InvalidInput,
        success=201,
    ),
)
def create_hold(event_id: str, body: BookingRequest, principal: CurrentPrincipal) -> Hold:
    return holds.place_hold(principal, event_id, body)


handler = lambda_handler(app)
