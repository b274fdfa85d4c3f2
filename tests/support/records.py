"""Store records for unit tests that need no DynamoDB."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boxoffice.store.events import EventRecord

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

_EVENT = EventRecord(
    id="6f1c2f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f",
    name="Moonlight Sonata",
    description="",
    venue="Royal Hall",
    starts_at=NOW + timedelta(days=1),
    total_tickets=100,
    available_tickets=100,
    ticket_price=Decimal("25.00"),
    currency="EUR",
    max_tickets_per_booking=10,
    status="ON_SALE",
    created_at=NOW,
    updated_at=NOW,
)


def event_record(**overrides: Any) -> EventRecord:
    """An event on sale tomorrow (relative to NOW), 100 tickets at 25.00 EUR."""
    return replace(_EVENT, **overrides)
