"""Bookings: book tickets (safe to retry with an Idempotency-Key), read one's bookings, cancel one.

What may be booked is judged by the sale rules (logic/sales.py: on sale and not started, the type's
sales window, the tickets left in the quota and the sub-quota, the per-user cap, the per-booking limits)
from the request's one read, and again as a failed transaction saw the counters; the store enforces the
same rules inside each transaction. A booking belongs to its user alone; it is cancelled once, and only
before its event starts. A booking or hold (logic/holds.py) refused for lack of tickets first returns the
event's expired holds (judged).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from boxoffice import clock, cursors, ids, money, retry, ticket_codes
from boxoffice.config import settings
from boxoffice.errors import (
    AlreadyCancelled,
    BookingNotFound,
    EventNotFound,
    EventStarted,
    HoldLimitReached,
    IdempotencyKeyReused,
    InvalidCursor,
    InvalidPromoCode,
    NotEnoughTickets,
    SoldOut,
    TicketCancelled,
    TicketNotFound,
    UserLimitReached,
)
from boxoffice.logic import expiry, offers, pricing
from boxoffice.logic.access import event_id_or_404
from boxoffice.logic.permissions import owned, require_current
from boxoffice.logic.sales import bookable, chosen_type
from boxoffice.models.bookings import Booking, BookingRequest
from boxoffice.models.common import Page
from boxoffice.observability import logger, metrics
from boxoffice.records import (
    BookedType,
    BookingRecord,
    Details,
    EventRecord,
    EventSnapshot,
    Holding,
    IdempotencyClaim,
    IdempotencyRecord,
    PromoCode,
    Redemption,
    Stock,
    TicketType,
)
from boxoffice.store import bookings as store
from boxoffice.store import code_guesses
from boxoffice.store import promocodes as promo_store
from boxoffice.store.bookings import BookingChanged, EventChanged, IdTaken
from boxoffice.store.inventory import StockChanged
from boxoffice.store.promocodes import PromoCodeChanged
from boxoffice.vocabulary import BookingStatus, EventStatus, Pool, Principal, TicketStatus

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BookingOutcome:
    booking: Booking
    replayed: bool  # the Idempotency-Key's earlier booking: nothing new was made


def fingerprint(event_id: str, request: BookingRequest) -> str:
    """What "the same request" means for an Idempotency-Key: the same event and the same body, as parsed."""
    # Unset fields are left out, so a v1 request keeps the fingerprint it had before ticket types.
    canonical = json.dumps({"event_id": event_id, **request.model_dump(exclude_none=True)}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(earlier: IdempotencyRecord, claim: IdempotencyClaim, event: EventRecord | None) -> BookingOutcome:
    """The key's booking as it is now (the key's copy follows a cancel), with `event` (the booking's:
    the fingerprints match) as read by this request, as GET /bookings/{id} would show them."""
    booking = earlier.booking
    if earlier.fingerprint != claim.fingerprint or booking is None:  # None: the key placed a hold
        raise IdempotencyKeyReused()
    logger.info("Booking replayed for its Idempotency-Key", extra={"booking_id": booking.id})
    events = {event.id: EventSnapshot.of(event)} if event else {}
    details = Details(events=events, tickets={})
    return BookingOutcome(public_booking(booking, details, codes=signed_codes(booking)), replayed=True)


_AS_WRITTEN = Details(events={}, tickets={})


def signed_codes(record: BookingRecord) -> dict[str, str]:
    """The tickets' signed codes (the same ones each time: Ed25519 signatures are deterministic)."""
    return {number: ticket_codes.sign(record.event_id, number) for number in record.ticket_numbers}


def public_booking(
    record: BookingRecord, details: Details = _AS_WRITTEN, codes: Mapping[str, str] | None = None
) -> Booking:
    """The booking with its event and tickets as `details` read them; without them, as the booking
    itself last wrote them (a new booking's tickets are VALID with `codes`; a cancelled one's, and those
    cancelled alone, CANCELLED).
    A cancelled ticket shows no code: there is nothing left to scan."""
    event = details.events.get(record.event_id, record.event)
    live = record.live_tickets
    lines = record.booked_lines
    # Each ticket is of its line's type (tickets written before they recorded it included).
    types = {n: {"id": x.ticket_type.id, "name": x.ticket_type.name} for x in lines for n in x.ticket_numbers}
    tickets = []
    for number in record.ticket_numbers:
        ticket = details.tickets.get((record.event_id, number))
        written = TicketStatus.VALID if number in live else TicketStatus.CANCELLED
        status, checked_in_at = (ticket.status, ticket.checked_in_at) if ticket else (written, None)
        code = ticket.code if ticket else (codes or {}).get(number)
        tickets.append(
            {
                "ticket_number": number,
                "ticket_type": types[number],
                "status": status,
                "checked_in_at": checked_in_at,
                "code": None if status == TicketStatus.CANCELLED else code,
            }
        )
    kept = [len(record.kept_in(x)) for x in lines]
    priced = [
        pricing.Line(x.ticket_type.id, n, x.unit_price, x.unit_discount * n) for x, n in zip(lines, kept, strict=True)
    ]
    totals = pricing.totals(priced, record.currency)
    single = len(lines) == 1

    def price(amount: Decimal) -> Decimal:
        return money.in_minor_units(amount, record.currency)

    return Booking.model_validate(
        {
            "id": record.id,
            "event_id": record.event_id,
            "event": {"name": event.name, "venue": event.venue, "starts_at": event.starts_at, "status": event.status},
            "ticket_type": types[record.ticket_numbers[0]] if single else None,
            "quantity": record.quantity,
            "tickets": tickets,
            "lines": pricing.shown_lines([x.ticket_type for x in lines], priced, record.currency),
            "unit_price": price(record.unit_price) if single else None,
            "promo_code": record.promo_code,
            "subtotal": totals.subtotal,
            "discount": totals.discount,
            "total": price(record.total_price),
            "total_price": price(record.total_price),
            "currency": record.currency,
            "status": record.status,
            "created_at": record.created_at,
            "cancelled_at": record.cancelled_at,
        }
    )


def new_record(
    user_id: str,
    event: EventRecord,
    *,
    ticket_type: BookedType,
    quantity: int,
    unit_price: Decimal,
    currency: str,
    now: datetime,
    promo_code: str | None = None,
    promo_code_id: str | None = None,
    unit_discount: Decimal = Decimal(0),
) -> BookingRecord:
    """A new CONFIRMED booking of `quantity` fresh ticket numbers of `ticket_type` (under a promo code: each
    ticket `unit_discount` cheaper, its uses counted in the code of `promo_code_id`)."""
    return BookingRecord(
        id=ids.new_booking_id(now),
        user_id=user_id,
        event_id=event.id,
        ticket_type_id=ticket_type.id,
        ticket_type_name=ticket_type.name,
        ticket_type_quota=ticket_type.sub_quota,
        counted=True,
        quantity=quantity,
        ticket_numbers=tuple(ids.new_ticket_number() for _ in range(quantity)),
        unit_price=unit_price,
        total_price=(unit_price - unit_discount) * quantity,
        currency=currency,
        status=BookingStatus.CONFIRMED,
        created_at=now,
        cancelled_at=None,
        event=EventSnapshot.of(event),
        promo_code=promo_code,
        promo_code_id=promo_code_id,
        unit_discount=unit_discount,
    )


def _new_record(
    user_id: str, stock: Stock, quantity: int, now: datetime, redemption: Redemption | None
) -> BookingRecord:
    event, ticket_type = stock.event, stock.ticket_type
    return new_record(
        user_id,
        event,
        ticket_type=ticket_type.booked,
        quantity=quantity,
        unit_price=ticket_type.price,
        currency=event.currency,
        now=now,
        **used(redemption),
    )


def used(redemption: Redemption | None) -> dict[str, Any]:
    """What a booking or a hold records of the code it used: new_record's and HoldRecord's promo fields."""
    if redemption is None:
        return {}
    return {
        "promo_code": redemption.code.code,
        "promo_code_id": redemption.code.id,
        "unit_discount": redemption.unit_discount,
    }


def priced(
    asked: str | None,
    code: PromoCode | None,
    event: EventRecord | None,
    ticket_type: TicketType | None,
    quantity: int,
    now: datetime,
) -> Redemption | None:
    """The code asked for as this sale would use it (pricing.redemption), judged before the tickets left are:
    whoever may not buy a hidden type learns nothing of its stock. An event or type not found is the sale
    rules' to answer."""
    if event is None or ticket_type is None or event.status != EventStatus.ON_SALE:
        return None
    return pricing.redemption(asked, code, ticket_type, quantity, event.currency, now)


Rules = Callable[[EventRecord | None, TicketType | None, Holding, int, datetime], Stock]


def judged(
    user_id: str,
    event: EventRecord | None,
    ticket_type: TicketType | None,
    holding: Holding,
    quantity: int,
    now: datetime,
    rules: Rules = bookable,
) -> Stock:
    """As `rules` (a booking's, or a hold's); but a refusal for lack of tickets (or of room under the per-user
    cap or the hold ceilings, which the buyer's own lapsed holds may fill) first returns the event's expired
    holds (a bounded number), then judges again on a fresh read: nobody is turned away for tickets that only a
    lapsed hold still keeps."""
    try:
        return _counted(rules, event, ticket_type, holding, quantity, now)
    except (SoldOut, NotEnoughTickets, UserLimitReached, HoldLimitReached):
        if event is None or ticket_type is None or not expiry.release_expired(now, event):
            raise
    context = store.read_for_booking(user_id, event.id, None, ticket_type.id)
    fresh = context.event.ticket_type(ticket_type.id) if context.event else None
    return _counted(rules, context.event, fresh, context.holding, quantity, now)


def _counted(
    rules: Rules,
    event: EventRecord | None,
    ticket_type: TicketType | None,
    holding: Holding,
    quantity: int,
    now: datetime,
) -> Stock:
    """`rules`, with each refusal for lack of tickets counted (the rules themselves are pure)."""
    try:
        return rules(event, ticket_type, holding, quantity, now)
    except (SoldOut, NotEnoughTickets):
        metrics.add_metric(name="SoldOutRejections", unit="Count", value=1)
        raise


def book(
    principal: Principal, event_id: str, request: BookingRequest, idempotency_key: str | None = None
) -> BookingOutcome:
    """Book `request.quantity` tickets of a type: one BatchGetItem (account, event and quota, holding, key,
    promo code) and one transaction.

    With an Idempotency-Key, the key commits in the booking's own transaction: of two racing
    requests one books, the other finds the key taken and answers with that booking. A promo code's uses
    move in the same transaction (docs/promo-codes.md); a code refused as invalid counts against the
    account's wrong-code ceiling first (429 once it is full).
    """
    event_id_or_404(event_id)
    if request.items is not None:  # an order: its refusals name their line, even of one
        from boxoffice.logic import orders  # it builds on this module

        return orders.book(principal, event_id, request, idempotency_key)
    now = clock.now()
    asked = request.promo_code
    ((type_id, quantity),) = request.lines()
    context = store.read_for_booking(principal.user_id, event_id, idempotency_key, type_id, asked)
    require_current(principal, context.user)
    claim = claimed(event_id, request, idempotency_key, now)
    # Expiry is checked here: DynamoDB's TTL deletes late, moto never does.
    if claim is not None and context.earlier is not None and context.earlier.expires_at > now.timestamp():
        return replay(context.earlier, claim, context.event)
    event, holding, code = context.event, context.holding, context.promo
    ticket_type = chosen_type(event, type_id)

    def attempt() -> BookingOutcome:
        nonlocal event, ticket_type, holding, code
        priced(asked, code, event, ticket_type, quantity, now)  # refused before the stock is judged
        stock = judged(principal.user_id, event, ticket_type, holding, quantity, now)
        sale = priced(asked, code, stock.event, stock.ticket_type, quantity, now)  # at the stock's price
        record = _new_record(principal.user_id, stock, quantity, now, sale)
        codes = signed_codes(record)
        try:
            earlier = store.create(
                record,
                codes=codes,
                event=stock.event,
                ticket_type=stock.ticket_type,
                holding=stock.holding,
                token_version=principal.token_version,
                claim=claim,
                now=now,
                redemption=sale,
            )
        except StockChanged as changed:
            event, ticket_type, holding = changed.event, changed.ticket_type, changed.holding  # judged again
            raise retry.Again() from None
        except PromoCodeChanged:
            code = reread(event_id, asked)
            raise retry.Again() from None
        except IdTaken:
            raise retry.Again() from None
        if earlier is not None and claim is not None:
            return replay(earlier, claim, stock.event)
        metrics.add_metric(name="BookingsCreated", unit="Count", value=1)
        metrics.add_metric(name="TicketsSold", unit="Count", value=record.quantity)
        logger.info(
            "Booking created", extra={"booking_id": record.id, "event_id": record.event_id, "quantity": record.quantity}
        )
        return BookingOutcome(public_booking(record, codes=codes), replayed=False)

    return counting_wrong_codes(principal.user_id, attempt)


def claimed(
    event_id: str,
    request: BookingRequest,
    idempotency_key: str | None,
    now: datetime,
    digest: Callable[[str, BookingRequest], str] = fingerprint,
) -> IdempotencyClaim | None:
    """The Idempotency-Key to commit with the booking (None: none given); `digest`: what "the same request"
    means for it (a hold's differs from a booking's)."""
    if idempotency_key is None:
        return None
    expires_at = int(now.timestamp()) + settings().idempotency_ttl_seconds
    return IdempotencyClaim(idempotency_key, digest(event_id, request), expires_at)


def reread(event_id: str, asked: str | None) -> PromoCode | None:
    """The code asked for as it is now, after a sale found it edited since its read (judged again)."""
    return promo_store.get(event_id, asked) if asked is not None else None


def counting_wrong_codes(user_id: str, attempt: Callable[[], T]) -> T:
    """`attempt`, retried; a code it refuses as invalid first counts against the account's wrong-code
    ceiling (TooManyWrongCodes instead, once the window is full)."""
    try:
        return retry.retried(attempt)
    except InvalidPromoCode:
        code_guesses.count_wrong(user_id, clock.epoch())
        raise


def _read_own(principal: Principal, booking_id: str) -> BookingRecord:
    return owned(principal, booking_id, shape=ids.is_ulid, read=store.read_booking, missing=BookingNotFound)


def get_booking(principal: Principal, booking_id: str) -> Booking:
    record = _read_own(principal, booking_id)
    _, details = store.read_details([record])
    return public_booking(record, details)


def list_bookings(principal: Principal, limit: int, cursor: str | None) -> Page[Booking]:
    """The caller's bookings, newest first, cancelled ones included: one Query and one BatchGetItem
    (account, the page's events and tickets)."""
    scope = f"bookings:{principal.user_id}"  # a cursor is good for its own user's list only
    after = _position(cursors.unseal(cursor, scope)) if cursor is not None else None
    records, more = store.list_page(principal.user_id, limit, after)
    user, details = store.read_details(records, user_id=principal.user_id)
    require_current(principal, user)
    next_cursor = cursors.seal({"after": records[-1].id}, scope) if more and records else None
    return Page[Booking](items=[public_booking(r, details) for r in records], next_cursor=next_cursor)


def _position(payload: dict[str, object]) -> str:
    after = payload.get("after")
    if not isinstance(after, str) or not ids.is_ulid(after):
        raise InvalidCursor()
    return after


def cancel_booking(principal: Principal, booking_id: str) -> Booking:
    """Cancel the caller's booking (all the tickets it has left) before its event starts: one BatchGetItem
    and one transaction."""
    record = _read_own(principal, booking_id)

    def judge(now_record: BookingRecord) -> None:
        if now_record.status == BookingStatus.CANCELLED:
            raise AlreadyCancelled()

    return _cancel(principal, record, None, judge)


def cancel_ticket(principal: Principal, booking_id: str, ticket_number: str) -> Booking:
    """Cancel one ticket of the caller's booking before its event starts (the booking too, if it is its last
    ticket): one BatchGetItem and one transaction, then one BatchGetItem of the tickets it has left to show
    them as they are. A ticket not of the booking is not found."""
    record = _read_own(principal, booking_id)
    number = ids.ticket_number(ticket_number)
    if number is None or number not in record.ticket_numbers:
        raise TicketNotFound()

    def judge(now_record: BookingRecord) -> None:
        if number not in now_record.live_tickets:
            raise TicketCancelled()

    try:
        return _cancel(principal, record, (number,), judge)
    except AlreadyCancelled:  # the whole booking went, this ticket with it
        raise TicketCancelled() from None


def _cancel(
    principal: Principal,
    record: BookingRecord,
    numbers: tuple[str, ...] | None,
    judge: Callable[[BookingRecord], None],
) -> Booking:
    """Cancel the booking's tickets `numbers` (None: all it has left) once `judge` allows it, judged again on
    the booking as a lost transaction saw it.

    The transaction checks the event against the booking's picture of it; if the event has changed
    since (renamed, deleted), the failed transaction shows it as it is and the cancel goes round again.
    """
    now = clock.now()
    seen = record.event

    def attempt() -> tuple[BookingRecord, Pool]:
        nonlocal record, seen
        judge(record)
        try:
            return store.cancel(record, seen=seen, token_version=principal.token_version, now=now, numbers=numbers)
        except EventChanged as changed:
            seen = _cancellable(seen, changed.seen, now)
        except BookingChanged as changed:
            record = changed.booking
        raise retry.Again()

    cancelled, pool = retry.retried(attempt)
    returned = record.quantity - (cancelled.quantity if cancelled.status == BookingStatus.CONFIRMED else 0)
    metrics.add_metric(name="BookingsCancelled" if numbers is None else "TicketsCancelled", unit="Count", value=1)
    metrics.add_metric(name="TicketsReleased", unit="Count", value=returned)
    logger.info(
        "Booking cancelled" if numbers is None else "Ticket cancelled",
        extra={"booking_id": record.id, "event_id": record.event_id, "quantity": returned},
    )
    if pool == Pool.RESERVED:  # kept for the waiting list: offered to it now
        offers.allocate(record.event_id)
    if cancelled.status == BookingStatus.CANCELLED:
        return public_booking(cancelled)
    # Its other tickets as they are (checked in, their codes), as GET /bookings/{id} shows them.
    _, details = store.read_details([cancelled])
    return public_booking(cancelled, details)


def _cancellable(seen: EventSnapshot, now_seen: tuple[datetime, EventStatus] | None, now: datetime) -> EventSnapshot:
    # Deleted events are cancellable (their tombstone takes the tickets back); started ones are not.
    if now_seen is None:
        raise EventNotFound()
    starts_at, status = now_seen
    if starts_at <= now:
        raise EventStarted()
    return replace(seen, starts_at=starts_at, status=status)
