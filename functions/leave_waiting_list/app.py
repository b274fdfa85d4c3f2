"""DELETE /waiting-list/{entry_id}: leave a waiting list (an offer held meanwhile goes to the next in line)."""

from boxoffice.errors import Busy, NotAuthenticated, NotWaiting, WaitingEntryNotFound
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import waitlist
from boxoffice.models.waitlist import WaitingListEntry

app = api()


@app.delete(
    "/waiting-list/<entry_id>",
    operation_id="leaveWaitingList",
    tags=["waiting list"],
    responses=failures(NotAuthenticated, WaitingEntryNotFound, NotWaiting, Busy),
)
def leave_waiting_list(entry_id: str, principal: CurrentPrincipal) -> WaitingListEntry:
    return waitlist.leave(principal, entry_id)


handler = lambda_handler(app)
