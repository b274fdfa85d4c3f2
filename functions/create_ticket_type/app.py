"""POST /events/{event_id}/ticket-types: an admin adds a ticket type (early bird, VIP) to an event."""

from boxoffice.errors import Busy, EventNotFound, Forbidden, InvalidInput, NotAuthenticated
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import tickettypes
from boxoffice.models.events import CreateTicketType, TicketTypeOut

app = api()


@app.post(
    "/events/<event_id>/ticket-types",
    operation_id="createTicketType",
    status_code=201,
    tags=["ticket types"],
    responses=failures(NotAuthenticated, Forbidden, EventNotFound, Busy, InvalidInput, success=201),
)
def create_ticket_type(event_id: str, body: CreateTicketType, principal: AdminPrincipal) -> TicketTypeOut:
    return tickettypes.add_ticket_type(principal, event_id, body)


handler = lambda_handler(app)
