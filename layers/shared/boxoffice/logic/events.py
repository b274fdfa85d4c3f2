"""Events: admins create, change and delete them; anyone reads and searches the ones on sale."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from boxoffice import clock, cursors, ids, money, retry, shards
from boxoffice.config import settings
from boxoffice.errors import EventNotFound, EventStarted, InvalidCursor, InvalidInput
from boxoffice.logic import offers, tickettypes
from boxoffice.logic.access import editable, event_id_or_404
from boxoffice.models.common import DEFAULT_PAGE_SIZE, Page
from boxoffice.models.events import CreateEvent, CreateTicketType, Event, UpdateEvent
from boxoffice.records import DEFAULT_TYPE_NAME, EventRecord
from boxoffice.store import events as store
from boxoffice.store.search import Search, search
from boxoffice.text import venue_key, words
from boxoffice.vocabulary import EventStatus, Principal

# Once an event has started, its bookings rest on everything else (start, capacity, price, venue...).
# The door window may move at any time (a show running late keeps its doors open longer).
CHANGEABLE_AFTER_START = frozenset({"name", "description", "doors_open_minutes_before", "doors_close_minutes_after"})
_END_OF_TIME = "9999-12-31T23:59:59+00:00"


def public(event: EventRecord, *, admin: bool = False) -> Event:
    """The event as the API shows it: to the public (whose reads a CDN may share) without its hidden types,
    to an admin's own writes with every type; priced "from" what the public sees."""
    local = event.local_start
    visible = [t.price for t in event.ticket_types if not t.hidden]
    lowest = min(visible) if visible else event.ticket_price
    shown = [t for t in event.ticket_types if admin or not t.hidden]
    return Event(
        id=event.id,
        name=event.name,
        description=event.description,
        venue=event.venue,
        starts_at=event.starts_at,
        timezone=event.timezone,
        date=local.date(),
        time=local.time(),
        total_tickets=event.total_tickets,
        available_tickets=event.available_tickets,
        ticket_price=money.in_minor_units(lowest, event.currency),
        currency=event.currency,
        max_tickets_per_booking=event.max_tickets_per_booking,
        max_tickets_per_user=event.max_tickets_per_user,
        max_held_tickets_per_user=event.held_ceiling,
        max_holds_per_user=event.holds_ceiling,
        hold_cooldown_seconds=int(event.cooldown.total_seconds()),
        ticket_types=[tickettypes.public(t, event.currency) for t in shown],
        doors_open_minutes_before=event.doors_open_minutes_before,
        doors_close_minutes_after=event.doors_close_minutes_after,
        inventory_shards=event.inventory_shards,
        doors_open_at=event.doors[0],
        doors_close_at=event.doors[1],
        status=EventStatus.ON_SALE,
        created_at=event.created_at,
        updated_at=event.updated_at,
    )


def _require_future(starts_at: datetime) -> None:
    if starts_at <= clock.now():
        raise InvalidInput("must be in the future", field="starts_at")


# --- admin ---


def _ticket_types(request: CreateEvent) -> list[CreateTicketType]:
    """The types asked for; without any, one "General admission" type at ticket_price (v1 clients)."""
    if request.ticket_types is not None:
        if request.ticket_price is not None:
            raise InvalidInput(
                "is the lowest ticket type price: leave it out when giving ticket_types", field="ticket_price"
            )
        return request.ticket_types
    if request.ticket_price is None:
        raise InvalidInput("is required without ticket_types", field="ticket_price")
    return [CreateTicketType(name=DEFAULT_TYPE_NAME, price=request.ticket_price)]


def new_event(request: CreateEvent, event_id: str | None = None) -> EventRecord:
    """A new event on sale: every ticket available, in each of its types."""
    _require_future(request.starts_at)
    now = clock.now()
    currency = request.currency or settings().default_currency
    if request.ticket_price is not None:
        tickettypes.check_price(request.ticket_price, currency, field="ticket_price")
    per_booking = request.max_tickets_per_booking
    types = [tickettypes.new(t, per_booking=per_booking, now=now) for t in _ticket_types(request)]
    tickettypes.check(types, total=request.total_tickets, currency=currency)
    return EventRecord(
        id=event_id or ids.new_uuid(),
        name=request.name,
        description=request.description,
        venue=request.venue,
        starts_at=request.starts_at,
        timezone=request.timezone,
        total_tickets=request.total_tickets,
        available_tickets=request.total_tickets,
        currency=currency,
        max_tickets_per_booking=per_booking,
        max_tickets_per_user=request.max_tickets_per_user,
        max_held_tickets_per_user=request.max_held_tickets_per_user,
        max_holds_per_user=request.max_holds_per_user,
        hold_cooldown_seconds=request.hold_cooldown_seconds,
        status=EventStatus.ON_SALE,
        created_at=now,
        updated_at=now,
        ticket_types=tuple(types),
        doors_open_minutes_before=request.doors_open_minutes_before,
        doors_close_minutes_after=request.doors_close_minutes_after,
        inventory_shards=request.inventory_shards or shards.default_count(request.total_tickets),
    )


def create_event(principal: Principal, request: CreateEvent) -> Event:
    """POST /events: the admin's token must still be current when the event is written."""
    record = new_event(request)
    store.create(record, caller=principal)
    return public(record, admin=True)


def add_event(request: CreateEvent, *, event_id: str | None = None) -> Event:
    """Create one event on behalf of the operator (sample data, other domains' tests), as POST /events does.

    A given `event_id` (a lowercase UUID) lets sample data keep stable ids; it must be new.
    """
    record = new_event(request, event_id_or_404(event_id) if event_id else None)
    store.create(record, caller=None)
    return public(record, admin=True)


def exists(event_id: str) -> bool:
    """Whether the id was ever used, tombstones included (sample data is loaded once)."""
    return store.get(event_id_or_404(event_id)) is not None


def _changed(old: EventRecord, changes: dict[str, Any]) -> EventRecord:
    """The event with the changes, if they keep it consistent: a v1 `ticket_price` prices its only type, a
    new currency or capacity must still fit every type's price and sub-quota."""
    price = changes.pop("ticket_price", None)
    if "inventory_shards" in changes and "total_tickets" in changes:  # both move the shards' open stock
        raise InvalidInput("must be changed on its own, not with total_tickets", field="inventory_shards")
    new = dataclasses.replace(old, **changes, updated_at=clock.now())
    if price is not None:
        if len(old.ticket_types) > 1:
            raise InvalidInput("this event has several ticket types: change their prices instead", field="ticket_price")
        tickettypes.check_price(price, new.currency, field="ticket_price")
        new = dataclasses.replace(new, ticket_types=(dataclasses.replace(old.ticket_types[0], price=price),))
    for t in new.ticket_types:
        if not money.fits(t.price, new.currency):
            raise InvalidInput(f"does not fit the price of ticket type {t.name!r} ({t.price})", field="currency")
        if t.total_tickets is not None and t.total_tickets > new.total_tickets:
            raise InvalidInput(f"is below the sub-quota of ticket type {t.name!r}", field="total_tickets")
    return new


def _current(event: EventRecord, field: str) -> object:
    return event.ticket_price if field == "ticket_price" else getattr(event, field)


def update_event(principal: Principal, event_id: str, request: UpdateEvent) -> Event:
    changes = request.changes()
    if "starts_at" in changes:
        _require_future(changes["starts_at"])

    def attempt() -> EventRecord:
        old = editable(principal, event_id)
        new = _changed(old, dict(changes))
        # A field sent with its current value changes nothing and is no reason to refuse.
        before_start = any(changes[f] != _current(old, f) for f in changes.keys() - CHANGEABLE_AFTER_START)
        if before_start and old.starts_at <= new.updated_at:
            raise EventStarted()
        return store.update(old, new, before_start=before_start)

    updated = retry.retried(attempt)
    if updated.reserved and offers.allocate(updated.id):  # more capacity while people wait: the line first
        updated = store.get(updated.id) or updated  # what is left on open sale after the offers
    return public(updated, admin=True)


def delete_event(principal: Principal, event_id: str) -> None:
    retry.retried(lambda: store.delete(editable(principal, event_id)))


# --- public ---


def get_event(event_id: str) -> Event:
    """The public view of an event on sale: an eventually consistent read (availability may be a second old;
    a booking's own transaction is what decides), so everyone refreshing it during an on-sale reads a
    replica, at half the cost, and a CDN may keep the answer a second (http.cacheable)."""
    event = store.get(event_id_or_404(event_id), consistent=False)
    if event is None or event.status != EventStatus.ON_SALE:
        raise EventNotFound()
    return public(event)


# What _instant reads, for the API's description of date_from and date_to.
DATE_FILTER = (
    "An ISO 8601 date (a local date at each event's venue, as its `date` shows) or date-time (an instant: "
    "with an offset, or UTC without one); inclusive."
)

# Local days span these UTC instants, over every time zone there is (UTC-12 to UTC+14).
_EARLIEST_OFFSET, _LATEST_OFFSET = timedelta(hours=14), timedelta(hours=12)


def _instant(raw: str, field: str, *, end: bool) -> tuple[datetime, date | None]:
    """The UTC bound of an ISO date-time (naive means UTC), or of an ISO date, and then that date too.

    A date is a local date at each event's venue: the bound covers that day in every time zone, and
    the date itself is checked on each event found.
    """
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    try:
        if day is None:
            moment = datetime.fromisoformat(raw)
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC), None
        edge = datetime.combine(day, time.max if end else time.min, UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput("must be an ISO 8601 date (2026-12-01) or date-time", field=field) from exc
    try:
        return (edge + _LATEST_OFFSET if end else edge - _EARLIEST_OFFSET), day
    except OverflowError:  # the first or last day there is: no zone reaches past it
        return edge, day


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

    Dates are the venues' local dates (an 8 pm show in New York on the 3rd is on the 3rd, though it starts
    on the 4th in UTC); date-times are instants. Without date_from only events that have not started are
    listed. The cursor carries the position
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
    start, first_day = _instant(date_from, "date_from", end=False) if date_from is not None else (None, None)
    end, last_day = _instant(date_to, "date_to", end=True) if date_to is not None else (None, None)
    if (start is not None and end is not None and end < start) or (first_day and last_day and last_day < first_day):
        raise InvalidInput("must not be before date_from", field="date_to")
    try:
        lower = _bound(start, end=False) if start is not None else None
        upper = _bound(end, end=True) if end is not None else _END_OF_TIME
    except OverflowError as exc:  # rounding up the very last second there is
        raise InvalidInput("is out of range", field="date_from") from exc
    days = [d.isoformat() if d else None for d in (first_day, last_day)]
    scope = hashlib.sha256(json.dumps(["events", terms, place, lower, upper, days]).encode()).hexdigest()
    after: str | None = None
    if cursor is not None:
        position = cursors.unseal(cursor, scope)
        after, lower = position.get("after"), position.get("lower")
        if not isinstance(after, str) or not isinstance(lower, str):
            raise InvalidCursor()
    lower = lower or _bound(clock.now(), end=False)
    if lower > upper:  # no whole second in the range, or it ended before now: nothing can match
        return Page[Event](items=[])
    query = Search(lower=lower, upper=upper, terms=terms, venue_key=place, first_day=first_day, last_day=last_day)
    found, last = search(query, limit, after)
    next_cursor = cursors.seal({"after": last, "lower": lower}, scope) if last else None
    return Page[Event](items=[public(e) for e in found], next_cursor=next_cursor)
