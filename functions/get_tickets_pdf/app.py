"""GET /bookings/{booking_id}/tickets.pdf: the caller's tickets, one page per valid ticket with its QR code."""

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from boxoffice.errors import BookingNotFound, NotAuthenticated
from boxoffice.http import PDF, CurrentPrincipal, api, document, failures, lambda_handler
from boxoffice.logic import documents

app = api()


@app.get(
    "/bookings/<booking_id>/tickets.pdf",
    operation_id="getTicketsPdf",
    tags=["bookings"],
    responses=failures(NotAuthenticated, BookingNotFound, content=PDF),
)
@document
def tickets_pdf(booking_id: str, principal: CurrentPrincipal) -> Response[bytes]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=PDF,
        body=documents.tickets_pdf(principal, booking_id),
        headers={"Content-Disposition": f'inline; filename="tickets-{booking_id}.pdf"', "Cache-Control": "private"},
    )


handler = lambda_handler(app)
