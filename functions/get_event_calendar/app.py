"""GET /events/{event_id}/calendar.ics: the event as a calendar entry (RFC 5545), in its venue's time zone."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import EventNotFound
from boxoffice.http import CALENDAR, api, document, failures, lambda_handler
from boxoffice.logic import documents

app = api()


@app.get(
    "/events/<event_id>/calendar.ics",
    operation_id="getEventCalendar",
    tags=["events"],
    responses=failures(EventNotFound, content=CALENDAR),
)
@document
def event_calendar(event_id: str) -> Response[bytes]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=CALENDAR,
        body=documents.event_calendar(event_id),
        headers={"Content-Disposition": 'attachment; filename="event.ics"', "Cache-Control": "public, max-age=300"},
    )


handler = lambda_handler(app)
