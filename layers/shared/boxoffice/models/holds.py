"""Checkout holds as the API returns them (placed with the body of a booking: BookingRequest)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from boxoffice.models.bookings import BookedTicketType, BookingLine
from boxoffice.models.common import CurrencyOut, PriceOut, ResponseModel
from boxoffice.vocabulary import HoldStatus


class Hold(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JD3M5Q8Z7K4X2W9R6T5Y3V1C",
                    "event_id": "0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50",
                    "ticket_type": {"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "name": "Standard"},
                    "quantity": 2,
                    "lines": [
                        {
                            "ticket_type": {"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "name": "Standard"},
                            "quantity": 2,
                            "unit_price": "25.00",
                            "discount": "0.00",
                            "total": "50.00",
                        }
                    ],
                    "status": "HELD",
                    "expires_at": "2026-11-02T12:10:00Z",
                    "unit_price": "25.00",
                    "promo_code": None,
                    "subtotal": "50.00",
                    "discount": "0.00",
                    "total": "50.00",
                    "total_price": "50.00",
                    "currency": "EUR",
                    "created_at": "2026-11-02T12:00:00Z",
                    "booking_id": None,
                }
            ]
        }
    )

    id: str
    event_id: str
    ticket_type: BookedTicketType | None = Field(description="Its tickets' type; null for a cart of several lines")
    quantity: int
    lines: list[BookingLine] = Field(description="Its tickets by type: one line per ticket type held")
    status: HoldStatus = Field(description="EXPIRED as soon as expires_at has passed, whether or not swept yet")
    expires_at: datetime
    unit_price: PriceOut | None = Field(
        description="The price when the tickets were held (confirming books at it); null for a cart of several lines"
    )
    promo_code: str | None = None
    subtotal: PriceOut = Field(description="Its lines' prices before discount")
    discount: PriceOut = Field(description="What its promo code takes off its tickets; confirming keeps it")
    total: PriceOut = Field(description="What confirming it costs: subtotal - discount")
    total_price: PriceOut = Field(description="The same as total (its name before carts), kept for older clients")
    currency: CurrencyOut
    created_at: datetime
    booking_id: str | None = Field(default=None, description="The booking it was confirmed into")
