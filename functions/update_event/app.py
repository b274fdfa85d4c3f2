"""PATCH /events/{event_id}: an admin changes any field (after the start only the name and description);
capacity moves the available count with it."""

from boxoffice.errors import (
    Busy,
    CapacityBelowSold,
    EditTooLarge,
    EventNotFound,
    EventStarted,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
)
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import events
from boxoffice.models.events import Event, UpdateEvent

app = api()


@app.patch(
    "/events/<event_id>",
    operation_id="updateEvent",
    tags=["events"],
    responses=failures(
        NotAuthenticated, Forbidden, EventNotFound, CapacityBelowSold, EditTooLarge, EventStarted, Busy, InvalidInput
    ),
)
def update_event(event_id: str, body: UpdateEvent, principal: AdminPrincipal) -> Event:
    return events.update_event(principal, event_id, body)


handler = lambda_handler(app)
