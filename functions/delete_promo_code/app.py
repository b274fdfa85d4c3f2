"""DELETE /events/{event_id}/promo-codes/{code}: an admin withdraws a code; bookings made with it keep their prices."""

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import Busy, EventNotFound, Forbidden, NotAuthenticated, PromoCodeNotFound
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler, no_content
from boxoffice.logic import promocodes

app = api()


@app.delete(
    "/events/<event_id>/promo-codes/<code>",
    operation_id="deletePromoCode",
    status_code=204,
    tags=["promo codes"],
    responses=failures(NotAuthenticated, Forbidden, EventNotFound, PromoCodeNotFound, Busy, success=204),
)
def delete_promo_code(event_id: str, code: str, principal: AdminPrincipal) -> Response[None]:
    promocodes.delete_promo_code(principal, event_id, code)
    return no_content()


handler = lambda_handler(app)
