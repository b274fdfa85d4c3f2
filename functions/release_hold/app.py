"""DELETE /holds/{hold_id}: give a hold's tickets back before it expires."""

from boxoffice.errors import Busy, HoldConfirmed, HoldExpired, HoldNotFound, HoldReleased, NotAuthenticated
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import holds
from boxoffice.models.holds import Hold

app = api()


@app.delete(
    "/holds/<hold_id>",
    operation_id="releaseHold",
    tags=["holds"],
    responses=failures(NotAuthenticated, HoldNotFound, HoldExpired, HoldReleased, HoldConfirmed, Busy),
)
def release_hold(hold_id: str, principal: CurrentPrincipal) -> Hold:
    return holds.release_hold(principal, hold_id)


handler = lambda_handler(app)
