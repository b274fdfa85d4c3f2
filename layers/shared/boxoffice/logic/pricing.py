"""What a booking costs under a promo code: pure rules, exact in the currency's minor unit (docs/promo-codes.md).

A code prices each ticket it applies to on its own, so every ticket of a line costs the same and a single
ticket's cancel gives back exactly what that ticket was paid:
- percent: the discount of one ticket is price x percent / 100, rounded half-even to the minor unit
  (JPY 0 places, EUR 2, KWD 3); the line's discount is that times the quantity;
- amount_off: that amount off each ticket, never more than its price;
- fixed_price: each ticket at that price, never above its own price.
A line's total is never below zero, and a booking's totals are the sums of its lines'.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from boxoffice import money
from boxoffice.errors import InvalidPromoCode, PromoCodeUsedUp, TicketTypeNotFound
from boxoffice.records import BookedType, Discount, PromoCode, Redemption, TicketType
from boxoffice.vocabulary import DiscountKind

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Line:
    """q tickets of one type: each at unit_price, `discount` off the line in all."""

    ticket_type_id: str
    quantity: int
    unit_price: Decimal
    discount: Decimal

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Decimal
    discount: Decimal
    total: Decimal


def ticket_discount(price: Decimal, discount: Discount, currency: str) -> Decimal:
    """What the discount takes off one ticket of `price`, in the currency's minor unit, 0 to price."""
    if discount.kind is DiscountKind.PERCENT:
        off = (price * discount.value / _HUNDRED).quantize(Decimal(1).scaleb(-money.places(currency)), ROUND_HALF_EVEN)
    elif discount.kind is DiscountKind.AMOUNT_OFF:
        off = discount.value
    else:
        off = price - discount.value
    return money.in_minor_units(min(max(off, Decimal(0)), price), currency)


def line(ticket_type_id: str, quantity: int, unit_price: Decimal, currency: str, code: PromoCode | None) -> Line:
    """A line of `quantity` tickets at `unit_price`, discounted by the code when it applies to the type."""
    off = Decimal(0)
    if code is not None and applies_to(code, ticket_type_id):
        off = ticket_discount(unit_price, code.discount, currency) * quantity
    price = money.in_minor_units(unit_price, currency)
    return Line(ticket_type_id, quantity, price, money.in_minor_units(off, currency))


def totals(lines: Iterable[Line], currency: str) -> Totals:
    """A booking's subtotal, discount and total: the sums of its lines'."""
    listed = list(lines)
    subtotal = sum((x.subtotal for x in listed), Decimal(0))
    discount = sum((x.discount for x in listed), Decimal(0))
    return Totals(*(money.in_minor_units(d, currency) for d in (subtotal, discount, subtotal - discount)))


# --- where and when a code applies ---


def applies_to(code: PromoCode, ticket_type_id: str) -> bool:
    """Whether the code discounts this type (every type of its event when it names none)."""
    return code.ticket_type_ids is None or ticket_type_id in code.ticket_type_ids


def unlocks(code: PromoCode | None, ticket_type_id: str) -> bool:
    """Whether the code lets its holder buy this hidden type."""
    return code is not None and ticket_type_id in code.unlocks


def valid_at(code: PromoCode, now: datetime) -> bool:
    """Whether `now` is within the code's window: from valid_from, until (not at) valid_until."""
    return (code.valid_from is None or code.valid_from <= now) and (code.valid_until is None or now < code.valid_until)


def uses_left(code: PromoCode) -> int | None:
    """Tickets the code may still be used for (None: unlimited; 0 once max_uses was lowered below its uses)."""
    return None if code.max_uses is None else max(code.max_uses - code.uses, 0)


def has_room(code: PromoCode, quantity: int) -> bool:
    """Whether `quantity` more tickets fit within max_uses (counted in tickets)."""
    left = uses_left(code)
    return left is None or quantity <= left


# --- a sale under a code ---


def redemption(
    asked: str | None, code: PromoCode | None, ticket_type: TicketType, quantity: int, currency: str, now: datetime
) -> Redemption | None:
    """The code `asked` for (None: none; `code`: it as read, None if unknown) as a sale of `quantity` tickets
    of the type uses it: all of them count in its uses, each discounted when the code applies to the type.
    Without a code a hidden type does not exist (404). InvalidPromoCode (one answer for every reason) when
    the code is unknown, outside its window, or neither discounts nor unlocks the type (a hidden type: does
    not unlock it); PromoCodeUsedUp when it has no room for the tickets."""
    if asked is None:
        if ticket_type.hidden:
            raise TicketTypeNotFound()
        return None
    usable = (
        unlocks(code, ticket_type.id)
        if ticket_type.hidden
        else code is not None and (applies_to(code, ticket_type.id) or unlocks(code, ticket_type.id))
    )
    if code is None or not usable or not valid_at(code, now):
        raise InvalidPromoCode()
    if not has_room(code, quantity):
        raise PromoCodeUsedUp()
    off = (
        ticket_discount(ticket_type.price, code.discount, currency) if applies_to(code, ticket_type.id) else Decimal(0)
    )
    return Redemption(code, quantity, off)


def shown_lines(types: Sequence[BookedType], priced: Sequence[Line], currency: str) -> list[dict[str, Any]]:
    """A booking's or a hold's lines as its answer shows them, each type's priced line in the currency."""

    def price(amount: Decimal) -> Decimal:
        return money.in_minor_units(amount, currency)

    return [
        {
            "ticket_type": {"id": t.id, "name": t.name},
            "quantity": p.quantity,
            "unit_price": price(p.unit_price),
            "discount": price(p.discount),
            "total": price(p.total),
        }
        for t, p in zip(types, priced, strict=True)
    ]
