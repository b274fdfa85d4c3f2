"""Checkout holds: tickets kept for a buyer while they pay, confirmed into a booking or given back.

The rules: a hold takes tickets of a type under exactly a booking's conditions, and within the event's
hold ceilings and cool-down (logic/sales.py: holdable; holds count toward the per-user cap), and keeps
them until `expires_at` (HOLD_SECONDS after it was placed); only its owner sees, confirms or releases it;
confirming makes exactly one booking at the hold's price, and only before `expires_at` and before the
event starts; a hold past `expires_at` is EXPIRED whether or not its tickets were swept back yet. One
account keeps at most the event's hold ceilings off sale (live held tickets, live holds), and may not
hold again until a cool-down after a hold of theirs expired has passed. The store enforces each of these
inside the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from boxoffice import clock, ids, retry
from boxoffice.config import settings
from boxoffice.errors import (
    HoldConfirmed,
    HoldExpired,
    HoldNotFound,
    HoldReleased,
    IdempotencyKeyReused,
)
from boxoffice.logic import offers, pricing
from boxoffice.logic.access import event_id_or_404
from boxoffice.logic.bookings import (
    BookingOutcome,
    claimed,
    counting_wrong_codes,
    fingerprint,
    get_booking,
    judged,
    new_record,
    priced,
    public_booking,
    replay,
    reread,
    signed_codes,
    used,
)
from boxoffice.logic.permissions import owned, require_current
from boxoffice.logic.sales import chosen_type, confirmable, holdable
from boxoffice.models.bookings import BookingRequest
from boxoffice.models.holds import Hold
from boxoffice.observability import logger, metrics
from boxoffice.records import (
    BookedLine,
    BookingRecord,
    EventRecord,
    HeldLine,
    HoldRecord,
    IdempotencyClaim,
    IdempotencyRecord,
    PromoCode,
)
from boxoffice.store import bookings as booking_store
from boxoffice.store import holds as store
from boxoffice.store.bookings import IdTaken
from boxoffice.store.holds import EventGone, HoldChanged
from boxoffice.store.inventory import StockChanged
from boxoffice.store.promocodes import PromoCodeChanged
from boxoffice.vocabulary import HoldStatus, Pool, Principal

if TYPE_CHECKING:
    from boxoffice.logic.orders import LineSale

# --- hold expiry: pure decisions over a hold record and the time ---


def lapsed(hold: HoldRecord, now: datetime) -> bool:
    """Still HELD at or past its expiry: expired, whether or not its tickets have been swept back yet."""
    return hold.status == HoldStatus.HELD and hold.expires_at <= now


def still_held(hold: HoldRecord, now: datetime) -> None:
    """Nothing, if the hold can still be confirmed or released by its owner; else the error saying why."""
    if hold.status == HoldStatus.RELEASED:
        raise HoldReleased()
    if hold.status == HoldStatus.EXPIRED or hold.expires_at <= now:
        raise HoldExpired()
    if hold.status == HoldStatus.CONFIRMED:
        raise HoldConfirmed()


def ending(hold: HoldRecord, now: datetime) -> HoldStatus:
    """How its owner's release ends the hold: EXPIRED once lapsed (its tickets go back all the same, and the
    answer is HOLD_EXPIRED), RELEASED while still held; else the error saying why neither."""
    if lapsed(hold, now):
        return HoldStatus.EXPIRED
    still_held(hold, now)
    return HoldStatus.RELEASED


def public_hold(record: HoldRecord, now: datetime) -> Hold:
    lines = record.held_lines
    priced = [pricing.Line(x.ticket_type.id, x.quantity, x.unit_price, x.unit_discount * x.quantity) for x in lines]
    totals = pricing.totals(priced, record.currency)
    single = len(lines) == 1
    return Hold.model_validate(
        {
            "id": record.id,
            "event_id": record.event_id,
            "ticket_type": {"id": record.ticket_type_id, "name": record.ticket_type_name} if single else None,
            "quantity": record.quantity,
            "lines": pricing.shown_lines([x.ticket_type for x in lines], priced, record.currency),
            "status": HoldStatus.EXPIRED if lapsed(record, now) else record.status,
            "expires_at": record.expires_at,
            "unit_price": record.unit_price if single else None,
            "promo_code": record.promo_code,
            "subtotal": totals.subtotal,
            "discount": totals.discount,
            "total": totals.total,
            "total_price": totals.total,
            "currency": record.currency,
            "created_at": record.created_at,
            "booking_id": record.booking_id,
        }
    )


@dataclass(frozen=True, slots=True)
class HoldOutcome:
    hold: Hold
    replayed: bool  # the Idempotency-Key's earlier hold: nothing new was held


def _fingerprint(event_id: str, request: BookingRequest) -> str:
    # Not a booking's: a key used to book and then to hold (or back) is a key reused.
    return hashlib.sha256(f"hold:{fingerprint(event_id, request)}".encode()).hexdigest()


def _replay(principal: Principal, earlier: IdempotencyRecord, claim: IdempotencyClaim, now: datetime) -> HoldOutcome:
    """The key's hold as it is now (one BatchGetItem), if the key was first used for this same request."""
    if earlier.fingerprint != claim.fingerprint or earlier.hold_id is None:  # None: the key made a booking
        raise IdempotencyKeyReused()
    _, hold = store.read_hold(principal.user_id, earlier.hold_id)
    if hold is None:
        raise HoldNotFound()
    logger.info("Hold replayed for its Idempotency-Key", extra={"hold_id": hold.id})
    return HoldOutcome(public_hold(hold, now), replayed=True)


def place_hold(
    principal: Principal, event_id: str, request: BookingRequest, idempotency_key: str | None = None
) -> HoldOutcome:
    """Take `request.quantity` tickets of a type off sale for HOLD_SECONDS: one BatchGetItem (account, event
    and quota, holding, key, promo code) and one transaction. With an Idempotency-Key, the key commits in the
    hold's own transaction: of two racing requests one holds, the other finds the key taken and answers with
    that hold. A promo code is judged and its uses move as a booking's; they go back if the hold does."""
    event_id_or_404(event_id)
    now = clock.now()
    asked = request.promo_code
    if request.items is not None:  # a cart: its refusals name their line, even of one
        return _place_cart(principal, event_id, request, idempotency_key)
    ((type_id, quantity),) = request.lines()
    context = booking_store.read_for_booking(principal.user_id, event_id, idempotency_key, type_id, asked)
    require_current(principal, context.user)
    claim = claimed(event_id, request, idempotency_key, now, digest=_fingerprint)
    if claim is not None and context.earlier is not None and context.earlier.expires_at > now.timestamp():
        return _replay(principal, context.earlier, claim, now)
    event, holding, code = context.event, context.holding, context.promo
    ticket_type = chosen_type(event, type_id)

    def attempt() -> HoldOutcome:
        nonlocal event, ticket_type, holding, code
        priced(asked, code, event, ticket_type, quantity, now)  # refused before the stock is judged
        stock = judged(principal.user_id, event, ticket_type, holding, quantity, now, rules=holdable)
        kind = stock.ticket_type
        sale = priced(asked, code, stock.event, kind, quantity, now)  # at the price the stock sells at
        expires_at = store.expiry_of(now)
        record = HoldRecord(
            id=ids.new_booking_id(now),
            user_id=principal.user_id,
            event_id=stock.event.id,
            ticket_type_id=kind.id,
            ticket_type_name=kind.name,
            ticket_type_quota=kind.total_tickets is not None,
            quantity=quantity,
            unit_price=kind.price,
            currency=stock.event.currency,
            status=HoldStatus.HELD,
            expires_at=expires_at,
            created_at=now,
            cooldown_until=expires_at + stock.event.cooldown,
            **used(sale),
        )
        try:
            earlier = store.place(
                record,
                event=stock.event,
                ticket_type=kind,
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
            return _replay(principal, earlier, claim, now)
        return _placed(record, now)

    return counting_wrong_codes(principal.user_id, attempt)


def _place_cart(
    principal: Principal, event_id: str, request: BookingRequest, idempotency_key: str | None
) -> HoldOutcome:
    """Hold a cart of several lines as an order is booked (logic/orders.py), under the hold rules on their
    sum: one BatchGetItem (two for a sharded event) and one transaction."""
    from boxoffice.logic import orders  # only carts load the orders' rules and store
    from boxoffice.store import orders as orders_store

    now = clock.now()
    wanted = request.lines()
    orders.distinct(wanted)
    reader = orders.Reader(principal.user_id, event_id, idempotency_key, wanted, request.promo_code, holdable)
    context = reader.read()
    require_current(principal, context.user)
    claim = claimed(event_id, request, idempotency_key, now, digest=_fingerprint)
    if claim is not None and context.earlier is not None and context.earlier.expires_at > now.timestamp():
        return _replay(principal, context.earlier, claim, now)

    def attempt() -> HoldOutcome:
        nonlocal context
        context, sales, redemption = orders.judged(reader, context, now)
        event = context.event
        assert event is not None  # judged
        plans = orders.planned(event, sales)
        record = _cart(principal.user_id, event, sales, plans, now, context.promo)
        try:
            earlier = orders_store.place(
                record,
                event=event,
                lines=orders.taken(sales, plans, selling=False),
                holding=context.holding,
                token_version=principal.token_version,
                claim=claim,
                now=now,
                redemption=redemption,
            )
        except (orders_store.OrderStockChanged, PromoCodeChanged, IdTaken):
            context = reader.read()  # judged again on the counters and the code as they are now
            raise retry.Again() from None
        if earlier is not None and claim is not None:
            return _replay(principal, earlier, claim, now)
        return _placed(record, now)

    return counting_wrong_codes(principal.user_id, attempt)


def _placed(record: HoldRecord, now: datetime) -> HoldOutcome:
    """A hold just placed (one type or a cart), counted and logged."""
    metrics.add_metric(name="HoldsPlaced", unit="Count", value=1)
    logger.info("Hold placed", extra={"hold_id": record.id, "event_id": record.event_id, "quantity": record.quantity})
    return HoldOutcome(public_hold(record, now), replayed=False)


def _cart(
    user_id: str,
    event: EventRecord,
    sales: Sequence[LineSale],
    plans: Sequence[dict[int, int]],
    now: datetime,
    code: PromoCode | None,
) -> HoldRecord:
    """A new HELD cart of the lines, each held in the shards of its plan."""
    lines = tuple(
        HeldLine(
            x.ticket_type.booked,
            x.quantity,
            x.ticket_type.price,
            x.unit_discount,
            promo_counted=x.counted,
            shards=tuple(sorted(plan.items())),
        )
        for x, plan in zip(sales, plans, strict=True)
    )
    first, expires_at = lines[0], store.expiry_of(now)
    return HoldRecord(
        id=ids.new_booking_id(now),
        user_id=user_id,
        event_id=event.id,
        ticket_type_id=first.ticket_type.id,
        ticket_type_name=first.ticket_type.name,
        ticket_type_quota=first.ticket_type.sub_quota,
        quantity=sum(x.quantity for x in lines),
        unit_price=first.unit_price,
        currency=event.currency,
        status=HoldStatus.HELD,
        expires_at=expires_at,
        created_at=now,
        cooldown_until=expires_at + event.cooldown,
        promo_code=code.code if code else None,
        promo_code_id=code.id if code and any(x.promo_counted for x in lines) else None,
        unit_discount=first.unit_discount,
        lines=lines,
    )


def _read_own(principal: Principal, hold_id: str) -> HoldRecord:
    return owned(principal, hold_id, shape=ids.is_ulid, read=store.read_hold, missing=HoldNotFound)


def get_hold(principal: Principal, hold_id: str) -> Hold:
    return public_hold(_read_own(principal, hold_id), clock.now())


def _already(principal: Principal, hold: HoldRecord, now: datetime) -> BookingOutcome:
    """A hold past confirming: its one booking if it was confirmed (confirming again answers with that
    booking, as GET /bookings/{id} shows it), else the error that says why not."""
    if hold.status == HoldStatus.CONFIRMED and hold.booking_id is not None:
        return BookingOutcome(get_booking(principal, hold.booking_id), replayed=True)
    still_held(hold, now)
    raise HoldNotFound()


def confirm_hold(principal: Principal, hold_id: str, idempotency_key: str | None = None) -> BookingOutcome:
    """Turn the caller's hold into a booking at the hold's price: one BatchGetItem (account, hold, key),
    one GetItem (its event) and one transaction. A hold makes one booking however often it is confirmed:
    a repeat, or one that lost a race to another confirm, answers with that booking."""
    if not ids.is_ulid(hold_id):
        raise HoldNotFound()
    now = clock.now()
    context = store.read_for_confirm(principal.user_id, hold_id, idempotency_key)
    require_current(principal, context.user)
    claim = None
    if idempotency_key is not None:
        fingerprint = hashlib.sha256(f"confirm:{hold_id}".encode()).hexdigest()
        claim = IdempotencyClaim(
            idempotency_key, fingerprint, int(now.timestamp()) + settings().idempotency_ttl_seconds
        )
        if context.earlier is not None and context.earlier.expires_at > now.timestamp():
            return replay(context.earlier, claim, None)
    hold = context.hold
    if hold is None:
        raise HoldNotFound()
    if hold.status != HoldStatus.HELD or lapsed(hold, now):
        return _already(principal, hold, now)
    seen = store.event_of(hold)

    def attempt() -> BookingOutcome:
        nonlocal seen
        event = confirmable(seen, now)
        record = new_record(
            principal.user_id,
            event,
            ticket_type=hold.booked_type,
            quantity=hold.quantity,
            unit_price=hold.unit_price,
            currency=hold.currency,
            now=now,
            promo_code=hold.promo_code,
            promo_code_id=hold.promo_code_id,
            unit_discount=hold.unit_discount,
        )
        if hold.lines:  # a cart: its lines, each with fresh ticket numbers, as held
            record = _with_lines(record, hold)
        codes = signed_codes(record)
        try:
            earlier = store.confirm(
                hold, record, codes=codes, token_version=principal.token_version, claim=claim, now=now
            )
        except HoldChanged as changed:
            # Confirmed by a racing request, released or expired meanwhile: the transaction's ALL_OLD says which.
            if changed.hold is None:
                raise HoldNotFound() from None
            return _already(principal, changed.hold, now)
        except EventGone as gone:
            # Deleted or started since our read: its quota, as the transaction saw it, says which.
            seen = replace(event, starts_at=gone.seen[0], status=gone.seen[1]) if gone.seen else None
            raise retry.Again() from None
        except IdTaken:
            raise retry.Again() from None
        if earlier is not None and claim is not None:
            return replay(earlier, claim, event)
        metrics.add_metric(name="HoldsConfirmed", unit="Count", value=1)
        metrics.add_metric(name="BookingsCreated", unit="Count", value=1)
        metrics.add_metric(name="TicketsSold", unit="Count", value=record.quantity)
        logger.info("Hold confirmed", extra={"hold_id": hold.id, "booking_id": record.id, "event_id": hold.event_id})
        return BookingOutcome(public_booking(record, codes=codes), replayed=False)

    return retry.retried(attempt)


def _with_lines(record: BookingRecord, hold: HoldRecord) -> BookingRecord:
    """A confirmed cart's booking: its lines as held, each with its share of the record's ticket numbers."""
    numbers = iter(record.ticket_numbers)
    lines = tuple(
        BookedLine(
            x.ticket_type,
            tuple(next(numbers) for _ in range(x.quantity)),
            x.unit_price,
            x.unit_discount,
            promo_counted=x.promo_counted,
            shards=x.shards,
        )
        for x in hold.lines
    )
    total = sum((x.net_unit_price * len(x.ticket_numbers) for x in lines), Decimal(0))
    return replace(record, total_price=total, lines=lines)


def release_hold(principal: Principal, hold_id: str) -> Hold:
    """The owner gives the tickets back before the hold expires: one BatchGetItem, one transaction.

    Past expires_at the hold is released as EXPIRED (its tickets go back all the same) and the answer is
    HOLD_EXPIRED, as it would be had a sweep got there first.
    """
    hold = _read_own(principal, hold_id)
    now = clock.now()

    def attempt() -> tuple[HoldRecord, Pool]:
        nonlocal hold
        ended = ending(hold, now)
        # Past its expiry the hold is no longer its owner's to release: no token check, as a sweep's.
        by = principal.token_version if ended == HoldStatus.RELEASED else None
        try:
            return store.release(hold, ended=ended, now=now, token_version=by)
        except HoldChanged as changed:
            hold = changed.hold or hold
            raise retry.Again() from None

    released, pool = retry.retried(attempt)
    if pool == Pool.RESERVED:  # kept for the waiting list: offered to the next in line now
        offers.allocate(hold.event_id)
    if released.status == HoldStatus.EXPIRED:
        raise HoldExpired()
    metrics.add_metric(name="HoldsReleased", unit="Count", value=1)
    logger.info("Hold released", extra={"hold_id": hold.id, "event_id": hold.event_id, "quantity": hold.quantity})
    return public_hold(released, now)
