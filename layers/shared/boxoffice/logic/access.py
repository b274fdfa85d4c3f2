"""Which event a request acts on: ids that can name one, and the admin's read of an event to edit."""

from __future__ import annotations

from boxoffice import ids
from boxoffice.errors import EventNotFound
from boxoffice.logic.permissions import require_current
from boxoffice.records import EventRecord
from boxoffice.store import events as store
from boxoffice.vocabulary import EventStatus, Principal


def event_id_or_404(raw: str) -> str:
    """Anything but a lowercase UUID names no event (and never reaches DynamoDB)."""
    if not ids.is_uuid(raw):
        raise EventNotFound()
    return raw


def editable(principal: Principal, event_id: str, *, upgrading: bool = True) -> EventRecord:
    """The event on sale with its quota, read in one round trip with the caller's account to check the
    token version. An event stored before ticket types is moved to today's items first, unless not
    `upgrading` (a write that cannot concern such an event: it is read as it is)."""
    event, account = store.get_for_user(event_id_or_404(event_id), principal.user_id, upgrading=upgrading)
    require_current(principal, account)
    if event is None or event.status != EventStatus.ON_SALE:
        raise EventNotFound()
    return event
