"""GET /users/me/waiting-list: the caller's waiting-list entries, each WAITING one with its position."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from boxoffice.errors import InvalidCursor, NotAuthenticated
from boxoffice.http import CurrentPrincipal, api, failures, lambda_handler
from boxoffice.logic import waitlist
from boxoffice.models.common import DEFAULT_PAGE_SIZE, Page
from boxoffice.models.waitlist import WaitingListEntry
from boxoffice.params import PageLimit

app = api()


@app.get(
    "/users/me/waiting-list",
    operation_id="listWaitingList",
    tags=["waiting list"],
    responses=failures(NotAuthenticated, InvalidCursor),
)
def list_waiting_list(
    principal: CurrentPrincipal,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")] = None,
) -> Page[WaitingListEntry]:
    return waitlist.list_entries(principal, limit, cursor)


handler = lambda_handler(app)
