"""GET /events/{event_id}/tickets: an event's tickets in the order they changed, for scanners to sync."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from boxoffice.errors import EventNotFound, Forbidden, InvalidCursor, InvalidInput, NotAuthenticated
from boxoffice.http import StaffPrincipal, api, failures, lambda_handler
from boxoffice.logic import checkin
from boxoffice.models.common import DEFAULT_PAGE_SIZE, Page
from boxoffice.models.tickets import DoorTicket
from boxoffice.params import PageLimit

app = api()


@app.get(
    "/events/<event_id>/tickets",
    operation_id="listEventTickets",
    tags=["door"],
    responses=failures(NotAuthenticated, Forbidden, EventNotFound, InvalidInput, InvalidCursor),
)
def list_tickets(
    event_id: str,
    principal: StaffPrincipal,
    updated_since: Annotated[
        str | None,
        Query(max_length=40, description="Only tickets changed at or after this instant (ISO 8601, Z or an offset)."),
    ] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page.")] = None,
) -> Page[DoorTicket]:
    return checkin.list_tickets(principal, event_id, updated_since=updated_since, limit=limit, cursor=cursor)


handler = lambda_handler(app)
