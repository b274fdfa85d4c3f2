"""Events: admins create, change and delete them; anyone reads and searches the ones on sale."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from boxoffice import clock, cursors
from boxoffice.auth import Principal
from boxoffice.config import settings
from boxoffice.errors import Busy, EventNotFound, EventStarted, InvalidCursor, InvalidInput, NotAuthenticated
from boxoffice.models.common import DEFAULT_PAGE_SIZE, Page
from boxoffice.models.events import CreateEvent, Event, UpdateEvent, venue_key, words
from boxoffice.store import events as store
from boxoffice.store.events import ON_SALE, EventRecord, Search

EDIT_ATTEMPTS = 3  # re-reads when another edit changed the event between our read and our write
# Once an event has started, its bookings rest on everything else (start, capacity, price, venue...).
CHANGEABLE_AFTER_START = frozenset({"name", "description"})
_EVENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_END_OF_TIME = "9999-12-31T23:59:59+00:00"


def _public(event: EventRecord) -> Event:
    return Event(
        id=event.id,
        name=event.name,
        description=event.description,
        venue=event.venue,
        starts_at=event.starts_at,
        date=event.starts_at.date(),
        time=event.starts_at.time(),
        total_tickets=event.total_tickets,
        available_tickets=event.available_tickets,
        ticket_price=event.ticket_price,
        currency=event.currency,
        max_tickets_per_booking=event.max_tickets_per_booking,
        status=ON_SALE,
        created_at=event.created_at,
        updated_at=event.updated_at,
    )


def _require_future(starts_at: datetime) -> None:
    if starts_at <= clock.now():
        raise InvalidInput("must be in the future", field="starts_at")


def event_id_or_404(raw: str) -> str:
    """Ids are lowercase UUIDs; anything else names no event (and never reaches DynamoDB)."""
    if not _EVENT_ID.match(raw):
        raise EventNotFound()
    return raw


# --- admin ---


def _record(request: CreateEvent, event_id: str | None = None) -> EventRecord:
    """A new event on sale: every ticket available."""
    _require_future(request.starts_at)
    now = clock.now()
    return EventRecord(
        id=event_id or str(uuid.uuid4()),
        name=request.name,
        description=request.description,
        venue=request.venue,
        starts_at=request.starts_at,
        total_tickets=request.total_tickets,
        available_tickets=request.total_tickets,
        ticket_price=request.ticket_price,
        currency=request.currency or settings().default_currency,
        max_tickets_per_booking=request.max_tickets_per_booking,
        status=ON_SALE,
        created_at=now,
        updated_at=now,
    )


def create_event(principal: Principal, request: CreateEvent) -> Event:
    """POST /events: the admin's token must still be current when the event is written."""
    record = _record(request)
    store.create(record, caller=(principal.user_id, principal.token_version))
    return _public(record)


def add_event(request: CreateEvent, *, event_id: str | None = None) -> Event:
    """Create one event on behalf of the operator (sample data, other domains' tests), as POST /events does.

    A given `event_id` (a lowercase UUID) lets sample data keep stable ids; it must be new.
    """
    record = _record(request, event_id_or_404(event_id) if event_id else None)
    store.create(record, caller=None)
    return _public(record)


def exists(event_id: str) -> bool:
    """Whether the id was ever used, tombstones included (sample data is loaded once)."""
    return store.get(event_id_or_404(event_id)) is not None


def import_events(requests: Iterable[CreateEvent]) -> list[Event]:
    """Bulk load on behalf of the operator (benchmarks, big test sets): 25 items per BatchWriteItem."""
    records = [_record(r) for r in requests]
    store.put_many(records)
    return [_public(r) for r in records]


def _editable(principal: Principal, event_id: str) -> EventRecord:
    """The event on sale, read in one round trip with the caller's account to check the token version."""
    event, account = store.get_for_user(event_id_or_404(event_id), principal.user_id)
    if account is None or account.token_version != principal.token_version:
        raise NotAuthenticated("The token was revoked.")
    if event is None or event.status != ON_SALE:
        raise EventNotFound()
    return event


def update_event(principal: Principal, event_id: str, request: UpdateEvent) -> Event:
    changes = request.changes()
    if "starts_at" in changes:
        _require_future(changes["starts_at"])
    for _ in range(EDIT_ATTEMPTS):
        old = _editable(principal, event_id)
        new = dataclasses.replace(old, **changes, updated_at=clock.now())
        # A field sent with its current value changes nothing and is no reason to refuse.
        before_start = any(getattr(new, f) != getattr(old, f) for f in changes.keys() - CHANGEABLE_AFTER_START)
        if before_start and old.starts_at <= new.updated_at:
            raise EventStarted()
        try:
            return _public(store.update(old, new, before_start=before_start))
        except store.Stale:
            continue
    raise Busy()


def delete_event(principal: Principal, event_id: str) -> None:
    for _ in range(EDIT_ATTEMPTS):
        try:
            return store.delete(_editable(principal, event_id))
        except store.Stale:
            continue
    raise Busy()


# --- public ---


def get_event(event_id: str) -> Event:
    event = store.get(event_id_or_404(event_id))
    if event is None or event.status != ON_SALE:
        raise EventNotFound()
    return _public(event)


def _instant(raw: str, field: str, *, end: bool) -> datetime:
    """An ISO date (from its first or to its last instant, UTC) or date-time (naive means UTC)."""
    try:
        try:
            return datetime.combine(date.fromisoformat(raw), time.max if end else time.min, UTC)
        except ValueError:
            moment = datetime.fromisoformat(raw)
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput("must be an ISO 8601 date (2026-12-01) or date-time", field=field) from exc


def _bound(moment: datetime, *, end: bool) -> str:
    """Start times are whole seconds: an inclusive lower bound rounds up, an upper one down."""
    whole = moment.replace(microsecond=0)
    if not end and whole != moment:
        whole += timedelta(seconds=1)
    return whole.isoformat()


def _text_filter(raw: str, field: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in raw):
        raise InvalidInput("must not contain control characters", field=field)
    return raw


def list_events(
    *,
    q: str | None = None,
    venue: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[Event]:
    """Events on sale in start order, filtered by name words/prefixes, venue and an inclusive date range.

    Without date_from only events that have not started are listed. The cursor carries the position
    and the lower bound of the first page, and is bound to the filters it was issued for.
    """
    terms = tuple(words(_text_filter(q, "q"))) if q is not None else ()
    if q is not None and not terms:
        raise InvalidInput("must contain a letter or a digit", field="q")
    try:
        place = venue_key(_text_filter(venue, "venue")) if venue is not None else None
    except ValueError as exc:  # longer than any venue can be once folded
        raise InvalidInput(str(exc), field="venue") from exc
    if venue is not None and not place:
        raise InvalidInput("must not be blank", field="venue")
    start = _instant(date_from, "date_from", end=False) if date_from is not None else None
    end = _instant(date_to, "date_to", end=True) if date_to is not None else None
    if start is not None and end is not None and end < start:
        raise InvalidInput("must not be before date_from", field="date_to")
    try:
        lower = _bound(start, end=False) if start is not None else None
        upper = _bound(end, end=True) if end is not None else _END_OF_TIME
    except OverflowError as exc:  # rounding up the very last second there is
        raise InvalidInput("is out of range", field="date_from") from exc
    scope = hashlib.sha256(json.dumps(["events", terms, place, lower, upper]).encode()).hexdigest()
    after: str | None = None
    if cursor is not None:
        position = cursors.unseal(cursor, scope)
        after, lower = position.get("after"), position.get("lower")
        if not isinstance(after, str) or not isinstance(lower, str):
            raise InvalidCursor()
    lower = lower or _bound(clock.now(), end=False)
    if lower > upper:  # no whole second in the range, or it ended before now: nothing can match
        return Page[Event](items=[])
    found, last = store.search(Search(lower=lower, upper=upper, terms=terms, venue_key=place), limit, after)
    next_cursor = cursors.seal({"after": last, "lower": lower}, scope) if last else None
    return Page[Event](items=[_public(e) for e in found], next_cursor=next_cursor)
