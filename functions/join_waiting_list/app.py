"""POST /events/{event_id}/waiting-list: wait for tickets of an event while too few are on sale."""

from boxoffice.errors import (
    AlreadyWaiting,
    Busy,
    EventNotFound,
    EventStarted,
    InvalidInput,
    NotAuthenticated,
    SalesEnded,
    SalesNotStarted,
    TicketsAvailable,
    TicketTypeNotFound,
    UserLimitReached,
)
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import waitlist
from boxoffice.models.waitlist import WaitingListEntry, WaitingListRequest

app = api()


@app.post(
    "/events/<event_id>/waiting-list",
    operation_id="joinWaitingList",
    status_code=201,
    tags=["waiting list"],
    responses=failures(
        NotAuthenticated,
        EventNotFound,
        TicketTypeNotFound,
        TicketsAvailable,
        AlreadyWaiting,
        EventStarted,
        SalesNotStarted,
        SalesEnded,
        UserLimitReached,
        Busy,
        InvalidInput,
        success=201,
    ),
)
def join_waiting_list(event_id: str, body: WaitingListRequest, principal: CurrentPrincipal) -> WaitingListEntry:
    return waitlist.join(principal, event_id, body)


handler = lambda_handler(app)
