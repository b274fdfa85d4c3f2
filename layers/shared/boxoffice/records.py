"""The domain's records: what logic/ reasons about and store/ persists, in the words of
boxoffice/vocabulary.py (lifecycles, roles, the caller).

Defined once here so that the rules (logic/), the items (store/) and the wire (models/) speak of the same
things; store/ keeps only the item mapping. uuid and zoneinfo are loaded where they are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from boxoffice.vocabulary import (
    BookingStatus,
    DiscountKind,
    EntryStatus,
    EventStatus,
    HoldStatus,
    TicketStatus,
)

DEFAULT_TYPE_NAME: Final = "General admission"
DEFAULT_TIMEZONE: Final = "UTC"
MAX_TICKET_TYPES: Final = 20
# The door window around an event's start, in minutes: staff scan tickets from doors open to doors close.
DOORS_OPEN_MINUTES: Final = 6 * 60
DOORS_CLOSE_MINUTES: Final = 12 * 60
# What one account may keep off sale per event unless the event says otherwise (its max_held_tickets_per_user
# defaults to max_tickets_per_booking: one checkout's worth). Two holds let a buyer check out two ticket types
# (or retry in a second tab) while a hoarder's free accounts each keep at most one booking's worth; the
# cool-down, as long as a hold itself, gives real buyers a hold period's start on what a hoarder let lapse.
DEFAULT_MAX_HOLDS_PER_USER: Final = 2
DEFAULT_HOLD_COOLDOWN_SECONDS: Final = 600


def legacy_type_id(event_id: str) -> str:
    """The id of the one ticket type an event stored before ticket types existed is read as (stable)."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:boxoffice:event:{event_id}:general-admission"))


@dataclass(frozen=True, slots=True)
class TicketType:
    """A kind of ticket (early bird, VIP) drawing from its event's quota and, optionally, its own."""

    id: str
    name: str
    description: str
    price: Decimal
    total_tickets: int | None  # its own sub-quota; None: only the event's quota limits it
    max_tickets_per_booking: int
    sales_start: datetime | None
    sales_end: datetime | None
    created_at: datetime
    # Live counters, from the type's counter item (None/0 until read).
    available_tickets: int | None = None
    sold: int = 0
    held: int = 0  # in live holds
    # Its sub-quota's open stock in each of the event's shards, as one atomic read saw them (empty: unread).
    shard_stock: tuple[int, ...] = ()
    hidden: bool = False  # left out of public reads; sold only with a code that unlocks it (issue 22)

    @property
    def booked(self) -> BookedType:
        """This type as a booking or a hold of it records it now."""
        return BookedType(self.id, self.name, sub_quota=self.total_tickets is not None)


@dataclass(frozen=True, slots=True)
class BookedType:
    """A ticket type as a booking, a hold or a ticket recorded it when sold: its id and name then, and whether
    it had a sub-quota (what a cancel or a release gives back to; a ticket does not record that)."""

    id: str
    name: str
    sub_quota: bool = False


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: str
    name: str
    description: str
    venue: str
    starts_at: datetime  # UTC, whole seconds: its ISO form has a fixed width and sorts as text
    timezone: str  # IANA name: where the event happens, for its local date and time
    total_tickets: int  # the quota every ticket type draws from
    available_tickets: int
    currency: str
    max_tickets_per_booking: int
    max_tickets_per_user: int | None
    status: EventStatus
    created_at: datetime
    updated_at: datetime
    ticket_types: tuple[TicketType, ...] = field(default=())
    # Out of open sale but not sold (store/inventory.py): in live holds, kept for the waiting list.
    held: int = 0
    reserved: int = 0
    # Each stock shard's part of `reserved` (a return keeps tickets in the shard they came back to), known
    # when every shard was read; empty: `reserved` is shard 0's alone.
    pools: tuple[int, ...] = ()
    waiting: int = 0  # waiting-list entries WAITING
    line_used: bool = False  # someone joined its sharded line once (store/inventory.py: LINE_USED)
    doors_open_minutes_before: int = DOORS_OPEN_MINUTES
    doors_close_minutes_after: int = DOORS_CLOSE_MINUTES
    # Its open stock lives in stock shards (store/inventory.py); `available_tickets` is their sum, known
    # when every shard was read (shard_stock: each one's; empty: unread). Bookings spread over the first
    # `inventory_shards`; shards beyond them (left by a lower count) are drained but still counted.
    inventory_shards: int = 1
    stock_shards: int = 1
    stock_known: bool = True
    shard_stock: tuple[int, ...] = ()
    # A booking's read of one stock shard: (shard, what it has of the type asked for); None: not read.
    read_shard: tuple[int, int] | None = None

    @property
    def stocked(self) -> int:
        """How many stock shards hold its counters."""
        return max(self.inventory_shards, self.stock_shards)

    @property
    def doors(self) -> tuple[datetime, datetime]:
        """When check-in opens and closes (the close is the first instant it is closed again)."""
        return (
            self.starts_at - timedelta(minutes=self.doors_open_minutes_before),
            self.starts_at + timedelta(minutes=self.doors_close_minutes_after),
        )

    # What one account may keep in holds (store/inventory.py: take); None: the default.
    max_held_tickets_per_user: int | None = None  # None: max_tickets_per_booking, one checkout's worth
    max_holds_per_user: int | None = None  # None: DEFAULT_MAX_HOLDS_PER_USER
    hold_cooldown_seconds: int | None = None  # None: DEFAULT_HOLD_COOLDOWN_SECONDS

    @property
    def held_ceiling(self) -> int:
        """Live held tickets one account may have."""
        if self.max_held_tickets_per_user is None:
            return self.max_tickets_per_booking
        return self.max_held_tickets_per_user

    @property
    def holds_ceiling(self) -> int:
        """Live holds one account may have."""
        return DEFAULT_MAX_HOLDS_PER_USER if self.max_holds_per_user is None else self.max_holds_per_user

    @property
    def cooldown(self) -> timedelta:
        """How long after a hold of theirs expired an account may not hold again."""
        seconds = self.hold_cooldown_seconds
        return timedelta(seconds=DEFAULT_HOLD_COOLDOWN_SECONDS if seconds is None else seconds)

    @property
    def starts_key(self) -> str:
        return f"{self.starts_at.isoformat()}#{self.id}"

    @property
    def sold(self) -> int:
        return self.total_tickets - self.available_tickets - self.held - self.reserved

    @property
    def ticket_price(self) -> Decimal:
        """The lowest price of its ticket types ("from")."""
        return min(t.price for t in self.ticket_types)

    @property
    def local_start(self) -> datetime:
        from zoneinfo import ZoneInfo

        return self.starts_at.astimezone(ZoneInfo(self.timezone))

    def ticket_type(self, type_id: str) -> TicketType | None:
        return next((t for t in self.ticket_types if t.id == type_id), None)


@dataclass(frozen=True, slots=True)
class Holding:
    """How many live tickets one user holds for one event (what `max_tickets_per_user` caps), how many of
    them in holds of their own and in how many (what the hold ceilings cap), and until when a hold of theirs
    that expired keeps them from holding again."""

    tickets: int = 0
    held_tickets: int = 0
    holds: int = 0
    cooldown_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Stock:
    """What a booking draws on, as read or as DynamoDB last saw it: the event, the type, the buyer's holding."""

    event: EventRecord
    ticket_type: TicketType
    holding: Holding

    @property
    def available(self) -> int:
        """Tickets of this type that can be sold now: the lower of the event's and the type's counts
        (the type's own count only when it has a sub-quota and its counter was read)."""
        own = self.ticket_type.available_tickets
        return self.event.available_tickets if own is None else min(own, self.event.available_tickets)

    @property
    def known(self) -> bool:
        """Whether `available` was read: a sharded event's booking reads no shard until one falls short."""
        return self.event.stock_known


# Tickets, bookings, holds, waiting-list entries: store/* keeps only their item mapping.


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """A ticket as the door knows it: its status, when it was checked in, whose booking it belongs to."""

    event_id: str
    ticket_number: str
    status: TicketStatus
    updated_at: datetime
    checked_in_at: datetime | None
    booking_id: str
    user_id: str
    # Its booking's type, as booked; None on a ticket written before tickets recorded it (then its
    # booking's says which: store.bookings.typed).
    ticket_type_id: str | None
    ticket_type_name: str | None
    code: str | None = None  # its signed code, as the booking wrote it (None where not read)
    # Stored under its shard of the event's tickets (store/tickets.py); False: under the event's own key,
    # as tickets were before they were spread.
    spread: bool = True

    @property
    def ticket_type(self) -> BookedType:
        """Its type, once known (always, when read through store.bookings.typed)."""
        if self.ticket_type_id is None or self.ticket_type_name is None:
            raise LookupError("a ticket written before tickets recorded their type: read it with store.bookings.typed")
        return BookedType(self.ticket_type_id, self.ticket_type_name)


@dataclass(frozen=True, slots=True)
class EventSnapshot:
    """What a booking shows of its event."""

    name: str
    venue: str
    starts_at: datetime
    status: EventStatus

    @classmethod
    def of(cls, event: EventRecord) -> EventSnapshot:
        return cls(name=event.name, venue=event.venue, starts_at=event.starts_at, status=event.status)


@dataclass(frozen=True, slots=True)
class BookedLine:
    """One line of a booking of several types: its tickets of one type, each at one price (docs/orders.md)."""

    ticket_type: BookedType  # with whether it had a sub-quota when booked (what a cancel gives back to)
    ticket_numbers: tuple[str, ...]  # every ticket it was booked with, cancelled ones included
    unit_price: Decimal
    unit_discount: Decimal = Decimal(0)  # what the booking's code took off each of its tickets
    promo_counted: bool = False  # whether its tickets count in the uses of the booking's code
    # The stock shards its live tickets came from, (shard, tickets) pairs, shard 0's included.
    shards: tuple[tuple[int, int], ...] = ()

    @property
    def net_unit_price(self) -> Decimal:
        return self.unit_price - self.unit_discount


@dataclass(frozen=True, slots=True)
class HeldLine:
    """One line of a held cart: `quantity` tickets of one type, each at one price (docs/orders.md)."""

    ticket_type: BookedType
    quantity: int
    unit_price: Decimal
    unit_discount: Decimal = Decimal(0)
    promo_counted: bool = False
    shards: tuple[tuple[int, int], ...] = ()  # where its tickets are held, shard 0's included


@dataclass(frozen=True, slots=True)
class BookingRecord:
    """A booking: its tickets' numbers, prices as booked, its status, and its event as it last saw it."""

    id: str
    user_id: str
    event_id: str
    ticket_type_id: str
    ticket_type_name: str
    ticket_type_quota: bool  # whether its type had a sub-quota when booked (what a cancel gives back to)
    counted: bool  # whether it counts in the user's holding (bookings made before ticket types do not)
    quantity: int
    ticket_numbers: tuple[str, ...]
    unit_price: Decimal
    total_price: Decimal
    currency: str
    status: BookingStatus
    created_at: datetime
    cancelled_at: datetime | None
    event: EventSnapshot  # as last seen: at booking, then at cancelling
    idempotency_sk: str | None = None  # its Idempotency-Key's item, whose copy of it a cancel updates too
    # Tickets cancelled one by one while it stays CONFIRMED: `quantity` and `total_price` count the rest.
    cancelled_tickets: tuple[str, ...] = ()
    ticket_cancelled_at: datetime | None = None  # when the latest of those went
    tickets_spread: bool = True  # its tickets are stored under their shards (False: made before they were)
    # The stock shards its live tickets came from, (shard, tickets) pairs (empty: all from shard 0).
    shards: tuple[tuple[int, int], ...] = ()
    # Its promo code (as the buyer's text, upper-case), the id of the code whose uses its tickets count in
    # (None: they count in none) and what the code took off each ticket: total_price is net of it.
    promo_code: str | None = None
    promo_code_id: str | None = None
    unit_discount: Decimal = Decimal(0)
    # A booking of several types: its lines (the fields above then describe its first line's type and
    # price); empty for a booking of one type, which those fields describe whole.
    lines: tuple[BookedLine, ...] = ()

    @property
    def net_unit_price(self) -> Decimal:
        """What each ticket was paid: what a single ticket's cancel gives back."""
        return self.unit_price - self.unit_discount

    @property
    def source(self) -> dict[int, int]:
        """Shard -> its live tickets taken from there: what a cancel gives back to."""
        return dict(self.shards) or {0: self.quantity}

    @property
    def live_tickets(self) -> tuple[str, ...]:
        """The tickets not cancelled (none once the booking is)."""
        if self.status == BookingStatus.CANCELLED:
            return ()
        return tuple(n for n in self.ticket_numbers if n not in self.cancelled_tickets)

    @property
    def booked_lines(self) -> tuple[BookedLine, ...]:
        """Its lines: a booking of one type is one line."""
        if self.lines:
            return self.lines
        booked = BookedType(self.ticket_type_id, self.ticket_type_name, sub_quota=self.ticket_type_quota)
        only = BookedLine(
            booked,
            self.ticket_numbers,
            self.unit_price,
            self.unit_discount,
            promo_counted=self.promo_code_id is not None,
            shards=tuple(self.source.items()),
        )
        return (only,)

    def kept_in(self, line: BookedLine) -> tuple[str, ...]:
        """The line's tickets not cancelled one by one (what `quantity` counts, a cancelled booking's too)."""
        return tuple(n for n in line.ticket_numbers if n not in self.cancelled_tickets)


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """An Idempotency-Key to commit with a new booking."""

    key: str
    fingerprint: str  # of the request the key was first used for
    expires_at: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """What an Idempotency-Key stands for: a booking (as it is now) or the hold it placed."""

    fingerprint: str
    expires_at: int
    booking: BookingRecord | None  # a booking's key: as it is now (put with the booking, cancelled with it)
    hold_id: str | None = None  # a hold's key: the hold it placed


@dataclass(frozen=True, slots=True)
class Details:
    """What bookings show beyond their own items: their events and tickets as they are now."""

    events: dict[str, EventSnapshot]
    tickets: dict[tuple[str, str], TicketRecord]  # by (event id, ticket number)


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A checkout hold: tickets of one type kept off sale for one user until `expires_at`."""

    id: str
    user_id: str
    event_id: str
    ticket_type_id: str
    ticket_type_name: str
    ticket_type_quota: bool  # whether its type had a sub-quota when held (what a release gives back to)
    quantity: int
    unit_price: Decimal  # the price when the tickets were taken: confirming keeps it
    currency: str
    status: HoldStatus
    expires_at: datetime
    created_at: datetime
    ended_at: datetime | None = None
    booking_id: str | None = None
    waiting_entry_id: str | None = None  # a waiting-list offer: the entry it was offered to
    # A hold the buyer placed (counted under the event's hold ceilings): when their cool-down ends if it expires.
    # None: a waiting-list offer, or a hold placed before the ceilings.
    cooldown_until: datetime | None = None
    # The stock shards its tickets came from, (shard, tickets) pairs (empty: all from shard 0).
    shards: tuple[tuple[int, int], ...] = ()
    # As a booking's: its promo code, the id its tickets count in the uses of, the discount on each ticket.
    promo_code: str | None = None
    promo_code_id: str | None = None
    unit_discount: Decimal = Decimal(0)

    # A cart of several types: its lines (the fields above then describe its first line's type and price).
    lines: tuple[HeldLine, ...] = ()

    @property
    def source(self) -> dict[int, int]:
        """Shard -> tickets held there (all its lines'): what a confirm or a release moves."""
        parts: dict[int, int] = {}
        for line in self.held_lines:
            for shard, part in line.shards:
                parts[shard] = parts.get(shard, 0) + part
        return parts

    @property
    def booked_type(self) -> BookedType:
        return BookedType(self.ticket_type_id, self.ticket_type_name, sub_quota=self.ticket_type_quota)

    @property
    def held_lines(self) -> tuple[HeldLine, ...]:
        """Its lines: a hold of one type is one line."""
        if self.lines:
            return self.lines
        shards = self.shards or ((0, self.quantity),)
        only = HeldLine(
            self.booked_type,
            self.quantity,
            self.unit_price,
            self.unit_discount,
            promo_counted=self.promo_code_id is not None,
            shards=shards,
        )
        return (only,)


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """A user's place in an event's waiting line (one per user and event), and the offer it got, if any."""

    id: str
    user_id: str
    event_id: str
    ticket_type_id: str
    ticket_type_name: str
    quantity: int
    status: EntryStatus
    joined_at: datetime
    hold_id: str | None = None
    expires_at: datetime | None = None
    ended_at: datetime | None = None
    line_shard: int | None = None  # its line's shard (store/line.py); None: the line of before the shards
    line_waiting: int | None = None  # entries WAITING just after it joined: a bound on those ahead of it
    line_served: int | None = None  # entries served from the line's head until then (store/line.py)


@dataclass(frozen=True, slots=True)
class HoldImage:
    """What domain events read of a checkout hold (`USER#<user id>/HOLD#<hold id>` in the bookings
    table, written by the holds' store): who holds how many of what, its status and instants, and the
    waiting-list entry it was offered to (None: a hold the buyer placed)."""

    id: str
    user_id: str
    event_id: str
    ticket_type_id: str | None
    quantity: int
    status: HoldStatus
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    waiting_entry_id: str | None


# What a committed change of an item (a DynamoDB stream record) is to the domain: bookings, holds and tickets.
ChangedRecord = BookingRecord | HoldImage | TicketRecord


@dataclass(frozen=True, slots=True)
class Change:
    """A committed change of one item: the domain's record before and after (None: none, or not ours)."""

    sequence: str  # the stream record's SequenceNumber: where a retry of the batch resumes
    before: ChangedRecord | None
    after: ChangedRecord | None


@dataclass(frozen=True, slots=True)
class TypeStatsRecord:
    """One ticket type's counters, for the event's stats."""

    ticket_type: TicketType  # with its live counters (sold, available_tickets)
    cancelled: int
    checked_in: int
    revenue: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class StatsRecord:
    """The counters of an event and its ticket types, for its stats."""

    event: EventRecord
    cancelled: int
    checked_in: int
    revenue: dict[str, Decimal]  # by currency; a currency whose bookings were all cancelled shows 0
    ticket_types: tuple[TypeStatsRecord, ...]  # in the event's order


@dataclass(frozen=True, slots=True)
class Discount:
    """What a promo code takes off each ticket it applies to: `value` is a percentage (0-100) for PERCENT,
    an amount in the event's currency otherwise."""

    kind: DiscountKind
    value: Decimal


@dataclass(frozen=True, slots=True)
class PromoCode:
    """A promo or access code of one event (store/promocodes.py): its discount, where and when it applies,
    how many tickets it may still be used for, and the counters redemptions move."""

    id: str
    event_id: str
    code: str  # upper-case: codes are matched ignoring case
    discount: Discount
    ticket_type_ids: frozenset[str] | None  # None: every type of the event
    max_uses: int | None  # in tickets; None: unlimited
    valid_from: datetime | None
    valid_until: datetime | None  # the first instant it no longer applies
    unlocks: frozenset[str]  # hidden types it lets its holder buy
    created_at: datetime
    updated_at: datetime
    uses: int  # tickets sold with it
    discount_given: Decimal  # in the event's currency
    version: int = 1  # moved by every edit: a redemption conditions on the version it judged


@dataclass(frozen=True, slots=True)
class Redemption:
    """A promo code as a sale uses it (logic/pricing.py judged it): `quantity` tickets count in its uses,
    each `unit_discount` cheaper."""

    code: PromoCode
    quantity: int
    unit_discount: Decimal
    given: Decimal | None = None  # an order's: the discount of all its lines (each at its own unit_discount)

    @property
    def discount(self) -> Decimal:
        return self.unit_discount * self.quantity if self.given is None else self.given
