"""Expired holds go back: by the scheduled sweep, and at once when a sale would be refused.

Each release is its own transaction conditioned on the hold still being HELD past its expiry, so a
hold is released exactly once whoever gets there first (the sweep, a refused request, its owner),
and a confirm that got there first keeps it. Nothing here trusts TTL or a previous sweep.
"""

from __future__ import annotations

from datetime import datetime

from boxoffice import clock
from boxoffice.logic import offers
from boxoffice.observability import logger, metrics
from boxoffice.records import EXPIRED
from boxoffice.store import holds as store
from boxoffice.store.holds import HoldChanged
from boxoffice.store.inventory import RESERVED

SWEEP_LIMIT = 1000  # holds one sweep releases at most; the next sweep (or a refused sale) takes the rest
IN_REQUEST_RELEASES = 10  # lapsed holds of its event a refused sale releases at most: the sweeper takes the rest


def release_expired(now: datetime, *, event_id: str | None = None) -> int:
    """Release holds past their expiry: up to IN_REQUEST_RELEASES of one event (a request's: its cost stays
    the same whatever the backlog), or up to SWEEP_LIMIT of all (the sweep's); how many this call released."""
    released = 0
    pooled: set[str] = set()  # events whose returned tickets the waiting list keeps
    limit = SWEEP_LIMIT if event_id is None else IN_REQUEST_RELEASES
    for hold in store.expired(now, event_id=event_id, limit=limit):
        try:
            _, pool = store.release(hold, ended=EXPIRED, now=now)
        except HoldChanged:
            continue  # confirmed or released meanwhile: someone else got there first
        released += 1
        if pool == RESERVED:
            pooled.add(hold.event_id)
        logger.info("Hold expired", extra={"hold_id": hold.id, "event_id": hold.event_id, "quantity": hold.quantity})
    if released:
        metrics.add_metric(name="HoldsExpired", unit="Count", value=released)
    for pooled_event in sorted(pooled):
        offers.allocate(pooled_event)  # an offer that lapsed passes to the next in line
    return released


def expire_offer(user_id: str, hold_id: str, now: datetime) -> None:
    """A waiting-list offer past its expiry goes back now (its owner is joining again), by the same
    condition on its stored expiry as the sweep's: whoever comes first releases it, once, and its
    tickets pass to the next in line."""
    _, hold = store.read_hold(user_id, hold_id)
    if hold is None:
        return
    try:
        _, pool = store.release(hold, ended=EXPIRED, now=now)
    except HoldChanged:
        return  # released, confirmed or expired meanwhile: it no longer holds the entry either way
    metrics.add_metric(name="HoldsExpired", unit="Count", value=1)
    logger.info("Hold expired", extra={"hold_id": hold.id, "event_id": hold.event_id, "quantity": hold.quantity})
    if pool == RESERVED:
        offers.allocate(hold.event_id)


def sweep() -> int:
    """The scheduled sweep: every hold past its expiry goes back (up to SWEEP_LIMIT a run); then every pool
    kept for a waiting list is handed on, in case the request that filled it was cut short."""
    released = release_expired(clock.now())
    offers.sweep()
    return released
