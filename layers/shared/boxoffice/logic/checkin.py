"""At the door: door staff check tickets in by their signed code or their number, and sync an event's
tickets to scanners that work offline; admins undo a check-in.

The rules: only a VALID ticket of this event gets in, once, however many scanners read it at the same
moment (the store's conditional update decides); a cancelled ticket never does; a code must be one
we signed (any key of the ring) and name this event. The ticket is read first, for its type (door
staff see "VIP"; its type's count moves with it) and to refuse a ticket already in, cancelled or
missing without a write; a failed condition says what the ticket became meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from boxoffice import clock, cursors, ids, ticket_codes
from boxoffice.errors import (
    AlreadyCheckedIn,
    CheckInClosed,
    DomainError,
    EventNotFound,
    InvalidCursor,
    InvalidInput,
    NotCheckedIn,
    TicketCancelled,
    TicketNotFound,
    WrongEvent,
)
from boxoffice.logic.access import event_id_or_404
from boxoffice.logic.permissions import require_current
from boxoffice.models.bookings import BookedTicketType
from boxoffice.models.common import Page
from boxoffice.models.tickets import CheckInRequest, DoorTicket
from boxoffice.observability import logger, metrics
from boxoffice.records import TicketRecord
from boxoffice.store import bookings as booking_store
from boxoffice.store import events as event_store
from boxoffice.store import tickets as store
from boxoffice.vocabulary import EventStatus, Principal, TicketStatus


def ticket_number_or_404(raw: str) -> str:
    """A ticket number as issued (`7KQ4-M2ZX-...`) from however it was typed; a malformed one names no
    ticket and never reaches DynamoDB."""
    number = ids.ticket_number(raw)
    if number is None:
        raise TicketNotFound()
    return number


def door_view(ticket: TicketRecord) -> DoorTicket:
    kind = ticket.ticket_type
    return DoorTicket(
        ticket_number=ticket.ticket_number,
        event_id=ticket.event_id,
        ticket_type=BookedTicketType(id=kind.id, name=kind.name),
        status=ticket.status,
        checked_in_at=ticket.checked_in_at,
        updated_at=ticket.updated_at,
    )


def _scanned_number(event_id: str, request: CheckInRequest) -> str:
    if request.code is None:
        return ticket_number_or_404(request.ticket_number or "")
    claim = ticket_codes.verify(request.code)
    if claim.event_id != event_id:
        raise WrongEvent(claim.event_id)
    return ticket_number_or_404(claim.ticket_number)


# --- check-in outcomes: pure decisions over a ticket's state ---


def refusal(status: TicketStatus | None, checked_in_at: datetime | None) -> DomainError:
    """Why a ticket in `status` (None: missing) cannot make the door move asked of it."""
    if status is None:
        return TicketNotFound()
    if status == TicketStatus.CANCELLED:
        return TicketCancelled()
    if status == TicketStatus.CHECKED_IN and checked_in_at is not None:  # (a ticket is checked in with its time)
        return AlreadyCheckedIn(checked_in_at)
    return NotCheckedIn()


def door_refusal(status: EventStatus, opens: datetime, closes: datetime) -> DomainError:
    """Why the door let nobody in, from the event's status and door window as its count shard had them:
    a deleted event's tickets are let in no more (404), else the doors were not open."""
    if status != EventStatus.ON_SALE:
        return EventNotFound()
    return CheckInClosed(opens, closes)


def movable(ticket: TicketRecord, to: TicketStatus) -> None:
    """Nothing, if the door may move the ticket to `to` (VALID -> CHECKED_IN, or back); else why not. The
    store's condition decides again at the write, for scans racing this one."""
    came_from = TicketStatus.VALID if to == TicketStatus.CHECKED_IN else TicketStatus.CHECKED_IN
    if ticket.status != came_from:
        raise refusal(ticket.status, ticket.checked_in_at)


def _door_move(ticket: TicketRecord, to: TicketStatus, move: Callable[[], TicketRecord]) -> TicketRecord:
    """`move()` of a ticket the door may move; a lost race said as `refusal` says it, shut doors as
    `door_refusal` does."""
    movable(ticket, to)
    try:
        return move()
    except store.TicketMoved as moved:
        raise refusal(moved.status, moved.checked_in_at) from None
    except store.DoorShut as shut:
        raise door_refusal(shut.status, shut.opens, shut.closes) from None


def _at_the_door(principal: Principal, event_id: str, number: str) -> TicketRecord:
    """The ticket with its type, read with the caller's account: one BatchGetItem (and one more for the
    booking of a ticket written before tickets recorded their type)."""
    account, ticket = store.read_for_door(event_id, number, principal.user_id)
    require_current(principal, account)
    if ticket is None:
        raise TicketNotFound()
    return booking_store.typed([ticket])[0]


def check_in(principal: Principal, event_id: str, request: CheckInRequest) -> DoorTicket:
    """One BatchGetItem and one TransactWriteItems: the ticket VALID -> CHECKED_IN, counted with its
    type, the scanner's token current, the event on sale (404 once deleted) and its doors open (409
    CHECK_IN_CLOSED outside its window)."""
    event_id_or_404(event_id)
    ticket = _at_the_door(principal, event_id, _scanned_number(event_id, request))
    check = partial(store.check_in, ticket, by=principal, at=clock.now())
    try:
        ticket = _door_move(ticket, TicketStatus.CHECKED_IN, check)
    except store.DoorUnknown:  # an event stored before its count shards carried its door window: copy it once
        event = event_store.get(event_id)
        if event is None:
            raise EventNotFound() from None
        store.copy_door(event)
        ticket = _door_move(ticket, TicketStatus.CHECKED_IN, check)
    metrics.add_metric(name="TicketsCheckedIn", unit="Count", value=1)
    logger.info("Ticket checked in", extra={"event_id": event_id, "by": principal.user_id, "manual": not request.code})
    return door_view(ticket)


def undo_check_in(principal: Principal, event_id: str, ticket_number: str) -> DoorTicket:
    """An admin lets a checked-in ticket in again (a mistaken scan): CHECKED_IN -> VALID, uncounted.
    Allowed at any time, also once the event is deleted or its doors closed: it lets nobody in, and it
    frees the ticket for its buyer's cancel (a refund after a mistaken or a cancelled night)."""
    event_id_or_404(event_id)
    ticket = _at_the_door(principal, event_id, ticket_number_or_404(ticket_number))
    undo = partial(store.undo_check_in, ticket, by=principal, at=clock.now())
    ticket = _door_move(ticket, TicketStatus.VALID, undo)
    logger.info("Check-in undone", extra={"event_id": event_id, "by": principal.user_id})
    return door_view(ticket)


def _since(raw: str | None) -> datetime | None:
    """The instant in UTC; one that has no UTC time (year 1 at +14:00, year 9999 at -14:00) is refused."""
    if raw is None:
        return None
    try:
        since = datetime.fromisoformat(raw)
    except ValueError:
        since = None
    if since is None or since.tzinfo is None:
        raise InvalidInput("must be an ISO 8601 date-time with an offset (Z for UTC)", field="updated_since")
    try:
        return since.astimezone(UTC)
    except OverflowError:
        detail = "is out of range: its UTC time is before year 1 or after 9999"
        raise InvalidInput(detail, field="updated_since") from None


def _position(payload: dict[str, object]) -> str:
    after = payload.get("after")
    if not isinstance(after, str) or not after:
        raise InvalidCursor()
    return after


def list_tickets(
    principal: Principal, event_id: str, *, updated_since: str | None, limit: int, cursor: str | None
) -> Page[DoorTicket]:
    """The event's tickets that changed at or after `updated_since`, in the order they changed: a
    scanner pages through them once, keeps the last `updated_at` it saw and asks for the changes since
    then when it is back online. One BatchGetItem (the caller's account, the event) and one Query (and
    one BatchGetItem of bookings when the page holds tickets written before tickets recorded their type)."""
    event_id_or_404(event_id)
    since = _since(updated_since)
    # A cursor is good for its own event's list from its own instant only: DynamoDB refuses a start key
    # outside the query's range (ValidationException), and a position is meaningless in another list.
    scope = f"tickets:{event_id}:{since.isoformat() if since else ''}"
    after = _position(cursors.unseal(cursor, scope)) if cursor is not None else None
    event, account = event_store.get_for_user(event_id, principal.user_id, upgrading=False, stock=False)
    require_current(principal, account)
    if event is None:
        raise EventNotFound()
    records, more = store.changed_since(event_id, since, after, limit)
    records = booking_store.typed(records)
    next_cursor = cursors.seal({"after": store.sync_key(records[-1])}, scope) if more and records else None
    return Page[DoorTicket](items=[door_view(r) for r in records], next_cursor=next_cursor)
