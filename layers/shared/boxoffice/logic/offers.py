"""The waiting list's allocator: tickets kept for the line go to the earliest entries they fit, as holds.

While anyone waits, tickets that come back (a cancel, a released or expired hold, more capacity) go to
the event's `reserved` pool instead of open sale (store/inventory.py: route_returned). This hands the
pool on: to the earliest WAITING entries whose quantity fits, whose type still sells and whose user has
room under the per-user cap, each as a hold for that user (one transaction per entry, store/offers.py);
an offer that expires comes back to the pool and goes to the next in line; once nobody waits, the pool
goes back on open sale, and so does a pool nobody in the line can take (held back by their type's own
sub-quota or their cap, not by the pool's size). It runs right after anything that returns tickets or
changes the line, reading only the head of the line (a request's work does not grow with it), and from
the sweeper for every event in the pool index, reading deeper, so a request cut short is made good
within a sweep period. The sweeper also ends the lines of deleted and started events (CLOSED). No locks:
each move is conditioned on the counts it read, so a race costs a read, never a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from boxoffice import clock, ids
from boxoffice.logic.sales import on_sale, selling
from boxoffice.observability import logger, metrics
from boxoffice.records import EventRecord, HoldRecord
from boxoffice.store import holds as hold_store
from boxoffice.store import offers as store
from boxoffice.store import waitlist as lines
from boxoffice.store.offers import OfferRefused
from boxoffice.vocabulary import EntryStatus, HoldStatus

READS = 3  # reads of the pool one allocation makes at most: each further one follows a race it lost
# Line items one allocation reads: a request reads the head of the line, a constant whatever its length;
# the sweeper reads deeper (one Query either way), so an entry that fits behind a long line of entries that
# do not is offered within a sweep period.
LINE_WINDOW = 25
SWEEP_WINDOW = 1000
CLOSE_WINDOW = 100  # entries of a closed line one sweep ends (a transaction each); the next sweep goes on
SWEEP_EVENTS = 100  # events with a pool one sweep hands on; the next sweep takes the rest
# The sweeper closes the lines of events that started this recently (a few runs: a missed run is made good).
STARTED_LOOKBACK = timedelta(minutes=3)


def allocate(event_id: str, *, sweeping: bool = False) -> int:
    """Hand on the event's reserved pool to the head of its line (LINE_WINDOW entries; SWEEP_WINDOW when
    `sweeping`); how many offers this call made. A closed line (its event deleted or started) is left to the
    sweeper, which ends it CLOSE_WINDOW entries a run."""
    window = SWEEP_WINDOW if sweeping else LINE_WINDOW
    made = 0
    for _ in range(READS):
        event, listed = lines.read_pool(event_id)
        now = clock.now()
        if event is None:
            return made
        if not event.waiting:  # nobody waits: the pool goes back on open sale
            if event.reserved and not lines.reopen(event_id, event.reserved):
                continue
            if listed and not event.reserved:
                lines.unlist(event_id)  # (a deleted event is listed whether or not anyone waited)
            return made
        if not on_sale(event.status, event.starts_at, now):  # people wait only for what may sell
            if not sweeping:
                if not listed:
                    lines.relist(event_id)  # a request ends no line: the sweeper will
                return made
            if not _close(event, listed, now):
                continue
            return made
        if not event.reserved:
            if listed:
                lines.unlist(event_id)  # fails (and stays listed) if tickets came back meanwhile
            return made
        turn = _offer(event, window, now)
        made += turn.offered
        if turn.changed:
            continue  # the pool or the line changed under this pass: judge it again from a new read
        if turn.left == 0:
            if listed:
                lines.unlist(event_id)  # fails (and stays listed) if tickets came back meanwhile
        elif not turn.wanted and not turn.more and not lines.release_pool(event_id, turn.left, event.waiting):
            continue  # nobody in line can take them: back on open sale, unless the line changed meanwhile
        return made
    return made


def _close(event: EventRecord, listed: bool, now: datetime) -> bool:
    """End CLOSE_WINDOW entries of a closed line (CLOSED) and put its pool back on open sale; stays listed
    for the next sweep while entries remain. False when the pool or the line changed since it was read."""
    if event.reserved and not lines.release_pool(event.id, event.reserved, event.waiting):
        return False
    entries, more = lines.line(event.id, CLOSE_WINDOW)
    for entry in entries:
        lines.drop(entry, status=EntryStatus.CLOSED, now=now)
    if more:
        lines.relist(event.id)
    elif listed and not event.reserved:
        lines.unlist(event.id)
    return True


@dataclass(frozen=True, slots=True)
class _Turn:
    offered: int  # offers made
    left: int  # tickets of the pool not offered
    changed: bool  # the pool changed under an offer, or entries were offered or ended: read again
    wanted: bool  # some entry read waits for more tickets than are left, and nothing else holds it back
    more: bool  # the line goes on past the entries read


def _offer(event: EventRecord, window: int, now: datetime) -> _Turn:
    """Offer the pool down the first `window` entries of the line, in join order.

    An entry that wants more than is left may take them once more come back, so the pool is kept for it;
    one that cannot take them however many come back (its type's own sub-quota is short, its user is at the
    cap, its type changed price) is passed over; one whose type no longer sells is ended."""
    left, made, ended, wanted = event.reserved, 0, 0, False
    entries, more = lines.line(event.id, window)
    for entry in entries:
        if left == 0:
            break
        kind = event.ticket_type(entry.ticket_type_id)
        if kind is None or not selling(kind, now):
            lines.drop(
                entry, status=EntryStatus.EXPIRED, now=now
            )  # its type no longer sells: it would wait for nothing
            ended += 1
            continue
        if kind.available_tickets is not None and kind.available_tickets < entry.quantity:
            continue  # its type's own sub-quota is short: the next in line may fit
        if entry.quantity > left:
            wanted = True
            continue
        hold = HoldRecord(
            id=ids.new_booking_id(now),
            user_id=entry.user_id,
            event_id=event.id,
            ticket_type_id=kind.id,
            ticket_type_name=kind.name,
            ticket_type_quota=kind.total_tickets is not None,
            quantity=entry.quantity,
            unit_price=kind.price,
            currency=event.currency,
            status=HoldStatus.HELD,
            expires_at=hold_store.expiry_of(now),
            created_at=now,
            waiting_entry_id=entry.id,
        )
        try:
            store.offer(entry, hold, event=event, ticket_type=kind, now=now)
        except OfferRefused as refused:
            if refused.pool:
                return _Turn(made, left, changed=True, wanted=wanted, more=more)
            continue  # this entry left, or cannot have them now (cap, price): the next one may
        left -= entry.quantity
        made += 1
        metrics.add_metric(name="WaitingListOffers", unit="Count", value=1)
        logger.info("Waiting list offer", extra={"entry_id": entry.id, "hold_id": hold.id, "event_id": event.id})
    changed = bool(left and (made or ended))  # the line may have emptied, or an entry that fits moved up
    return _Turn(made, left, changed=changed, wanted=wanted, more=more)


def sweep() -> int:
    """The sweeper's safety net: every event in the pool index is handed on, reading deeper into its line
    than a request does, and the lines of events that just started are closed; how many offers it made."""
    now = clock.now()
    pooled = lines.pooled(SWEEP_EVENTS)
    started = lines.started(now - STARTED_LOOKBACK, now, SWEEP_EVENTS)
    return sum(allocate(event_id, sweeping=True) for event_id in dict.fromkeys(pooled + started))
