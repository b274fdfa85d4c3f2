"""Identifiers that are unique, not guessable, and readable: Crockford base32."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread at a door
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")  # bookings and holds


def base32(value: int, symbols: int) -> str:
    return "".join(CROCKFORD[(value >> 5 * i) & 31] for i in reversed(range(symbols)))


def new_ulid(now: datetime) -> str:
    """ULID-style: 48 bits of milliseconds, then 80 random bits. Unique, not guessable, sorts by time."""
    return base32(int(now.timestamp() * 1000), 10) + base32(secrets.randbits(80), 16)
