"""DELETE /events/{event_id}/ticket-types/{ticket_type_id}: an admin removes a type nobody holds tickets of."""

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import (
    Busy,
    EventNotFound,
    Forbidden,
    LastTicketType,
    NotAuthenticated,
    TicketTypeHasSales,
    TicketTypeNotFound,
)
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler, no_content
from boxoffice.logic import tickettypes

app = api()


@app.delete(
    "/events/<event_id>/ticket-types/<ticket_type_id>",
    operation_id="deleteTicketType",
    status_code=204,
    tags=["ticket types"],
    responses=failures(
        NotAuthenticated,
        Forbidden,
        EventNotFound,
        TicketTypeNotFound,
        TicketTypeHasSales,
        LastTicketType,
        Busy,
        success=204,
    ),
)
def delete_ticket_type(event_id: str, ticket_type_id: str, principal: AdminPrincipal) -> Response[None]:
    tickettypes.delete_ticket_type(principal, event_id, ticket_type_id)
    return no_content()


handler = lambda_handler(app)
