"""POST /events/{event_id}/check-ins: door staff let a ticket in by its code or number, exactly once."""

from boxoffice.errors import (
    AlreadyCheckedIn,
    Busy,
    CheckInClosed,
    EventNotFound,
    Forbidden,
    InvalidInput,
    InvalidTicketCode,
    NotAuthenticated,
    TicketCancelled,
    TicketNotFound,
    WrongEvent,
)
from boxoffice.http import StaffPrincipal, api, failures, lambda_handler
from boxoffice.logic import checkin
from boxoffice.models.tickets import CheckInRequest, DoorTicket

app = api()


@app.post(
    "/events/<event_id>/check-ins",
    operation_id="checkIn",
    tags=["door"],
    responses=failures(
        NotAuthenticated,
        Forbidden,
        EventNotFound,
        TicketNotFound,
        AlreadyCheckedIn,
        TicketCancelled,
        WrongEvent,
        CheckInClosed,
        Busy,
        InvalidTicketCode,
        InvalidInput,
    ),
)
def check_in(event_id: str, body: CheckInRequest, principal: StaffPrincipal) -> DoorTicket:
    return checkin.check_in(principal, event_id, body)


handler = lambda_handler(app)
