"""The domain's vocabulary: every lifecycle (a StrEnum each), the roles, who is calling and their account.

Logic, store, models (whose enums, and so the OpenAPI document's, are these) and the HTTP edge all use
them; boxoffice/records.py builds the domain's records from them. Every HTTP function imports this module
(auth reads the Principal from a token), and the account functions need no other record, so it stays this
small: the records, two dozen dataclasses, would cost every cold start ~10 ms more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EventStatus(StrEnum):
    """An event's life: ON_SALE until an admin deletes it (DELETED: its bookings stay in their owners' history)."""

    ON_SALE = "ON_SALE"
    DELETED = "DELETED"


class BookingStatus(StrEnum):
    """A booking's life: CONFIRMED, then CANCELLED at most once (by its owner, before the event starts)."""

    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


class TicketStatus(StrEnum):
    """A ticket at the door: VALID, CHECKED_IN once scanned (an admin may undo it), CANCELLED with its booking."""

    VALID = "VALID"
    CHECKED_IN = "CHECKED_IN"
    CANCELLED = "CANCELLED"


class HoldStatus(StrEnum):
    """A checkout hold's life: HELD, then exactly one of CONFIRMED (a booking), RELEASED (by its owner) or
    EXPIRED (past expires_at)."""

    HELD = "HELD"
    CONFIRMED = "CONFIRMED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"  # stored by the sweeper, a refused sale or its owner too late; shown at once


class EntryStatus(StrEnum):
    """A waiting-list entry's life: WAITING in the line, then OFFERED a hold, then BOOKED (the hold confirmed)
    or EXPIRED (the offer lapsed, or its ticket type stopped selling); LEFT by its owner while WAITING or
    OFFERED; CLOSED once its event is deleted or has started."""

    WAITING = "WAITING"
    OFFERED = "OFFERED"
    BOOKED = "BOOKED"
    EXPIRED = "EXPIRED"
    LEFT = "LEFT"
    CLOSED = "CLOSED"


class Role(StrEnum):
    """What an account may do: book (user), also scan tickets at the door (staff), everything (admin)."""

    USER = "user"
    STAFF = "staff"
    ADMIN = "admin"


class Pool(StrEnum):
    """Where tickets given back (by a cancel, a released or an expired hold) go."""

    AVAILABLE = "AVAILABLE"  # back on open sale
    RESERVED = "RESERVED"  # kept for the waiting list: only its allocator moves them on


class DiscountKind(StrEnum):
    """How a promo code prices each ticket it applies to (logic/pricing.py)."""

    PERCENT = "percent"  # that share of the price off, rounded half-even in the currency's minor unit
    AMOUNT_OFF = "amount_off"  # that amount off, never below zero
    FIXED_PRICE = "fixed_price"  # that price instead, never above the ticket's own


@dataclass(frozen=True, slots=True)
class Principal:
    """Who the verified token says is calling. token_version is checked against the store."""

    user_id: str
    role: Role
    token_version: int

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclass(frozen=True, slots=True)
class UserRecord:
    """An account (the users table's item; its email claim and the admin count are the store's)."""

    id: str
    name: str
    email: str
    role: Role
    # Read only by login and the password change; never in a log line, even one that prints the record.
    password_hash: str | None = field(repr=False)
    token_version: int
    created_at: datetime
