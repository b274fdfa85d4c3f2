"""GET /events/{event_id}/stats: an admin sees sold, available, checked in, cancelled and revenue."""

from boxoffice.errors import EventNotFound, Forbidden, NotAuthenticated
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import stats
from boxoffice.models.stats import EventStats

app = api()


@app.get(
    "/events/<event_id>/stats",
    operation_id="getEventStats",
    tags=["door"],
    responses=failures(NotAuthenticated, Forbidden, EventNotFound),
)
def event_stats(event_id: str, principal: AdminPrincipal) -> EventStats:
    return stats.event_stats(principal, event_id)


handler = lambda_handler(app)
