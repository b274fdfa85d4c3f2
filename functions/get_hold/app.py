"""GET /holds/{hold_id}: one of the caller's holds (EXPIRED once expires_at has passed)."""

from boxoffice.errors import HoldNotFound, NotAuthenticated
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import holds
from boxoffice.models.holds import Hold

app = api()


@app.get("/holds/<hold_id>", operation_id="getHold", tags=["holds"], responses=failures(NotAuthenticated, HoldNotFound))
def get_hold(hold_id: str, principal: CurrentPrincipal) -> Hold:
    return holds.get_hold(principal, hold_id)


handler = lambda_handler(app)
