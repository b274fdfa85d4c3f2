"""Domain records for unit tests that need no DynamoDB."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boxoffice.records import Discount, EventRecord, PromoCode, TicketType
from boxoffice.vocabulary import DiscountKind, EventStatus

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

_TYPE = TicketType(
    id="0c5a6d0e-2b1f-4c3d-8e9f-1a2b3c4d5e6f",
    name="General admission",
    description="",
    price=Decimal("25.00"),
    total_tickets=None,
    max_tickets_per_booking=10,
    sales_start=None,
    sales_end=None,
    created_at=NOW,
)

_EVENT = EventRecord(
    id="6f1c2f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f",
    name="Moonlight Sonata",
    description="",
    venue="Royal Hall",
    starts_at=NOW + timedelta(days=1),
    timezone="UTC",
    total_tickets=100,
    available_tickets=100,
    currency="EUR",
    max_tickets_per_booking=10,
    max_tickets_per_user=None,
    status=EventStatus.ON_SALE,
    created_at=NOW,
    updated_at=NOW,
    ticket_types=(_TYPE,),
)


def ticket_type(**overrides: Any) -> TicketType:
    """A type with no sub-quota or sales window, 25.00 EUR, up to 10 per booking."""
    return replace(_TYPE, **overrides)


def event_record(**overrides: Any) -> EventRecord:
    """An event on sale tomorrow (relative to NOW), 100 tickets of one type at 25.00 EUR."""
    return replace(_EVENT, **overrides)


def promo_code(kind: DiscountKind = DiscountKind.PERCENT, value: str = "10", **changes: Any) -> PromoCode:
    """EARLY10 of event e1 (10% off every type, unlimited, always valid, never used), with `changes`."""
    base = PromoCode(
        id="c1",
        event_id="e1",
        code="EARLY10",
        discount=Discount(kind, Decimal(value)),
        ticket_type_ids=None,
        max_uses=None,
        valid_from=None,
        valid_until=None,
        unlocks=frozenset(),
        created_at=NOW,
        updated_at=NOW,
        uses=0,
        discount_given=Decimal(0),
    )
    return replace(base, **changes)
