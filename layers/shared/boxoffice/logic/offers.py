"""The waiting list's allocator: tickets kept for the line go to the earliest entries they fit, as holds.

While anyone waits, tickets that come back (a cancel, a released or expired hold, more capacity) go to
the event's `reserved` pool instead of open sale (store/inventory.py: route_returned). This hands the
pool on: to the earliest WAITING entries whose quantity fits, whose type still sells and whose user has
room under the per-user cap, each as a hold for that user (one transaction per entry, store/offers.py);
an offer that expires comes back to the pool and goes to the next in line; once nobody waits, the pool
goes back on open sale, and so does a pool nobody in the line can take (held back by their type's own
sub-quota or their cap, not by the pool's size). It runs right after anything that returns tickets or
changes the line, reading only the head of the line, merged over its shards in join order (a request's
work does not grow with it), and from the sweeper for every event in the pool index, reading deeper, so a
request cut short is made good within a sweep period. The sweeper also ends the lines of deleted and
started events (CLOSED). No locks: each move is conditioned on the counts it read,
so a race costs a read, never a ticket.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from boxoffice import clock, ids, retry
from boxoffice.errors import Busy, Throttled
from boxoffice.logic.sales import on_sale, selling
from boxoffice.observability import logger, metrics
from boxoffice.records import EntryRecord, EventRecord, HoldRecord, TicketType
from boxoffice.store import holds as hold_store
from boxoffice.store import offers as store
from boxoffice.store import waitlist as lines
from boxoffice.store.inventory import pools_of
from boxoffice.store.line import Counts
from boxoffice.store.offers import OfferRefused
from boxoffice.vocabulary import EntryStatus, HoldStatus

# Line items one allocation reads: a request reads the head of the line, a constant whatever its length;
# the sweeper reads deeper (one Query either way), so an entry that fits behind a long line of entries that
# do not is offered within a sweep period.
LINE_WINDOW = 25
SWEEP_WINDOW = 1000
CLOSE_WINDOW = 100  # entries of a closed line one sweep ends (a transaction each); the next sweep goes on
SWEEP_EVENTS = 100  # events with a pool one sweep hands on; the next sweep takes the rest
# The sweeper closes the lines of events that started this recently (a few runs: a missed run is made good).
STARTED_LOOKBACK = timedelta(minutes=3)


# --- the allocator's decisions: pure, over the records it read ---


class Move(Enum):
    """What the allocator does with an event's pool, after reading it (and after a pass down the line)."""

    NOTHING = "nothing"
    REOPEN = "reopen"  # nobody waits: the reserved pool goes back on open sale
    UNLIST = "unlist"  # nothing is reserved: the event leaves the sweeper's pool index
    RELIST = "relist"  # a request found the line closed: the sweeper, which ends lines, will see the event
    CLOSE = "close"  # the sweeper found the line closed: its entries end, its pool goes back on open sale
    OFFER = "offer"  # hand the pool down the line
    RELEASE = "release"  # nobody in line can take what is left, however many come back: back on open sale
    AGAIN = "again"  # the pool or the line changed under the pass: judge it again from a new read


def pool_move(event: EventRecord, listed: bool, now: datetime, *, sweeping: bool) -> Move:
    """What to do with the event's reserved pool, as read (`listed`: it is in the sweeper's pool index)."""
    if not event.waiting:
        if event.reserved:
            return Move.REOPEN
        return Move.UNLIST if listed else Move.NOTHING  # (a deleted event is listed whether or not anyone waited)
    if not on_sale(event.status, event.starts_at, now):  # people wait only for what may sell
        if sweeping:
            return Move.CLOSE
        return Move.NOTHING if listed else Move.RELIST  # a request ends no line: the sweeper will
    if not event.reserved:
        return Move.UNLIST if listed else Move.NOTHING
    return Move.OFFER


class Fit(Enum):
    """How a waiting entry stands to the pool left, in its turn."""

    ENDS = "ends"  # its type no longer sells: it would wait for nothing (EXPIRED)
    PASSED = "passed"  # its type's own sub-quota is short: the next in line may fit
    WAITS = "waits"  # it wants more than is left: the pool is kept for it until more come back
    OFFERED = "offered"  # it fits: offered as a hold


def fit(entry: EntryRecord, kind: TicketType | None, left: int, now: datetime) -> Fit:
    """How `entry` (of type `kind`, None: deleted) stands to `left` tickets of the pool at `now`."""
    if kind is None or not selling(kind, now):
        return Fit.ENDS
    if kind.available_tickets is not None and kind.available_tickets < entry.quantity:
        return Fit.PASSED
    if entry.quantity > left:
        return Fit.WAITS
    return Fit.OFFERED


def offered_hold(event: EventRecord, entry: EntryRecord, kind: TicketType, now: datetime) -> HoldRecord:
    """What an entry is offered: a hold of its quantity of its type at the type's price, for its user, for
    HOLD_SECONDS, tied to the entry."""
    return HoldRecord(
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


@dataclass(frozen=True, slots=True)
class Pass:
    """One pass of the pool down the head of the line."""

    offered: int  # offers made
    ended: int  # entries ended (their type no longer sells)
    left: int  # tickets of the pool not offered
    wanted: bool  # some entry read waits for more tickets than are left
    more: bool  # the line goes on past the entries read
    lost_pool: bool = False  # an offer found the pool changed since it was read
    pools: tuple[int, ...] = ()  # what is left of each stock shard's part of the pool


def after_pass(done: Pass, listed: bool) -> Move:
    """What the pool needs once a pass is done."""
    # Tickets left after offers or ends: the line may have emptied, or an entry that fits moved up.
    if done.lost_pool or (done.left and (done.offered or done.ended)):
        return Move.AGAIN
    if done.left == 0:
        return Move.UNLIST if listed else Move.NOTHING
    if not done.wanted and not done.more:
        return Move.RELEASE
    return Move.NOTHING


# --- the allocator ---


def allocate(event_id: str, *, sweeping: bool = False) -> int:
    """Hand on the event's reserved pool to the head of its line (LINE_WINDOW entries; SWEEP_WINDOW when
    `sweeping`); how many offers this call made. A closed line (its event deleted or started) is left to the
    sweeper, which ends it CLOSE_WINDOW entries a run."""
    window = SWEEP_WINDOW if sweeping else LINE_WINDOW
    made: list[str] = []  # the holds offered, kept across attempts (a pass may end in a conflict)

    def attempt() -> None:
        event, listed, counts = lines.read_pool(event_id)
        if event is None:
            return
        now = clock.now()
        move = pool_move(event, bool(listed), now, sweeping=sweeping)
        left = pools_of(event)
        if move is Move.OFFER:
            done = _offer(event, counts, window, now, made)
            move, left = after_pass(done, bool(listed)), done.pools
        if move is Move.AGAIN:
            raise retry.Again()
        if move is Move.REOPEN and not lines.reopen(event_id, left, listed):
            raise retry.Again()
        if move is Move.CLOSE and not _close(event, counts, listed, now):
            raise retry.Again()
        # Nobody in line can take them: back on open sale, unless the line changed meanwhile.
        if move is Move.RELEASE and not lines.release_pool(event_id, left, listed, counts):
            raise retry.Again()
        if move is Move.UNLIST:
            lines.unlist(event_id, listed)  # fails (and stays listed) if tickets came back meanwhile
        if move is Move.RELIST:
            lines.relist(event_id)

    # The pool kept changing under this call, or DynamoDB throttled it: the sweeper hands on what is left.
    with suppress(Busy, Throttled):
        retry.retried(attempt)
    return len(made)


def _close(event: EventRecord, counts: Counts, listed: frozenset[int], now: datetime) -> bool:
    """End CLOSE_WINDOW entries of a closed line (CLOSED) and put its pool back on open sale; stays listed
    for the next sweep while entries remain. False when the pool or the line changed since it was read."""
    if event.reserved and not lines.release_pool(event.id, pools_of(event), listed, counts):
        return False
    entries, more = lines.head(event.id, CLOSE_WINDOW, counts)
    for entry in entries:
        lines.drop(entry, status=EntryStatus.CLOSED, now=now)
    if more:
        lines.relist(event.id)
    elif listed and not event.reserved:
        lines.unlist(event.id, listed)
    return True


def _offer(event: EventRecord, counts: Counts, window: int, now: datetime, made: list[str]) -> Pass:
    """Offer the pool down the first `window` entries of the line, in join order, each as `fit` judges it,
    adding the holds offered to `made`. An entry that cannot have its offer now (it left, its user is at
    the cap, its type changed price: the store's conditions say) is passed over."""
    left, offered, ended, wanted = event.reserved, 0, 0, False
    pools = list(pools_of(event))  # each stock shard's part of the pool, as offers take from them
    head = True  # nobody read so far still waits: the entry is the head of the line (it counts as served)
    entries, more = lines.head(event.id, window, counts)
    for entry in entries:
        if left == 0:
            break
        kind = event.ticket_type(entry.ticket_type_id)
        verdict = fit(entry, kind, left, now)
        if verdict is Fit.ENDS:
            lines.drop(entry, status=EntryStatus.EXPIRED, now=now, served=head)
            ended += 1
            continue
        wanted = wanted or verdict is Fit.WAITS
        if verdict is not Fit.OFFERED or kind is None:  # (kind is None: it ENDS)
            head = False
            continue
        hold = offered_hold(event, entry, kind, now)
        try:
            taken = store.offer(entry, hold, event=event, pools=pools, ticket_type=kind, now=now, head=head)
        except OfferRefused as refused:
            if refused.pool:
                return Pass(offered, ended, left, wanted, more, lost_pool=True, pools=tuple(pools))
            head = False  # (it may have left: then the next is the head, but a bound may stay above)
            continue
        left -= entry.quantity
        for shard, part in taken.items():
            pools[shard] -= part
        offered += 1
        made.append(hold.id)
        metrics.add_metric(name="WaitingListOffers", unit="Count", value=1)
        logger.info("Waiting list offer", extra={"entry_id": entry.id, "hold_id": hold.id, "event_id": event.id})
    return Pass(offered, ended, left, wanted, more, pools=tuple(pools))


def sweep() -> int:
    """The sweeper's safety net: every event in the pool index is handed on, reading deeper into its line
    than a request does, and the lines of events that just started are closed; how many offers it made."""
    now = clock.now()
    pooled = lines.pooled(SWEEP_EVENTS)
    started = lines.started(now - STARTED_LOOKBACK, now, SWEEP_EVENTS)
    return sum(allocate(event_id, sweeping=True) for event_id in dict.fromkeys(pooled + started))
