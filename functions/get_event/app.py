"""GET /events/{event_id}: one event on sale, with its live ticket count.

An eventually consistent read, and an answer a CDN may keep a second (boxoffice.http.cacheable).
"""

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import EventNotFound
from boxoffice.http import CACHEABLE, api, cacheable, failures, lambda_handler
from boxoffice.logic import events
from boxoffice.models.events import Event

app = api()


@app.get(
    "/events/<event_id>",
    operation_id="getEvent",
    tags=["events"],
    responses=failures(EventNotFound, headers={"Cache-Control": CACHEABLE}),
)
def get_event(event_id: str) -> Response[Event]:
    return cacheable(events.get_event(event_id))


handler = lambda_handler(app)
