"""POST /events/{event_id}/promo-codes: an admin adds a promo or access code (EARLY10, PRESS) to an event."""

from boxoffice.errors import Busy, EventNotFound, Forbidden, InvalidInput, NotAuthenticated, PromoCodeExists
from boxoffice.http import AdminPrincipal, api, failures, lambda_handler
from boxoffice.logic import promocodes
from boxoffice.models.promocodes import CreatePromoCode, PromoCodeOut

app = api()


@app.post(
    "/events/<event_id>/promo-codes",
    operation_id="createPromoCode",
    status_code=201,
    tags=["promo codes"],
    responses=failures(NotAuthenticated, Forbidden, EventNotFound, PromoCodeExists, Busy, InvalidInput, success=201),
)
def create_promo_code(event_id: str, body: CreatePromoCode, principal: AdminPrincipal) -> PromoCodeOut:
    return promocodes.create_promo_code(principal, event_id, body)


handler = lambda_handler(app)
