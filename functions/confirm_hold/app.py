"""POST /holds/{hold_id}/confirm: the hold becomes a booking at its price, once."""

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import (
    Busy,
    EventNotFound,
    EventStarted,
    HoldConfirmed,
    HoldExpired,
    HoldNotFound,
    HoldReleased,
    IdempotencyKeyReused,
    NotAuthenticated,
)
from boxoffice.http import IDEMPOTENT_REPLAYED, CurrentPrincipal, api, created, failures, lambda_handler
from boxoffice.logic import holds
from boxoffice.models.bookings import Booking
from boxoffice.params import IdempotencyKey

app = api()


@app.post(
    "/holds/<hold_id>/confirm",
    operation_id="confirmHold",
    status_code=201,
    tags=["holds"],
    responses=failures(
        NotAuthenticated,
        HoldNotFound,
        EventNotFound,
        HoldExpired,
        HoldReleased,
        HoldConfirmed,
        EventStarted,
        Busy,
        IdempotencyKeyReused,
        success=201,
        headers={"Idempotent-Replayed": IDEMPOTENT_REPLAYED},
    ),
)
def confirm_hold(
    hold_id: str, principal: CurrentPrincipal, idempotency_key: IdempotencyKey = None
) -> Response[Booking]:
    outcome = holds.confirm_hold(principal, hold_id, idempotency_key)
    return created(outcome.booking, replayed=outcome.replayed)


handler = lambda_handler(app)
