"""DELETE /events/{event_id}/check-ins/{ticket_number}: an admin undoes a check-in; the ticket is VALID again."""

from boxoffice.errors import (
    Busy,
    EventNotFound,
    Forbidden,
    NotAuthenticated,
    NotCheckedIn,
    TicketCancelled,
    TicketNotFound,
)
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import checkin
from boxoffice.models.tickets import DoorTicket

app = api()


@app.delete(
    "/events/<event_id>/check-ins/<ticket_number>",
    operation_id="undoCheckIn",
    tags=["door"],
    responses=failures(NotAuthenticated, Forbidden, EventNotFound, TicketNotFound, NotCheckedIn, TicketCancelled, Busy),
)
def undo_check_in(event_id: str, ticket_number: str, principal: AdminPrincipal) -> DoorTicket:
    return checkin.undo_check_in(principal, event_id, ticket_number)


handler = lambda_handler(app)
