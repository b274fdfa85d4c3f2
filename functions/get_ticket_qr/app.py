"""GET /bookings/{booking_id}/tickets/{ticket_number}/qr.svg: one ticket's QR code, for apps that draw their own."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import BookingNotFound, NotAuthenticated, TicketCancelled, TicketNotFound
from boxoffice.http import SVG, CurrentPrincipal, api, document, failures, lambda_handler
from boxoffice.logic import documents

app = api()


@app.get(
    "/bookings/<booking_id>/tickets/<ticket_number>/qr.svg",
    operation_id="getTicketQr",
    tags=["bookings"],
    responses=failures(NotAuthenticated, BookingNotFound, TicketNotFound, TicketCancelled, content=SVG),
)
@document
def ticket_qr(booking_id: str, ticket_number: str, principal: CurrentPrincipal) -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=SVG,
        body=documents.ticket_qr(principal, booking_id, ticket_number),
        headers={"Cache-Control": "private"},
    )


handler = lambda_handler(app)
