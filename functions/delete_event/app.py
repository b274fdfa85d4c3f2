"""DELETE /events/{event_id}: an admin takes an event off sale; its bookings keep it as a tombstone."""

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import Busy, EventNotFound, Forbidden, NotAuthenticated
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler, no_content
from boxoffice.logic import events

app = api()


@app.delete(
    "/events/<event_id>",
    operation_id="deleteEvent",
    status_code=204,
    tags=["events"],
    responses=failures(NotAuthenticated, Forbidden, EventNotFound, Busy, success=204),
)
def delete_event(event_id: str, principal: AdminPrincipal) -> Response[None]:
    events.delete_event(principal, event_id)
    return no_content()


handler = lambda_handler(app)
