"""What tickets, calendar entries and e-mails show: a booking with its event and tickets, a hold with its
event, an event alone. Reads only, each one BatchGetItem or GetItem on keys."""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice.records import BookingRecord, EventRecord, HoldRecord, TicketRecord
from boxoffice.store import dynamo, event_items, tickets
from boxoffice.store.bookings import read_with_user
from boxoffice.store.dynamo import bookings_table, events_table, tickets_table
from boxoffice.store.holds import hold_key, hold_of
from boxoffice.vocabulary import UserRecord


@dataclass(frozen=True, slots=True)
class Sheet:
    """A booking as its tickets print it."""

    booking: BookingRecord
    event: EventRecord | None  # as described now (None: gone)
    tickets: dict[str, TicketRecord]  # by ticket number, as they are now


def _event(found: dict[str, list[dynamo.Item]]) -> EventRecord | None:
    items = found.get(events_table(), [])
    return event_items.describe(items[0]) if items else None


def read_sheet(booking: BookingRecord) -> Sheet:
    """The booking's event and every one of its tickets, in one BatchGetItem (or one per 100 keys)."""
    found = dynamo.batch_get(
        {
            events_table(): [event_items.event_key(booking.event_id)],
            tickets_table(): [
                tickets.key(booking.event_id, number, spread=booking.tickets_spread)
                for number in booking.ticket_numbers
            ],
        }
    )
    by_number = {number: record for (_, number), record in tickets.of_items(found[tickets_table()]).items()}
    return Sheet(booking, _event(found), by_number)


def read_hold_offer(
    user_id: str, hold_id: str, event_id: str
) -> tuple[UserRecord | None, HoldRecord | None, EventRecord | None]:
    """The account, its hold and the hold's event, in one BatchGetItem."""
    user, found = read_with_user(
        user_id, {bookings_table(): [hold_key(user_id, hold_id)], events_table(): [event_items.event_key(event_id)]}
    )
    items = found.get(bookings_table(), [])
    return user, (hold_of(items[0]) if items else None), _event(found)


def read_event(event_id: str) -> EventRecord | None:
    """The event as described (no counters), by one GetItem."""
    item = dynamo.get(events_table(), event_items.event_key(event_id), consistent=False)
    return event_items.describe(item) if item else None
