"""The fair waiting list: join while too few tickets are on sale, see one's place, leave.

The rules: a user may wait for tickets of a type that they could book right now but for the tickets left
(logic/sales.py: sellable), and only while fewer than they want are on open sale; one live entry per user
and event. Places are kept in join order; a position is exact when fewer than 1,000 are ahead, else an
upper bound (store.waitlist.position). Tickets that come back
while anyone waits are kept for the line (the quota's `reserved` pool) and go back on open sale once
nobody waits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from boxoffice import clock, cursors, ids, retry
from boxoffice.errors import (
    AlreadyWaiting,
    DomainError,
    HoldConfirmed,
    HoldExpired,
    HoldReleased,
    InvalidCursor,
    NotWaiting,
    TicketsAvailable,
    TicketTypeNotFound,
    WaitingEntryNotFound,
)
from boxoffice.logic import expiry, holds, offers
from boxoffice.logic.access import event_id_or_404
from boxoffice.logic.permissions import require_current
from boxoffice.logic.sales import chosen_type, on_sale, sellable
from boxoffice.models.common import Page
from boxoffice.models.waitlist import WaitingListEntry, WaitingListRequest
from boxoffice.observability import logger, metrics
from boxoffice.records import EntryRecord, EventRecord, Holding, Stock, TicketType
from boxoffice.store import waitlist as store
from boxoffice.store.waitlist import EntryChanged
from boxoffice.vocabulary import EntryStatus, Principal

LIVE = frozenset({EntryStatus.WAITING, EntryStatus.OFFERED})


# --- the waiting list's decisions: pure, over the records read ---


def lapsed(entry: EntryRecord, now: datetime) -> bool:
    """An offer past its expiry, whether or not its hold has been released yet."""
    return entry.status == EntryStatus.OFFERED and (entry.expires_at is None or entry.expires_at <= now)


def shown_status(entry: EntryRecord, now: datetime, *, closed: bool = False) -> EntryStatus:
    """An offer past its expiry is EXPIRED, whether or not the sweeper has passed it on yet; a live entry of
    a `closed` line is CLOSED, whether or not the sweeper has ended it yet."""
    if closed and entry.status in LIVE:
        return EntryStatus.CLOSED
    return EntryStatus.EXPIRED if lapsed(entry, now) else entry.status


def join_gate(stock: Stock, quantity: int) -> str:
    """The quota whose shortage lets the buyer wait: the event's, else the type's sub-quota (whose count a
    join does not read: its condition tells); TicketsAvailable when neither is short."""
    if stock.event.available_tickets < quantity:
        return "quota"
    own = stock.ticket_type
    if own.total_tickets is not None and (own.available_tickets is None or own.available_tickets < quantity):
        return "type"
    raise TicketsAvailable(stock.available)


def may_join(entry: EntryRecord | None, line_open: bool) -> None:
    """Nothing, if the user may join the line; AlreadyWaiting while their entry is live in an open line
    (of a closed line, the event's own refusal follows: 404 or EVENT_STARTED)."""
    if entry is not None and entry.status in LIVE and line_open:
        raise AlreadyWaiting()


def declines(entry: EntryRecord) -> bool:
    """Whether leaving declines an offer in hand (its hold is released) rather than leaving the line;
    NotWaiting for an entry that has ended."""
    if entry.status == EntryStatus.OFFERED and entry.hold_id is not None:
        return True
    if entry.status != EntryStatus.WAITING:
        raise NotWaiting(entry.status)
    return False


def _public(
    entry: EntryRecord, position: int | None = None, *, now: datetime, closed: bool = False
) -> WaitingListEntry:
    status = shown_status(entry, now, closed=closed)
    offered = status == EntryStatus.OFFERED  # its hold and expiry are shown while the offer stands
    return WaitingListEntry.model_validate(
        {
            "id": entry.id,
            "event_id": entry.event_id,
            "ticket_type": {"id": entry.ticket_type_id, "name": entry.ticket_type_name},
            "quantity": entry.quantity,
            "status": status,
            "position": position,
            "joined_at": entry.joined_at,
            "hold_id": entry.hold_id if offered else None,
            "expires_at": entry.expires_at if offered else None,
        }
    )


def join(principal: Principal, event_id: str, request: WaitingListRequest) -> WaitingListEntry:
    """Join the event's line: one BatchGetItem (nothing of the event's partition once this process knows the
    event and its marked line), one Query for lapsed holds (when that read counted holds; else after the
    commit), one transaction, one Query and one BatchGetItem that judge the gate again (the join is taken
    back if it no longer holds), the allocator when that read shows tickets kept for the line (they may fit
    the new entry at once), then the position: its bound kept on the entry (one UpdateItem), counted exactly
    when fewer than 1,000 are ahead."""
    event_id_or_404(event_id)
    now = clock.now()
    context = store.read_for_join(principal.user_id, event_id)
    require_current(principal, context.user)
    if context.entry is not None and context.entry.hold_id is not None and lapsed(context.entry, now):
        # The list already shows the offer EXPIRED: its hold goes back first, so the entry ends and a
        # new one may be put, rather than ALREADY_WAITING until the sweeper passes.
        expiry.expire_offer(principal.user_id, context.entry.hold_id, now)
        context = store.read_for_join(principal.user_id, event_id)
    try:
        ticket_type = _may_wait(context, request, now)
    except DomainError:
        if context.event is None or context.event.stock_known:
            raise
        # Judged on the event as this process read it lately (another's edit may be a second newer): a
        # refusal stands only on a fresh read.
        context = store.read_for_join(principal.user_id, event_id, fresh=True)
        ticket_type = _may_wait(context, request, now)
    event, holding = context.event, context.holding
    lapsed_returned = False
    counts, kept = None, 0
    gated: EventRecord | None = None  # the event as the gate read it, when no read before the commit counted holds
    marking = False  # its counter was found unflagged: the join marks every stock shard, as a first one

    def read_again(type_id: str) -> None:
        nonlocal event, holding, ticket_type
        fresh = store.read_for_join(principal.user_id, event_id)
        event, holding = fresh.event, fresh.holding
        ticket_type = event.ticket_type(type_id) if event else None

    def attempt() -> EntryRecord:
        nonlocal lapsed_returned, counts, kept, gated, marking
        stock = sellable(event, ticket_type, holding, request.quantity, now)
        entry = _new_entry(principal.user_id, stock, request.quantity, now)
        _judge_gate(stock, request.quantity)
        if not lapsed_returned and stock.known:  # nobody waits for tickets only lapsed holds keep: they come back
            lapsed_returned = True
            if expiry.release_expired(now, stock.event):
                read_again(stock.ticket_type.id)
                raise retry.Again()
        try:
            first = stock.event if marking or not stock.event.line_used else None
            entry = store.join(entry, token_version=principal.token_version, first=first)
        except store.LineUnmarked:  # its line emptied and was unmarked since it was seen marked
            marking = True
            raise retry.Again() from None
        except store.ShardsChanged:  # a re-shard since the read: every shard it has now needs the line's mark
            read_again(stock.ticket_type.id)
            raise retry.Again() from None
        # The gate again, after the commit: tickets that came back between the read and the commit went on
        # open sale (nobody waited yet); from the commit on they come to the line, so this read is the last
        # that can find the gate open.
        after = store.gate_now(stock)
        try:
            after = _judge_after(after, holding, request.quantity, now)
        except DomainError:
            if store.withdraw(entry):  # (else an offer or a leave came first: the entry stands as it is)
                retry.afterwards(lambda: offers.allocate(event_id))  # returns kept for it meanwhile go on
                raise
        gated = None if lapsed_returned else after.event  # (the stock was not read before the commit)
        counts, kept = after.waiting, after.event.reserved if after.event else 0
        return store.note_waiting(entry, counts)

    entry = retry.retried(attempt)
    # Lapsed holds that only the gate's read after the commit counted go back now, to the line (this entry
    # waits in it): the release hands them on in join order.
    released = retry.retried(lambda: expiry.release_expired(now, gated)) if gated is not None else 0
    metrics.add_metric(name="WaitingListJoins", unit="Count", value=1)
    logger.info("Waiting list joined", extra={"entry_id": entry.id, "event_id": event_id})
    # Tickets kept for the line may fit this entry at once; none kept as it joined: any that come back
    # later are handed on by whatever returns them (which reads the line with this entry in it).
    if (kept and offers.allocate(event_id)) or released:
        entry = store.read_entry(principal.user_id, event_id)[1] or entry
    if entry.status != EntryStatus.WAITING or counts is None:
        return _public(entry, now=now)
    return _public(entry, store.position(entry, counts), now=now)  # the line as the join saw it: a bound still


def _may_wait(context: store.JoinContext, request: WaitingListRequest, now: datetime) -> TicketType | None:
    """The type the user may wait for as the read shows the event, by every rule but the tickets left."""
    event = context.event
    may_join(context.entry, event is not None and on_sale(event.status, event.starts_at, now))
    ticket_type = chosen_type(event, request.ticket_type_id)
    if ticket_type is not None and ticket_type.hidden:  # sold with a code alone, which the line takes none of
        raise TicketTypeNotFound()
    sellable(event, ticket_type, context.holding, request.quantity, now)
    return ticket_type


def _judge_gate(stock: Stock, quantity: int) -> None:
    """join_gate over the stock read before the join; a sharded event's TicketsAvailable only once one atomic
    read of its shards (store.confirmed) shows enough too: the read before may have seen each shard at a
    different moment (a re-shard moving tickets between them could be counted twice). A stock not read (the
    process knows the event and its line: store.read_for_join) is judged after the commit alone."""
    if not stock.known:
        return
    try:
        join_gate(stock, quantity)
    except TicketsAvailable:
        if stock.event.stocked == 1:
            raise
        join_gate(replace(stock, event=store.confirmed(stock.event)), quantity)


def _judge_after(after: store.GateNow, holding: Holding, quantity: int, now: datetime) -> store.GateNow:
    """join_gate over the read after the commit (as confirmed); a TicketsAvailable from a plain read's sum of a
    sharded event's stock only once one atomic read of its shards (store.gate_confirmed) shows enough too: a
    join is taken back on a sum that was true at one moment."""
    try:
        join_gate(sellable(after.event, after.ticket_type, holding, quantity, now), quantity)
    except TicketsAvailable:
        if after.atomic:
            raise
        after = store.gate_confirmed(after)
        join_gate(sellable(after.event, after.ticket_type, holding, quantity, now), quantity)
    return after


def _new_entry(user_id: str, stock: Stock, quantity: int, now: datetime) -> EntryRecord:
    return EntryRecord(
        id=ids.new_entry_id(stock.event.id, now),
        user_id=user_id,
        event_id=stock.event.id,
        ticket_type_id=stock.ticket_type.id,
        ticket_type_name=stock.ticket_type.name,
        quantity=quantity,
        status=EntryStatus.WAITING,
        joined_at=now,
    )


def _own(principal: Principal, entry_id: str) -> EntryRecord:
    """The caller's entry by its id; anyone else's, or one replaced by a new join, is as missing as none."""
    event_id = ids.entry_event(entry_id)
    if event_id is None:
        raise WaitingEntryNotFound()
    user, entry = store.read_entry(principal.user_id, event_id)
    require_current(principal, user)
    if entry is None or entry.id != entry_id:
        raise WaitingEntryNotFound()
    return entry


def leave(principal: Principal, entry_id: str) -> WaitingListEntry:
    """Leave the line: one BatchGetItem and one transaction, then the line's pool is handed on. Leaving
    while OFFERED releases the offer (holds.release_hold), which goes to the next in line. An entry that
    has ended is NOT_WAITING."""
    entry = _own(principal, entry_id)
    now = clock.now()

    def attempt() -> EntryRecord | None:
        """The entry as left, or None when it holds an offer (declined after the retry: it is one itself)."""
        nonlocal entry
        if declines(entry):
            return None
        try:
            return store.leave_line(entry, token_version=principal.token_version, now=now)
        except EntryChanged as changed:
            if changed.entry is None or changed.entry.id != entry_id:
                raise WaitingEntryNotFound() from None
            entry = changed.entry
            raise retry.Again() from None

    left = retry.retried(attempt)
    if left is None:
        return _decline(principal, entry, now)
    logger.info("Waiting list left", extra={"entry_id": entry.id, "event_id": entry.event_id})
    offers.allocate(entry.event_id)  # the last to leave puts the pool back on sale
    return _public(left, now=now)


def _decline(principal: Principal, entry: EntryRecord, now: datetime) -> WaitingListEntry:
    """Leave with an offer in hand: its hold is released (the entry LEFT in the same transaction)."""
    try:
        holds.release_hold(principal, str(entry.hold_id))
    except HoldExpired:
        raise NotWaiting(EntryStatus.EXPIRED) from None
    except HoldConfirmed:
        raise NotWaiting(EntryStatus.BOOKED) from None
    except HoldReleased:
        raise NotWaiting(EntryStatus.LEFT) from None
    logger.info("Waiting list offer declined", extra={"entry_id": entry.id, "event_id": entry.event_id})
    return _public(replace(entry, status=EntryStatus.LEFT, ended_at=now), now=now)


def list_entries(principal: Principal, limit: int, cursor: str | None) -> Page[WaitingListEntry]:
    """The caller's entries by event, ended ones included, each WAITING one with its position: one Query,
    one BatchGetItem (the account, the events' quotas and line counters) and, per WAITING entry of an open
    line with fewer than 1,000 ahead, one COUNT Query a line shard."""
    scope = f"waiting-list:{principal.user_id}"  # a cursor is good for its own user's list only
    after = _after(cursors.unseal(cursor, scope)) if cursor is not None else None
    user, entries, more, events = store.list_page(principal.user_id, limit, after)
    require_current(principal, user)
    now = clock.now()
    items = []
    for e in entries:
        line = events.get(e.event_id)
        closed = line is None or not on_sale(line.status, line.starts_at, now)
        place = store.position(e, line.counts) if line and not closed and e.status == EntryStatus.WAITING else None
        items.append(_public(e, place, now=now, closed=closed))
    next_cursor = cursors.seal({"after": entries[-1].event_id}, scope) if more and entries else None
    return Page[WaitingListEntry](items=items, next_cursor=next_cursor)


def _after(payload: dict[str, object]) -> str:
    after = payload.get("after")
    if not isinstance(after, str) or not ids.is_uuid(after):
        raise InvalidCursor()
    return after
