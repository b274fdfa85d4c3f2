"""Tickets at the door: scans, tickets as door staff see them, and the keys that verify ticket codes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from boxoffice.models.bookings import TicketStatus
from boxoffice.models.common import RequestModel, ResponseModel
from boxoffice.models.events import PriceOut


class CheckInRequest(RequestModel):
    """A scan (`code`, from the QR code) or a ticket number typed in by hand: exactly one of them."""

    # A code gets its holder in: kept out of reprs, hence out of debug logs, like a password.
    code: Annotated[str, Field(min_length=1, max_length=1024)] | None = Field(default=None, repr=False)
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

    ticket_number: str
    event_id: str
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
    keys: list[JsonWebKey]


class EventStats(ResponseModel):
    """An event's counters: sold + available == total_tickets; checked_in counts tickets sold and let in."""

    event_id: str
    total_tickets: int
    sold: int
    available: int
    checked_in: int
    cancelled: int = Field(description="Tickets released by cancelled bookings.")
    revenue: dict[str, PriceOut] = Field(
        description="Money taken, net of cancellations, by currency (an event's currency can change)."
    )
