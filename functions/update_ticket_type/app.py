"""PATCH /events/{event_id}/ticket-types/{ticket_type_id}: an admin changes a type; a new sub-quota moves
its available count with it, never below what it sold."""

from boxoffice.errors import (
    Busy,
    CapacityBelowSold,
    EventNotFound,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    TicketTypeNotFound,
)
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import tickettypes
from boxoffice.models.events import TicketTypeOut, UpdateTicketType

app = api()


@app.patch(
    "/events/<event_id>/ticket-types/<ticket_type_id>",
    operation_id="updateTicketType",
    tags=["ticket types"],
    responses=failures(
        NotAuthenticated, Forbidden, EventNotFound, TicketTypeNotFound, CapacityBelowSold, Busy, InvalidInput
    ),
)
def update_ticket_type(
    event_id: str, ticket_type_id: str, body: UpdateTicketType, principal: AdminPrincipal
) -> TicketTypeOut:
    return tickettypes.update_ticket_type(principal, event_id, ticket_type_id, body)


handler = lambda_handler(app)
