"""Bookings: the request to book, and a booking with its tickets as the API returns it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from boxoffice.models.common import Code, CurrencyOut, PriceOut, RequestModel, ResponseModel
from boxoffice.models.events import MAX_PER_BOOKING
from boxoffice.vocabulary import BookingStatus, EventStatus, TicketStatus

# A booking is one TransactWriteItems (at most 100 actions): the event's quota, the ticket type, the
# user's holding, the token check, the booking, the Idempotency-Key, one put per ticket, and with a promo
# code its counter and the wrong-code check. 8 + MAX_PER_BOOKING must stay <= 100. A booking of several
# lines adds one type counter per line: 7 + MAX_LINES + MAX_PER_BOOKING = 67 when its tickets come from one
# stock shard (docs/orders.md: the largest booking, and what happens when they cannot).
MAX_LINES = 10


# Printable ASCII (space included), as the IETF Idempotency-Key draft expects of a key.
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"


class TicketsRequest(RequestModel):
    """Tickets of one type: what a booking, a hold or a waiting-list entry asks for."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"quantity": 2}, {"quantity": 2, "ticket_type_id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a"}]
        }
    )

    # strict: `true` or `"2"` is not a quantity.
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_PER_BOOKING)]
    ticket_type_id: Annotated[str, Field(max_length=64)] | None = Field(
        default=None,
        description="Required when the event has several ticket types",
        examples=["5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a"],
    )


class LineRequest(RequestModel):
    """One line of an order: tickets of one type."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ticket_type_id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "quantity": 2}]}
    )

    ticket_type_id: Annotated[str, Field(max_length=64)]
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_PER_BOOKING)]


class BookingRequest(RequestModel):
    """A booking's or a hold's: the tickets (`quantity` of one type, or `items`: up to 10 lines of distinct
    types, taken all together or not at all), and a promo code to buy them with."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"quantity": 2},
                {"quantity": 2, "ticket_type_id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "promo_code": "EARLY10"},
                {
                    "items": [
                        {"ticket_type_id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "quantity": 2},
                        {"ticket_type_id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", "quantity": 2},
                    ],
                    "promo_code": "EARLY10",
                },
            ]
        }
    )

    # strict: `true` or `"2"` is not a quantity.
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_PER_BOOKING)] | None = Field(
        default=None, description="Tickets of one type (without `items`)"
    )
    ticket_type_id: Annotated[str, Field(max_length=64)] | None = Field(
        default=None,
        description="With `quantity`: required when the event has several ticket types",
        examples=["5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a"],
    )
    items: Annotated[list[LineRequest], Field(min_length=1, max_length=MAX_LINES)] | None = Field(
        default=None,
        description=f"Instead of `quantity`: 1 to {MAX_LINES} lines of distinct types, booked together in one "
        "transaction or not at all; the event's per-booking and per-user limits count their sum",
    )
    promo_code: Code | None = Field(
        default=None,
        description="A promo or access code of the event, any case: its discount, and the hidden types it unlocks",
    )

    @model_validator(mode="after")
    def one_form(self) -> BookingRequest:
        if (self.items is None) == (self.quantity is None):
            raise ValueError("give either `quantity` (with `ticket_type_id` if needed) or `items`, not both")
        if self.items is not None and self.ticket_type_id is not None:
            raise ValueError("`ticket_type_id` goes in each of `items`")
        return self

    def lines(self) -> list[tuple[str | None, int]]:
        """The lines asked for, (type id or None: the event's only type, quantity): one for a `quantity` body."""
        if self.items is None:
            assert self.quantity is not None  # one_form
            return [(self.ticket_type_id, self.quantity)]
        return [(line.ticket_type_id, line.quantity) for line in self.items]


class BookedEvent(ResponseModel):
    """The event as its booking shows it (status DELETED once the event is gone)."""

    name: str
    venue: str
    starts_at: datetime
    status: EventStatus


# What a ticket code looks like (a real one names its own ticket number and event id).
CODE_EXAMPLE = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6InByb2QtMSJ9.eyJ0biI6IjdLUTQtTTJaWC05UFJULVczSE4tQjZERi04WkpDLTVWTUEiLCJldiI6"
    "IjBiNmYzYzFlLTVkMmEtNGMxZi05YTdlLTJmMWQ4YzNiNGE1MCJ9.4YGT-arY4e7Jao1iJ6PXaDYdHilZn07Wgac1WPTSqOxQHkcHhD5bR_"
    "lSL_ahBT8Lmh70wBV9Og8jmtxpC22vCw"
)


class BookedTicketType(ResponseModel):
    """A ticket type as booked: its id, and its name when the booking was made."""

    id: str
    name: str


class Ticket(ResponseModel):
    """A ticket as its holder sees it: its status at the door comes from the ticket itself."""

    ticket_number: str
    ticket_type: BookedTicketType
    status: TicketStatus
    checked_in_at: datetime | None = None
    code: str | None = Field(
        default=None,
        description="What the ticket's QR code holds: an EdDSA-signed JWT (ticket number, event id, `kid`) that "
        "anyone can verify with the keys at /.well-known/jwks.json. Null once the ticket is cancelled.",
    )


class BookingLine(ResponseModel):
    """A line of a booking: its tickets of one type (those it has left), their price and discount."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ticket_type": {"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "name": "Child"},
                    "quantity": 2,
                    "unit_price": "15.00",
                    "discount": "3.00",
                    "total": "27.00",
                }
            ]
        }
    )

    ticket_type: BookedTicketType
    quantity: int
    unit_price: PriceOut
    discount: PriceOut = Field(description="What the booking's promo code took off this line")
    total: PriceOut = Field(description="unit_price x quantity - discount")


class Booking(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JD3M5Q8Z7K4X2W9R6T5Y3V1B",
                    "event_id": "0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50",
                    "event": {
                        "name": "Beethoven Night",
                        "venue": "Royal Albert Hall",
                        "starts_at": "2026-12-01T18:30:00Z",
                        "status": "ON_SALE",
                    },
                    "ticket_type": {"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "name": "Standard"},
                    "quantity": 2,
                    "tickets": [
                        {
                            "ticket_number": "7KQ4-M2ZX-9PRT-W3HN-B6DF-8ZJC-5VMA",
                            "ticket_type": {"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "name": "Standard"},
                            "status": "CHECKED_IN",
                            "checked_in_at": "2026-12-01T18:05:42.123456Z",
                            "code": CODE_EXAMPLE,
                        },
                        {
                            "ticket_number": "Q2WE-4RTY-6VPA-8SDF-GH1J-3KMN-5BVC",
                            "ticket_type": {"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "name": "Standard"},
                            "status": "VALID",
                            "checked_in_at": None,
                            "code": CODE_EXAMPLE,
                        },
                    ],
                    "lines": [
                        {
                            "ticket_type": {"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "name": "Standard"},
                            "quantity": 2,
                            "unit_price": "25.00",
                            "discount": "5.00",
                            "total": "45.00",
                        }
                    ],
                    "unit_price": "25.00",
                    "promo_code": "EARLY10",
                    "subtotal": "50.00",
                    "discount": "5.00",
                    "total": "45.00",
                    "total_price": "45.00",
                    "currency": "EUR",
                    "status": "CONFIRMED",
                    "created_at": "2026-11-02T12:00:00Z",
                    "cancelled_at": None,
                }
            ]
        }
    )

    id: str
    event_id: str
    event: BookedEvent
    ticket_type: BookedTicketType | None = Field(description="Its tickets' type; null for a booking of several lines")
    quantity: int
    tickets: list[Ticket]
    lines: list[BookingLine] = Field(description="Its tickets by type: one line per ticket type booked")
    unit_price: PriceOut | None = Field(description="Each ticket's price; null for a booking of several lines")
    promo_code: str | None = None
    subtotal: PriceOut = Field(description="The lines' prices before discount (the tickets it has left)")
    discount: PriceOut = Field(description="What its promo code took off those tickets")
    total: PriceOut = Field(description="What they were paid: subtotal - discount")
    total_price: PriceOut = Field(description="The same as total (its name before orders), kept for older clients")
    currency: CurrencyOut
    status: BookingStatus
    created_at: datetime
    cancelled_at: datetime | None = None
