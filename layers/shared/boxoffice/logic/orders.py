"""Orders: a booking of several ticket types (`items`), all its lines in one transaction (docs/orders.md).

The rules are a booking's (logic/sales.py) judged line by line, each line drawing on what the lines before
it left: every type's sub-quota, sales window, price and per-booking limit; the event's quota, its
max_tickets_per_booking and max_tickets_per_user on the sum. A refusal names its line (`line`, and `pointer`
`/items/<n>`). A promo code applies per line (the types it discounts or unlocks); its uses count the
tickets of those lines, so a use of a code is a ticket it priced or unlocked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from boxoffice import clock, ids, retry
from boxoffice.errors import (
    DomainError,
    EventNotFound,
    HoldLimitReached,
    InvalidInput,
    InvalidPromoCode,
    NotEnoughTickets,
    PromoCodeUsedUp,
    SoldOut,
    TicketTypeNotFound,
    UserLimitReached,
)
from boxoffice.logic import bookings, expiry, pricing
from boxoffice.logic.bookings import Rules
from boxoffice.logic.permissions import require_current
from boxoffice.logic.sales import bookable
from boxoffice.models.bookings import BookingRequest
from boxoffice.observability import logger, metrics
from boxoffice.records import (
    BookedLine,
    BookingRecord,
    EventRecord,
    EventSnapshot,
    Holding,
    PromoCode,
    Redemption,
    TicketType,
)
from boxoffice.store import orders as store
from boxoffice.store.bookings import BookingContext, IdTaken
from boxoffice.store.inventory import Taken
from boxoffice.store.promocodes import PromoCodeChanged
from boxoffice.vocabulary import BookingStatus, DiscountKind, EventStatus, Principal


@dataclass(frozen=True, slots=True)
class LineSale:
    """A line as judged: its type (with the counters read), its tickets, and what the code does to it."""

    ticket_type: TicketType
    quantity: int
    unit_discount: Decimal
    counted: bool  # its tickets count in the code's uses

    @property
    def net_price(self) -> Decimal:
        return self.ticket_type.price - self.unit_discount


def at_line(error: DomainError, line: int) -> DomainError:
    """The refusal, naming the order's line it is about."""
    if isinstance(error, InvalidInput):
        fields = [{**f, "field": f"items.{line}.{f['field']}"} for f in error.extra.get("errors", [])]
        error.extra["errors"] = fields
    error.extra.update(line=line, pointer=f"/items/{line}")
    error.detail = f"items[{line}]: {error.detail}"  # the line as the request wrote it, for a person to read
    return error


def distinct(wanted: Sequence[tuple[str | None, int]]) -> None:
    """Each type once: a type asked twice is a 422 naming its second line."""
    seen: set[str | None] = set()
    for n, (type_id, _) in enumerate(wanted):
        if type_id in seen:
            raise InvalidInput("names a ticket type already in another line", field=f"items.{n}.ticket_type_id")
        seen.add(type_id)


def judge(
    event: EventRecord | None,
    holding: Holding,
    wanted: Sequence[tuple[str | None, int]],
    asked: str | None,
    code: PromoCode | None,
    now: datetime,
    rules: Rules = bookable,
) -> tuple[list[LineSale], Redemption | None]:
    """The order's lines as they may be sold (or held, by `rules`) now, and the code as they use it; else the
    first refusal, in the order a buyer can act on: the event, each line's type (a hidden one needs a code
    that unlocks it), the code, the event's per-booking limit on the sum, then each line's rules on what the
    lines before it left."""
    if event is None or event.status != EventStatus.ON_SALE:
        raise EventNotFound()
    code = code if asked is not None else None  # a code read but not asked for is no code
    types = []
    for n, (type_id, _) in enumerate(wanted):
        found = event.ticket_type(type_id) if type_id is not None else None
        if found is None or (found.hidden and asked is None):
            raise at_line(TicketTypeNotFound(), n)
        types.append(found)
    counted = _code_lines(types, asked, code, now)
    uses = sum(quantity for (_, quantity), c in zip(wanted, counted, strict=True) if c)
    if code is not None and not pricing.has_room(code, uses):
        raise PromoCodeUsedUp()
    total = sum(quantity for _, quantity in wanted)
    if total > event.max_tickets_per_booking:
        raise InvalidInput(f"must hold at most {event.max_tickets_per_booking} tickets in all", field="items")
    before = 0
    sales = []
    for n, (ticket_type, (_, quantity)) in enumerate(zip(types, wanted, strict=True)):
        drawn = replace(event, available_tickets=event.available_tickets - before)
        mine = replace(holding, tickets=holding.tickets + before, held_tickets=holding.held_tickets + before)
        try:
            rules(drawn, ticket_type, mine, quantity, now)
        except UserLimitReached as refused:
            cap = event.max_tickets_per_user or 0
            raise at_line(UserLimitReached(max(0, cap - holding.tickets), cap), n) from refused
        except DomainError as refused:
            raise at_line(refused, n) from None
        off = Decimal(0)
        if code is not None and pricing.applies_to(code, ticket_type.id):
            off = pricing.ticket_discount(ticket_type.price, code.discount, event.currency)
        sales.append(LineSale(ticket_type, quantity, off, counted[n]))
        before += quantity
    if code is None:
        return sales, None
    given = sum((x.unit_discount * x.quantity for x in sales), Decimal(0))
    return sales, Redemption(code, uses, Decimal(0), given=given)


def _code_lines(types: Sequence[TicketType], asked: str | None, code: PromoCode | None, now: datetime) -> list[bool]:
    """Which lines the code asked for counts in (each a type it discounts or unlocks); InvalidPromoCode when
    it is unknown, outside its window, fits no line, or does not unlock a hidden type asked for."""
    if asked is None:
        return [False] * len(types)
    if code is None or not pricing.valid_at(code, now):
        raise InvalidPromoCode()
    counted = []
    for n, ticket_type in enumerate(types):
        unlocked = pricing.unlocks(code, ticket_type.id)
        if ticket_type.hidden and not unlocked:
            raise at_line(InvalidPromoCode(), n)
        counted.append(unlocked or _discounts(code, ticket_type.id))
    if not any(counted):
        raise InvalidPromoCode()
    return counted


def _discounts(code: PromoCode, ticket_type_id: str) -> bool:
    """Whether the code takes something off the type's tickets: an access code (percent 0) discounts none, so
    a public line beside the hidden one it unlocks uses none of it."""
    access = code.discount.kind is DiscountKind.PERCENT and code.discount.value == 0
    return pricing.applies_to(code, ticket_type_id) and not access


def new_record(
    user_id: str,
    event: EventRecord,
    sales: Sequence[LineSale],
    plans: Sequence[dict[int, int]],
    now: datetime,
    code: PromoCode | None,
) -> BookingRecord:
    """A new CONFIRMED booking of the lines, each with fresh ticket numbers and the shards it takes from."""
    lines = tuple(
        BookedLine(
            x.ticket_type.booked,
            tuple(ids.new_ticket_number() for _ in range(x.quantity)),
            x.ticket_type.price,
            x.unit_discount,
            promo_counted=x.counted,
            shards=tuple(sorted(plan.items())),
        )
        for x, plan in zip(sales, plans, strict=True)
    )
    first = lines[0]
    return BookingRecord(
        id=ids.new_booking_id(now),
        user_id=user_id,
        event_id=event.id,
        ticket_type_id=first.ticket_type.id,
        ticket_type_name=first.ticket_type.name,
        ticket_type_quota=first.ticket_type.sub_quota,
        counted=True,
        quantity=sum(x.quantity for x in sales),
        ticket_numbers=tuple(n for x in lines for n in x.ticket_numbers),
        unit_price=first.unit_price,
        total_price=sum((x.net_unit_price * len(x.ticket_numbers) for x in lines), Decimal(0)),
        currency=event.currency,
        status=BookingStatus.CONFIRMED,
        created_at=now,
        cancelled_at=None,
        event=EventSnapshot.of(event),
        promo_code=code.code if code else None,
        promo_code_id=code.id if code and any(x.counted for x in sales) else None,
        unit_discount=first.unit_discount,
        lines=lines,
    )


def book(
    principal: Principal, event_id: str, request: BookingRequest, idempotency_key: str | None = None
) -> bookings.BookingOutcome:
    """Book an order of several lines: one BatchGetItem (two for a sharded event) and one transaction."""
    now = clock.now()
    asked = request.promo_code
    wanted = request.lines()
    distinct(wanted)
    reader = Reader(principal.user_id, event_id, idempotency_key, wanted, asked)
    context = reader.read()
    require_current(principal, context.user)
    claim = bookings.claimed(event_id, request, idempotency_key, now)
    if claim is not None and context.earlier is not None and context.earlier.expires_at > now.timestamp():
        return bookings.replay(context.earlier, claim, context.event)

    def attempt() -> bookings.BookingOutcome:
        nonlocal context
        context, sales, redemption = judged(reader, context, now)
        event = context.event
        assert event is not None  # judged
        plans = planned(event, sales)
        record = new_record(principal.user_id, event, sales, plans, now, context.promo)
        codes = bookings.signed_codes(record)
        try:
            earlier = store.create(
                record,
                codes=codes,
                event=event,
                lines=taken(sales, plans, selling=True),
                holding=context.holding,
                token_version=principal.token_version,
                claim=claim,
                now=now,
                redemption=redemption,
            )
        except (store.OrderStockChanged, PromoCodeChanged, IdTaken):
            context = reader.read()  # judged again on the counters and the code as they are now
            raise retry.Again() from None
        if earlier is not None and claim is not None:
            return bookings.replay(earlier, claim, event)
        metrics.add_metric(name="BookingsCreated", unit="Count", value=1)
        metrics.add_metric(name="TicketsSold", unit="Count", value=record.quantity)
        logger.info(
            "Booking created",
            extra={
                "booking_id": record.id,
                "event_id": record.event_id,
                "quantity": record.quantity,
                "lines": len(sales),
            },
        )
        return bookings.BookingOutcome(bookings.public_booking(record, codes=codes), replayed=False)

    return bookings.counting_wrong_codes(principal.user_id, attempt)


@dataclass(frozen=True, slots=True)
class Reader:
    """What an order (or a cart) reads, read again after a lost condition."""

    user_id: str
    event_id: str
    idempotency_key: str | None
    wanted: Sequence[tuple[str | None, int]]
    asked: str | None
    rules: Rules = bookable

    def read(self) -> BookingContext:
        type_ids = [t for t, _ in self.wanted if t is not None]
        return store.read(self.user_id, self.event_id, self.idempotency_key, type_ids, self.asked)


def judged(
    reader: Reader, context: BookingContext, now: datetime
) -> tuple[BookingContext, list[LineSale], Redemption | None]:
    """The lines judged on `context` (with its code's room for their uses); a refusal for lack of tickets
    (or of room under the per-user cap or the hold ceilings) first returns the event's expired holds and
    judges again on a fresh read."""
    try:
        return context, *_judged(reader, context, now)
    except (SoldOut, NotEnoughTickets, UserLimitReached, HoldLimitReached):
        if context.event is None or not expiry.release_expired(now, context.event):
            raise
    context = reader.read()
    return context, *_judged(reader, context, now)


def planned(event: EventRecord, sales: Sequence[LineSale]) -> list[dict[int, int]]:
    """The shards each line takes from; a line no plan can place is refused as short of tickets."""
    try:
        return store.plan(event, [(x.ticket_type, x.quantity) for x in sales])
    except store.Unplaceable as short:
        raise at_line(NotEnoughTickets(short.available), short.line) from None


def taken(sales: Sequence[LineSale], plans: Sequence[dict[int, int]], *, selling: bool) -> list[Taken]:
    """The counter moves of the lines: sold at their net totals, or held (`selling` False)."""
    return [
        Taken(x.ticket_type, x.quantity, plan, x.net_price * x.quantity if selling else None)
        for x, plan in zip(sales, plans, strict=True)
    ]


def _judged(reader: Reader, context: BookingContext, now: datetime) -> tuple[list[LineSale], Redemption | None]:
    return judge(context.event, context.holding, reader.wanted, reader.asked, context.promo, now, reader.rules)
