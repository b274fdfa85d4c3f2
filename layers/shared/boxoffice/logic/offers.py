"""The waiting list's allocator: tickets kept for the line go to the earliest entries they fit, as holds.

While anyone waits, tickets that come back (a cancel, a released or expired hold, more capacity) go to
the event's `reserved` pool instead of open sale (store/inventory.py: route_returned). This hands the
pool on: to the earliest WAITING entries whose quantity fits, whose type still sells and whose user has
room under the per-user cap, each as a hold for that user (one transaction per entry, store/offers.py);
an offer that expires comes back to the pool and goes to the next in line; once nobody waits, the pool
goes back on open sale. It runs right after anything that returns tickets or changes the line, and from
the sweeper for every event in the pool index, so a request cut short is made good within a sweep
period. No locks: each move is conditioned on the counts it read, so a race costs a read, never a ticket.
"""

from __future__ import annotations

from datetime import datetime

from boxoffice import clock
from boxoffice.ids import new_ulid
from boxoffice.observability import logger, metrics
from boxoffice.records import HELD, ON_SALE, EventRecord
from boxoffice.store import holds as hold_store
from boxoffice.store import offers as store
from boxoffice.store import waitlist as lines
from boxoffice.store.holds import HoldRecord
from boxoffice.store.offers import OfferRefused

READS = 3  # reads of the pool one allocation makes at most: each further one follows a race it lost
SWEEP_EVENTS = 100  # events with a pool one sweep hands on; the next sweep takes the rest


def allocate(event_id: str) -> int:
    """Hand on the event's reserved pool; how many offers this call made."""
    made = 0
    for _ in range(READS):
        event, listed = lines.read_pool(event_id)
        now = clock.now()
        if event is None:
            return made
        if not event.waiting:  # nobody waits: the pool goes back on open sale
            if (event.reserved or listed) and not lines.reopen(event_id, event.reserved):
                continue
            return made
        if not event.reserved:
            if listed:
                lines.unlist(event_id)  # fails (and stays listed) if tickets came back meanwhile
            return made
        if event.status != ON_SALE or event.starts_at <= now:
            if listed:  # nobody can be offered tickets of a deleted or started event: the sweeper stops looking
                lines.unlist(event_id, emptied=False)
            return made
        offered, left = _offer(event, now)
        made += offered
        if left is None or (left and offered):
            continue  # the pool changed under an offer, or the line may have emptied: read it again
        if left == 0 and listed:
            lines.unlist(event_id)  # fails (and stays listed) if tickets came back meanwhile
        return made
    return made


def _offer(event: EventRecord, now: datetime) -> tuple[int, int | None]:
    """Offer the pool down the line, in join order; the offers made and the tickets left (None: the pool
    changed since it was read)."""
    left, made = event.reserved, 0
    for entry in lines.line(event.id):
        if left == 0:
            break
        if entry.quantity > left:
            continue
        kind = event.ticket_type(entry.ticket_type_id)
        if kind is None or (kind.sales_end is not None and kind.sales_end <= now):
            lines.drop(entry, now=now)  # its type no longer sells: it would wait for nothing
            continue
        if kind.available_tickets is not None and kind.available_tickets < entry.quantity:
            continue  # its type's own sub-quota is short: the next in line may fit
        hold = HoldRecord(
            id=new_ulid(now),
            user_id=entry.user_id,
            event_id=event.id,
            ticket_type_id=kind.id,
            ticket_type_name=kind.name,
            ticket_type_quota=kind.total_tickets is not None,
            quantity=entry.quantity,
            unit_price=kind.price,
            currency=event.currency,
            status=HELD,
            expires_at=hold_store.expiry_of(now),
            created_at=now,
            waiting_entry_id=entry.id,
        )
        try:
            store.offer(entry, hold, event=event, ticket_type=kind, now=now)
        except OfferRefused as refused:
            if refused.pool:
                return made, None
            continue  # this entry left, or cannot have them now (cap, price): the next one may
        left -= entry.quantity
        made += 1
        metrics.add_metric(name="WaitingListOffers", unit="Count", value=1)
        logger.info("Waiting list offer", extra={"entry_id": entry.id, "hold_id": hold.id, "event_id": event.id})
    return made, left


def sweep() -> int:
    """The sweeper's safety net: every event in the pool index is handed on; how many offers it made."""
    return sum(allocate(event_id) for event_id in lines.pooled(SWEEP_EVENTS))
