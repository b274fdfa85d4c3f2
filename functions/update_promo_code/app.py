"""PATCH /events/{event_id}/promo-codes/{code}: an admin changes a code's discount, types, limit or window."""

from boxoffice.errors import Busy, EventNotFound, Forbidden, InvalidInput, NotAuthenticated, PromoCodeNotFound
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import promocodes
from boxoffice.models.promocodes import PromoCodeOut, UpdatePromoCode

app = api()


@app.patch(
    "/events/<event_id>/promo-codes/<code>",
    operation_id="updatePromoCode",
    tags=["promo codes"],
    responses=failures(NotAuthenticated, Forbidden, EventNotFound, PromoCodeNotFound, Busy, InvalidInput),
)
def update_promo_code(event_id: str, code: str, body: UpdatePromoCode, principal: AdminPrincipal) -> PromoCodeOut:
    return promocodes.update_promo_code(principal, event_id, code, body)


handler = lambda_handler(app)
