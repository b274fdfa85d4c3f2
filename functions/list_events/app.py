"""GET /events: events on sale in start order, searchable by name words, venue and dates.

Eventually consistent reads, and a page a CDN may keep a second (boxoffice.http.cacheable).
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from boxoffice.errors import InvalidCursor, InvalidInput
from boxoffice.http import CACHEABLE, api, cacheable, failures, lambda_handler
from boxoffice.logic import events
from boxoffice.models.common import DEFAULT_PAGE_SIZE, Page
from boxoffice.models.events import Event
from boxoffice.params import PageLimit

app = api()

DAY_OR_INSTANT = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


@app.get(
    "/events",
    operation_id="listEvents",
    tags=["events"],
    responses=failures(InvalidInput, InvalidCursor, headers={"Cache-Control": CACHEABLE}),
)
def list_events(
    q: Annotated[
        str | None,
        Query(max_length=200, description='Words or word beginnings of the name, any case or accents: "beeth".'),
    ] = None,
    venue: Annotated[str | None, Query(max_length=200, description="The venue, any case.")] = None,
    date_from: Annotated[
        str | None,
        Query(
            max_length=40,
            description=events.DATE_FILTER + " Without it, only events not yet started.",
            json_schema_extra=DAY_OR_INSTANT,
        ),
    ] = None,
    date_to: Annotated[
        str | None, Query(max_length=40, description=events.DATE_FILTER, json_schema_extra=DAY_OR_INSTANT)
    ] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page.")] = None,
) -> Response[Page[Event]]:
    return cacheable(
        events.list_events(q=q, venue=venue, date_from=date_from, date_to=date_to, limit=limit, cursor=cursor)
    )


handler = lambda_handler(app)
