"""Expired holds go back: by the scheduled sweep, and at once when a sale would be refused.

Each release is its own transaction conditioned on the hold still being HELD past its expiry, so a
hold is released exactly once whoever gets there first (the sweep, a refused request, its owner),
and a confirm that got there first keeps it. Nothing here trusts TTL or a previous sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from boxoffice import clock, deadline, retry
from boxoffice.logic import offers
from boxoffice.observability import logger, metrics
from boxoffice.records import EventRecord, HoldRecord
from boxoffice.store import holds as store
from boxoffice.store.holds import HoldChanged
from boxoffice.vocabulary import HoldStatus, Pool

IN_REQUEST_RELEASES = 10  # lapsed holds of its event a refused sale releases at most: the sweeper takes the rest
SWEEP_PAGE = 100  # holds a sweep round reads, over all the shards of by_expiry
# What a sweep keeps of its invocation's time: a page's last release, the waiting list's hand-on and its
# answer. Below it the run stops and the next one (a minute later) takes the rest.
SWEEP_RESERVE_SECONDS = 5.0


def release_expired(now: datetime, event: EventRecord) -> int:
    """Release up to IN_REQUEST_RELEASES of one event's holds past their expiry (a request's: its cost stays the
    same whatever the backlog); how many this call released. An event whose counters (as read, every shard)
    show nothing held has none to release: nothing is read."""
    if event.stock_known and event.held == 0:
        return 0
    sharded = event.stocked > 1
    holds = store.expired(now, event_id=event.id, sharded=sharded, limit=IN_REQUEST_RELEASES)
    return _release(holds, now, in_time=lambda: True)


def _time_left() -> bool:
    """Whether the invocation has more than the sweep's reserve left (always, outside an invocation)."""
    left = deadline.remaining()
    return left is None or left > SWEEP_RESERVE_SECONDS


def _release(holds: list[HoldRecord], now: datetime, *, in_time: Callable[[], bool]) -> int:
    released = 0
    pooled: set[str] = set()  # events whose returned tickets the waiting list keeps
    try:
        for hold in holds:
            if not in_time():
                break
            try:
                _, pool = store.release(hold, ended=HoldStatus.EXPIRED, now=now)
            except HoldChanged:
                continue  # confirmed or released meanwhile: someone else got there first
            released += 1
            if pool == Pool.RESERVED:
                pooled.add(hold.event_id)
            extra = {"hold_id": hold.id, "event_id": hold.event_id, "quantity": hold.quantity}
            logger.info("Hold expired", extra=extra)
    except retry.Again:
        _hand_on(pooled)  # the running step goes round again: what was released already is handed on
        raise
    if released:
        metrics.add_metric(name="HoldsExpired", unit="Count", value=released)
    _hand_on(pooled)
    return released


def _hand_on(pooled: set[str]) -> None:
    """An offer that lapsed passes to the next in line: once the running retry (a refused sale's) is over."""
    for event_id in sorted(pooled):
        retry.afterwards(partial(offers.allocate, event_id))


def expire_offer(user_id: str, hold_id: str, now: datetime) -> None:
    """A waiting-list offer past its expiry goes back now (its owner is joining again), by the same
    condition on its stored expiry as the sweep's: whoever comes first releases it, once, and its
    tickets pass to the next in line."""
    _, hold = store.read_hold(user_id, hold_id)
    if hold is not None:  # released, confirmed or expired meanwhile, _release's condition says so
        _release([hold], now, in_time=lambda: True)


def sweep() -> int:
    """The scheduled sweep: holds past their expiry go back, a round at a time (SWEEP_PAGE holds, spread over
    by_expiry's shards: store.ExpiredHolds), for as long as the invocation has more than
    SWEEP_RESERVE_SECONDS left (Lambda's remaining time, through boxoffice.deadline), not a count; then every
    pool kept for a waiting list is handed on, in case the request that filled it was cut short. A run short
    of time leaves the rest to the next one."""
    released = 0
    scan = store.ExpiredHolds()
    while not scan.done and _time_left():
        now = clock.now()
        released += _release(scan.next_round(now, limit=SWEEP_PAGE), now, in_time=_time_left)
    if _time_left():
        offers.sweep()
    return released
