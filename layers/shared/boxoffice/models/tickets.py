"""Tickets at the door: scans, tickets as door staff see them, and the keys that verify ticket codes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from boxoffice.models.bookings import CODE_EXAMPLE, BookedTicketType
from boxoffice.models.common import RequestModel, ResponseModel
from boxoffice.models.events import PriceOut
from boxoffice.vocabulary import TicketStatus


class CheckInRequest(RequestModel):
    """A scan (`code`, from the QR code) or a ticket number typed in by hand: exactly one of them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"code": CODE_EXAMPLE}, {"ticket_number": "7KQ4-M2ZX-9PRT-W3HN-B6DF-8ZJC-5VMA"}]
        }
    )

    # A code gets its holder in: kept out of reprs, hence out of debug logs, like a password. Taken as
    # sent (not stripped): only the string as issued verifies (ticket_codes.verify).
    code: Annotated[str, StringConstraints(strip_whitespace=False), Field(min_length=1, max_length=1024)] | None = (
        Field(default=None, repr=False)
    )
    ticket_number: (
        Annotated[str, Field(min_length=1, max_length=64, description="Any case; dashes and spaces are ignored.")]
        | None
    ) = None

    @model_validator(mode="after")
    def _one(self) -> CheckInRequest:
        if (self.code is None) == (self.ticket_number is None):
            raise ValueError("give exactly one of code or ticket_number")
        return self


class DoorTicket(ResponseModel):
    """A ticket as the door sees it: what scanners sync and check-ins answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ticket_number": "7KQ4-M2ZX-9PRT-W3HN-B6DF-8ZJC-5VMA",
                    "event_id": "0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50",
                    "ticket_type": {"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", "name": "VIP"},
                    "status": "CHECKED_IN",
                    "checked_in_at": "2026-12-01T18:05:42.123456Z",
                    "updated_at": "2026-12-01T18:05:42.123456Z",
                }
            ]
        }
    )

    ticket_number: str
    event_id: str
    ticket_type: BookedTicketType
    status: TicketStatus
    checked_in_at: datetime | None = None
    updated_at: datetime


class JsonWebKey(ResponseModel):
    """An Ed25519 public key (RFC 8037): `x` is the raw key, base64url without padding."""

    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"]
    use: Literal["sig"]


class JsonWebKeySet(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "keys": [
                        {
                            "kty": "OKP",
                            "crv": "Ed25519",
                            "x": "zZd7tqRa5QpsN58h37sn8pW9ebfm3Vu7GGUaKuAE24g",
                            "kid": "prod-1",
                            "alg": "EdDSA",
                            "use": "sig",
                        }
                    ]
                }
            ]
        }
    )

    keys: list[JsonWebKey]


class TicketTypeStats(ResponseModel):
    """One ticket type's counters, moved by the same transactions as the event's. No `reserved`: tickets
    kept for the waiting list are the event's and take a type only when offered."""

    id: str
    name: str
    sold: int
    held: int = Field(description="In checkout holds that are neither confirmed nor released yet.")
    available: int | None = Field(description="What is left of the type's own sub-quota; null without one.")
    checked_in: int
    cancelled: int
    revenue: dict[str, PriceOut]


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
                            "sold": 50,
                            "held": 0,
                            "available": 0,
                            "checked_in": 47,
                            "cancelled": 0,
                            "revenue": {"EUR": "3000.00"},
                        },
                    ],
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
