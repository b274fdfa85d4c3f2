"""Every id the box office makes, the shapes they have, and the checks that keep a malformed one from ever
reaching DynamoDB as a key.

- Events, ticket types and accounts: lowercase UUIDs (random, v4).
- Bookings and holds: ULID-style, sortable by time and not guessable.
- Waiting-list entries: `<event id>.<ULID>` (the entry's key, one per user and event, is in its id).
- Ticket numbers: 140 random bits in Crockford base32, grouped for reading aloud at a door.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Final

CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread at a door
UUID_PATTERN: Final = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ULID_PATTERN: Final = r"[0-9A-HJKMNP-TV-Z]{26}"
TICKET_SYMBOLS: Final = 28  # 140 random bits, in 7 groups of 4

_UUID = re.compile(rf"^{UUID_PATTERN}$")
_ULID = re.compile(rf"^{ULID_PATTERN}$")
_ENTRY_ID = re.compile(rf"^({UUID_PATTERN})\.{ULID_PATTERN}$")
_SEPARATORS = re.compile(r"[\s-]")
# Crockford base32 reads the letters people mistake for digits as those digits.
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def base32(value: int, symbols: int) -> str:
    return "".join(CROCKFORD[(value >> 5 * i) & 31] for i in reversed(range(symbols)))


def new_uuid() -> str:
    """An event's, a ticket type's or an account's id."""
    import uuid  # only the functions that create one pay for it

    return str(uuid.uuid4())


def new_ulid(now: datetime) -> str:
    """ULID-style: 48 bits of milliseconds, then 80 random bits. Unique, not guessable, sorts by time."""
    return base32(int(now.timestamp() * 1000), 10) + base32(secrets.randbits(80), 16)


new_booking_id = new_ulid  # bookings and holds (and the holds the waiting list offers)


def new_entry_id(event_id: str, now: datetime) -> str:
    """A waiting-list entry's id: its event's, then a ULID (a new join, a new id)."""
    return f"{event_id}.{new_ulid(now)}"


def new_ticket_number() -> str:
    """140 random bits in Crockford base32, grouped for reading aloud: 7KQ4-M2ZX-...."""
    return grouped(base32(secrets.randbits(5 * TICKET_SYMBOLS), TICKET_SYMBOLS))


def grouped(symbols: str) -> str:
    """A ticket number's symbols as it is written: groups of four joined by dashes."""
    return "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))


def is_uuid(raw: str) -> bool:
    return bool(_UUID.match(raw))


def is_ulid(raw: str) -> bool:
    return bool(_ULID.match(raw))


def entry_event(entry_id: str) -> str | None:
    """The event id a waiting-list entry's id starts with; None for anything not shaped as one."""
    found = _ENTRY_ID.match(entry_id)
    return found.group(1) if found else None


def ticket_number(raw: str) -> str | None:
    """A ticket number as issued, from however it was typed (any case, spaces or dashes, O for 0, I or L
    for 1); None for anything that cannot be one."""
    symbols = _SEPARATORS.sub("", raw).upper().translate(_LOOK_ALIKES)
    if len(symbols) != TICKET_SYMBOLS or not all(c in CROCKFORD for c in symbols):
        return None
    return grouped(symbols)
