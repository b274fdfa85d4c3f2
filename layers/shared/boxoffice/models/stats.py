"""An event's counters as GET /events/{event_id}/stats answers them: apart from the ticket and booking
shapes, so the stats function loads neither (nor the event's)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from boxoffice.models.common import PriceOut, ResponseModel

# The promo codes the stats show (one Query of their counters: bounded whatever an event has).
STATS_CODES = 100


class TicketTypeStats(ResponseModel):
    """One ticket type's counters, moved by the same transactions as the event's. No `reserved`: tickets
    kept for the waiting list are the event's and take a type only when offered."""

    id: str
    name: str
    hidden: bool = Field(description="Left out of public event reads (an admin sees it here)")
    sold: int
    held: int = Field(description="In checkout holds that are neither confirmed nor released yet.")
    available: int | None = Field(description="What is left of the type's own sub-quota; null without one.")
    checked_in: int
    cancelled: int
    revenue: dict[str, PriceOut]


class PromoCodeStats(ResponseModel):
    """A promo code's counters, moved by the transactions that sell and give back its tickets."""

    code: str
    uses: int = Field(description="Tickets sold (or held) with it, counted against its max_uses")
    discount: PriceOut = Field(description="What it took off them, in the event's currency")


class EventStats(ResponseModel):
    """An event's counters: sold + held + reserved + available == total_tickets; checked_in counts tickets
    sold and let in.
    `ticket_types` breaks them down by the event's types (sold, checked_in, cancelled and revenue add up
    to the event's, except what types deleted since had cancelled)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_id": "0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50",
                    "total_tickets": 500,
                    "sold": 412,
                    "held": 6,
                    "reserved": 0,
                    "available": 82,
                    "checked_in": 377,
                    "cancelled": 9,
                    "revenue": {"EUR": "10300.00"},
                    "ticket_types": [
                        {
                            "id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a",
                            "name": "Standard",
                            "hidden": False,
                            "sold": 362,
                            "held": 6,
                            "available": None,
                            "checked_in": 330,
                            "cancelled": 9,
                            "revenue": {"EUR": "7300.00"},
                        },
                        {
                            "id": "9a1f4c2e-6b3d-4e8a-b7c5-0d2e1f3a4b5c",
                            "name": "VIP",
                            "hidden": False,
                            "sold": 50,
                            "held": 0,
                            "available": 0,
                            "checked_in": 47,
                            "cancelled": 0,
                            "revenue": {"EUR": "3000.00"},
                        },
                    ],
                    "promo_codes": [{"code": "EARLY10", "uses": 40, "discount": "100.00"}],
                }
            ]
        }
    )

    event_id: str
    total_tickets: int
    sold: int
    held: int = Field(description="In checkout holds that are neither confirmed nor released yet.")
    reserved: int = Field(description="Came back while people were waiting: kept for the waiting list.")
    available: int = Field(description="On open sale.")
    checked_in: int
    cancelled: int = Field(description="Tickets released by cancelled bookings.")
    revenue: dict[str, PriceOut] = Field(
        description="Money taken, net of cancellations, by currency (an event's currency can change)."
    )
    ticket_types: list[TicketTypeStats] = Field(description="The same counters for each of the event's ticket types.")
    promo_codes: list[PromoCodeStats] = Field(
        description=f"Its first {STATS_CODES} promo codes in code order (all of them: GET .../promo-codes); revenue "
        "is net of their discounts."
    )
