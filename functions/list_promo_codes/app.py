"""GET /events/{event_id}/promo-codes: an admin pages through an event's codes, each with its uses."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from boxoffice.errors import EventNotFound, Forbidden, InvalidCursor, NotAuthenticated
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import promocodes
from boxoffice.models.common import DEFAULT_PAGE_SIZE, Page
from boxoffice.models.promocodes import PromoCodeOut
from boxoffice.params import PageLimit

app = api()


@app.get(
    "/events/<event_id>/promo-codes",
    operation_id="listPromoCodes",
    tags=["promo codes"],
    responses=failures(NotAuthenticated, Forbidden, EventNotFound, InvalidCursor),
)
def list_promo_codes(
    event_id: str,
    principal: AdminPrincipal,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")] = None,
) -> Page[PromoCodeOut]:
    return promocodes.list_promo_codes(principal, event_id, limit, cursor)


handler = lambda_handler(app)
