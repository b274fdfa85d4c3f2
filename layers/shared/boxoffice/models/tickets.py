"""Tickets at the door: scans, tickets as door staff see them, and the keys that verify ticket codes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from boxoffice.models.bookings import CODE_EXAMPLE, BookedTicketType
from boxoffice.models.common import RequestModel, ResponseModel
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
