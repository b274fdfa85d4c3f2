"""POST /events/{event_id}/holds: take tickets off sale for HOLD_SECONDS while the buyer pays; an
Idempotency-Key makes the request safe to retry."""

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import (
    CODE_REFUSALS,
    SALE_REFUSALS,
    Busy,
    HoldCooldown,
    HoldLimitReached,
    IdempotencyKeyReused,
    InvalidInput,
    NotAuthenticated,
)
from boxoffice.http import IDEMPOTENT_REPLAYED, CurrentPrincipal, api, created, failures, lambda_handler
from boxoffice.logic import holds
from boxoffice.models.bookings import BookingRequest
from boxoffice.models.holds import Hold
from boxoffice.params import IdempotencyKey

app = api()


@app.post(
    "/events/<event_id>/holds",
    operation_id="createHold",
    status_code=201,
    tags=["holds"],
    responses=failures(
        NotAuthenticated,
        *SALE_REFUSALS,
        HoldLimitReached,
        HoldCooldown,
        Busy,
        InvalidInput,
        IdempotencyKeyReused,
        *CODE_REFUSALS,
        success=201,
        headers={"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
    ),
)
def create_hold(
    event_id: str, body: BookingRequest, principal: CurrentPrincipal, idempotency_key: IdempotencyKey = None
) -> Response[Hold]:
    outcome = holds.place_hold(principal, event_id, body, idempotency_key)
    return created(outcome.hold, replayed=outcome.replayed)


handler = lambda_handler(app)
