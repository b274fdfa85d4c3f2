"""GET /bookings: the caller's bookings, newest first, cancelled ones included."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from boxoffice.errors import InvalidCursor, NotAuthenticated
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import bookings
from boxoffice.models.bookings import Booking
from boxoffice.models.common import DEFAULT_PAGE_SIZE, Page
from boxoffice.params import PageLimit

app = api()


@app.get(
    "/bookings", operation_id="listBookings", tags=["bookings"], responses=failures(NotAuthenticated, InvalidCursor)
)
def list_bookings(
    principal: CurrentPrincipal,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")] = None,
) -> Page[Booking]:
    return bookings.list_bookings(principal, limit, cursor)


handler = lambda_handler(app)
