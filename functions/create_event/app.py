"""POST /events: an admin puts a new event on sale."""

from boxoffice.errors import Forbidden, InvalidInput, NotAuthenticated
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import events
from boxoffice.models.events import CreateEvent, Event

app = api()


@app.post(
    "/events",
    operation_id="createEvent",
    status_code=201,
    tags=["events"],
    responses=failures(NotAuthenticated, Forbidden, InvalidInput, success=201),
)
def create_event(body: CreateEvent, principal: AdminPrincipal) -> Event:
    return events.create_event(principal, body)


handler = lambda_handler(app)
