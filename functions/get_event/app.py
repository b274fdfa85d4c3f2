"""GET /events/{event_id}: one event on sale, with its live ticket count."""

from boxoffice.errors import EventNotFound
from boxoffice.http import api, failures, lambda_handler
from boxoffice.logic import events
from boxoffice.models.events import Event

app = api()


@app.get("/events/<event_id>", operation_id="getEvent", tags=["events"], responses=failures(EventNotFound))
def get_event(event_id: str) -> Event:
    return events.get_event(event_id)


handler = lambda_handler(app)
