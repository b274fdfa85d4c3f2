"""An event's numbers for its organiser: sold, available, checked in, cancelled, and revenue per currency,
in total and per ticket type.

Every number is a counter moved in the same transaction as the change it counts (a booking, a hold and its
confirm, release or expiry, a cancel, a check-in or its undo), so the answer is two reads and always adds
up: sold + held + reserved + available == total; and a third, of its promo codes' counters.
"""

from __future__ import annotations

from boxoffice import money
from boxoffice.errors import EventNotFound
from boxoffice.logic.access import event_id_or_404
from boxoffice.logic.permissions import require_current
from boxoffice.models.stats import STATS_CODES, EventStats, PromoCodeStats, TicketTypeStats
from boxoffice.records import TypeStatsRecord
from boxoffice.store import promocodes as promo_store
from boxoffice.store import stats as store
from boxoffice.vocabulary import Principal


def event_stats(principal: Principal, event_id: str) -> EventStats:
    """Two BatchGetItems: the admin's account, the event and its check-in count shards; its types' counters;
    one Query of its first promo codes' counters."""
    event_id_or_404(event_id)
    account, record = store.read(event_id, principal.user_id)
    require_current(principal, account)
    if record is None:
        raise EventNotFound()
    event = record.event
    return EventStats(
        event_id=event.id,
        total_tickets=event.total_tickets,
        sold=event.sold,
        held=event.held,
        reserved=event.reserved,
        available=event.available_tickets,
        checked_in=record.checked_in,
        cancelled=record.cancelled,
        revenue=dict(sorted(record.revenue.items())),
        ticket_types=[_type_stats(t) for t in record.ticket_types],
        promo_codes=[
            PromoCodeStats(code=code, uses=uses, discount=money.in_minor_units(given, event.currency))
            for code, uses, given in promo_store.usage(event.id, STATS_CODES)
        ],
    )


def _type_stats(record: TypeStatsRecord) -> TicketTypeStats:
    kind = record.ticket_type
    return TicketTypeStats(
        id=kind.id,
        name=kind.name,
        hidden=kind.hidden,
        sold=kind.sold,
        held=kind.held,
        available=kind.available_tickets,
        checked_in=record.checked_in,
        cancelled=record.cancelled,
        revenue=dict(sorted(record.revenue.items())),
    )
