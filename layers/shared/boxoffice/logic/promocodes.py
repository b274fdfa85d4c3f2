"""Promo and access codes: an admin creates, lists, changes and deletes an event's codes (docs/promo-codes.md).

A code is unique per event ignoring case (stored upper-case), takes exactly one discount whose amounts fit
the event's currency, and names only the event's own ticket types. What a code does to a price is
logic/pricing.py; redeeming it in a booking is the booking's transaction (store.promocodes.redeem).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from boxoffice import clock, cursors, ids, money, retry
from boxoffice.errors import EventNotFound, InvalidCursor, InvalidInput, PromoCodeNotFound
from boxoffice.logic.access import editable
from boxoffice.models.common import CODE_PATTERN, Page
from boxoffice.models.promocodes import DISCOUNTS, CreatePromoCode, PromoCodeOut, UpdatePromoCode
from boxoffice.records import Discount, EventRecord, PromoCode
from boxoffice.store import events as event_store
from boxoffice.store import promocodes as store
from boxoffice.vocabulary import DiscountKind, EventStatus, Principal

_CODE = re.compile(CODE_PATTERN)


def code_or_404(raw: str) -> str:
    """The code a path names, upper-case; anything that cannot be a code names none."""
    if not _CODE.match(raw):
        raise PromoCodeNotFound()
    return raw.upper()


def public(code: PromoCode, currency: str) -> PromoCodeOut:
    kind, value = code.discount.kind, code.discount.value
    amount = money.in_minor_units(value, currency) if kind is not DiscountKind.PERCENT else None
    return PromoCodeOut(
        id=code.id,
        code=code.code,
        percent=int(value) if kind is DiscountKind.PERCENT else None,
        amount_off=amount if kind is DiscountKind.AMOUNT_OFF else None,
        fixed_price=amount if kind is DiscountKind.FIXED_PRICE else None,
        ticket_type_ids=sorted(code.ticket_type_ids) if code.ticket_type_ids is not None else None,
        max_uses=code.max_uses,
        uses=code.uses,
        discount_given=money.in_minor_units(code.discount_given, currency),
        valid_from=code.valid_from,
        valid_until=code.valid_until,
        unlocks=sorted(code.unlocks),
        created_at=code.created_at,
        updated_at=code.updated_at,
    )


def _discount(fields: dict[str, Any]) -> Discount | None:
    """The one discount among the fields, if any was given."""
    for kind in DiscountKind:
        if fields.get(kind.value) is not None:
            return Discount(kind, Decimal(fields[kind.value]))
    return None


def _type_ids(event: EventRecord, given: list[str], field: str) -> frozenset[str]:
    for n, type_id in enumerate(given):
        if event.ticket_type(type_id) is None:
            raise InvalidInput("is not a ticket type of this event", field=f"{field}.{n}")
    return frozenset(given)


def _checked(event: EventRecord, code: PromoCode) -> PromoCode:
    """The code, if it fits its event: amounts in the currency's minor unit, a window that ends after it
    starts, an access code (percent 0) that unlocks something."""
    kind, value = code.discount.kind, code.discount.value
    if kind is not DiscountKind.PERCENT and not money.fits(value, event.currency):
        places = money.places(event.currency)
        raise InvalidInput(f"must have at most {places} decimal places in {event.currency}", field=kind.value)
    if kind is DiscountKind.PERCENT and value == 0 and not code.unlocks:
        raise InvalidInput("percent 0 is an access code: give the hidden types it unlocks", field="percent")
    if code.valid_from is not None and code.valid_until is not None and code.valid_until <= code.valid_from:
        raise InvalidInput("must be after valid_from", field="valid_until")
    return code


def _new(event: EventRecord, request: CreatePromoCode, now: datetime) -> PromoCode:
    discount = _discount(request.__dict__)
    assert discount is not None  # the model requires exactly one
    types = request.ticket_type_ids
    return _checked(
        event,
        PromoCode(
            id=ids.new_uuid(),
            event_id=event.id,
            code=request.code,
            discount=discount,
            ticket_type_ids=_type_ids(event, types, "ticket_type_ids") if types is not None else None,
            max_uses=request.max_uses,
            valid_from=request.valid_from,
            valid_until=request.valid_until,
            unlocks=_type_ids(event, request.unlocks, "unlocks"),
            created_at=now,
            updated_at=now,
            uses=0,
            discount_given=Decimal(0),
        ),
    )


def create_promo_code(principal: Principal, event_id: str, request: CreatePromoCode) -> PromoCodeOut:
    """POST /events/{id}/promo-codes: one transaction puts the code's items, if no code of the event has its
    text (409 PROMO_CODE_EXISTS), while the event is on sale with the types it names."""
    return _create(lambda: editable(principal, event_id), request)


def add_promo_code(event_id: str, request: CreatePromoCode) -> PromoCodeOut:
    """Create a code on behalf of the operator (sample data), as POST /events/{id}/promo-codes does."""

    def on_sale() -> EventRecord:
        event = event_store.get(event_id)
        if event is None or event.status != EventStatus.ON_SALE:
            raise EventNotFound()
        return event

    return _create(on_sale, request)


def _create(read: Callable[[], EventRecord], request: CreatePromoCode) -> PromoCodeOut:
    def attempt() -> PromoCodeOut:
        event = read()
        code = _new(event, request, clock.now())
        store.create(event, code)
        return public(code, event.currency)

    return retry.retried(attempt)


def list_promo_codes(principal: Principal, event_id: str, limit: int, cursor: str | None) -> Page[PromoCodeOut]:
    """GET /events/{id}/promo-codes: the event's codes in code order, each with its uses and discount given."""
    event = editable(principal, event_id, upgrading=False)
    scope = f"promo-codes:{event.id}"
    after = cursors.unseal(cursor, scope).get("after") if cursor is not None else None
    if cursor is not None and not (isinstance(after, str) and _CODE.match(after)):
        raise InvalidCursor()
    codes, last = store.page(event.id, limit, after)
    next_cursor = cursors.seal({"after": last}, scope) if last else None
    return Page[PromoCodeOut](items=[public(c, event.currency) for c in codes], next_cursor=next_cursor)


def _changed(event: EventRecord, old: PromoCode, changes: dict[str, Any]) -> PromoCode:
    fields: dict[str, Any] = {k: v for k, v in changes.items() if k not in DISCOUNTS}
    discount = _discount(changes)
    if discount is not None:
        fields["discount"] = discount
    if "ticket_type_ids" in fields and fields["ticket_type_ids"] is not None:
        fields["ticket_type_ids"] = _type_ids(event, fields["ticket_type_ids"], "ticket_type_ids")
    if "unlocks" in fields:
        fields["unlocks"] = _type_ids(event, fields["unlocks"], "unlocks")
    return _checked(event, dataclasses.replace(old, **fields))


def update_promo_code(principal: Principal, event_id: str, code: str, request: UpdatePromoCode) -> PromoCodeOut:
    """PATCH /events/{id}/promo-codes/{code}: any field but the code itself. A redemption racing the edit is
    applied under the code as it read it, or judged again under the new one (store.promocodes.redeem)."""
    changes = request.changes()

    def attempt() -> PromoCodeOut:
        event = editable(principal, event_id, upgrading=False)
        old = store.get(event.id, code_or_404(code))
        if old is None:
            raise PromoCodeNotFound()
        return public(store.update(event, old, _changed(event, old, changes)), event.currency)

    return retry.retried(attempt)


def delete_promo_code(principal: Principal, event_id: str, code: str) -> None:
    """DELETE /events/{id}/promo-codes/{code}: bookings made with it keep their prices; new ones cannot use it."""
    event = editable(principal, event_id, upgrading=False)
    store.delete(event.id, code_or_404(code))
