"""The waiting list: the request to join, and an entry as the API returns it."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from boxoffice.models.bookings import BookedTicketType, TicketsRequest
from boxoffice.models.common import ResponseModel
from boxoffice.vocabulary import EntryStatus


class WaitingListRequest(TicketsRequest):
    """As a booking: the tickets one would book, once they come back (no promo code: an offer is a hold at
    the type's price)."""


class WaitingListEntry(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50.01JD3M5Q8Z7K4X2W9R6T5Y3V1B",
                    "event_id": "0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50",
                    "ticket_type": {"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "name": "Standard"},
                    "quantity": 2,
                    "status": "WAITING",
                    "position": 7,
                    "joined_at": "2026-11-02T12:00:00.123456Z",
                    "hold_id": None,
                    "expires_at": None,
                }
            ]
        }
    )

    id: str
    event_id: str
    ticket_type: BookedTicketType
    quantity: int
    status: EntryStatus = Field(
        description="WAITING in line; OFFERED a hold; BOOKED (the offer confirmed); EXPIRED (the offer lapsed, or"
        " the type stopped selling); LEFT; CLOSED (the event was deleted or has started)."
    )
    position: int | None = Field(
        default=None,
        description="While WAITING: 1 for the first in line. Exact when fewer than 1,000 are ahead; behind more,"
        " an upper bound (never less than the true place): the line's length when the entry joined, less those"
        " served from its head since.",
    )
    joined_at: datetime
    hold_id: str | None = Field(
        default=None, description="While OFFERED: the hold to confirm (POST /holds/{hold_id}/confirm)."
    )
    expires_at: datetime | None = Field(default=None, description="While OFFERED: when the offer lapses.")
