"""The tickets table: one item per ticket, the source of truth for its status at the door.

tickets (partition key `pk`, sort key `sk`):
  EVENT#<event id>  TICKET#<ticket number>   ticket_number, event_id, booking_id, user_id, status
                                             (VALID / CHECKED_IN / CANCELLED), code (signed, for the QR
                                             code), created_at, updated_at, checked_in_at, checked_in_by,
                                             cancelled_at

Bookings put their tickets and cancel them inside their own transactions (the actions come from
here); a booking's tickets are read beside it in the same BatchGetItem, never one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from boxoffice.config import settings
from boxoffice.store.dynamo import Item, dump, values

VALID: Final = "VALID"
CHECKED_IN: Final = "CHECKED_IN"
CANCELLED: Final = "CANCELLED"
_TICKET = "TICKET#"


@dataclass(frozen=True, slots=True)
class TicketRecord:
    event_id: str
    ticket_number: str
    booking_id: str
    status: str
    updated_at: datetime
    checked_in_at: datetime | None
    code: str | None  # its signed code, as the booking wrote it

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> TicketRecord:
        checked_in_at = item.get("checked_in_at")
        return cls(
            event_id=item["event_id"],
            ticket_number=item["ticket_number"],
            booking_id=item["booking_id"],
            status=item["status"],
            updated_at=datetime.fromisoformat(item.get("updated_at") or item["created_at"]),
            checked_in_at=datetime.fromisoformat(checked_in_at) if checked_in_at else None,
            code=item.get("code"),
        )


def table() -> str:
    return settings().tickets_table


def key(event_id: str, number: str) -> dict[str, str]:
    return {"pk": f"EVENT#{event_id}", "sk": f"{_TICKET}{number}"}


def instant(at: datetime) -> str:
    """UTC with microseconds, always the same width, so that stored instants sort as text."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def put_action(event_id: str, number: str, *, code: str, booking_id: str, user_id: str, at: datetime) -> dict[str, Any]:
    """A new VALID ticket with its code, for the booking's transaction (a number already taken fails it)."""
    item = {
        **key(event_id, number),
        "ticket_number": number,
        "event_id": event_id,
        "booking_id": booking_id,
        "user_id": user_id,
        "status": VALID,
        "code": code,
        "created_at": at.isoformat(),
        "updated_at": instant(at),
    }
    return {"Put": {"TableName": table(), "Item": dump(item), "ConditionExpression": "attribute_not_exists(pk)"}}


def cancel_action(event_id: str, number: str, at: datetime) -> dict[str, Any]:
    """VALID -> CANCELLED, for the cancel's transaction: a ticket already checked in fails it (ALL_OLD)."""
    return {
        "Update": {
            "TableName": table(),
            "Key": dump(key(event_id, number)),
            "UpdateExpression": "SET #status = :cancelled, cancelled_at = :at, updated_at = :updated",
            "ConditionExpression": "#status = :valid",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(
                cancelled=CANCELLED, valid=VALID, at=at.isoformat(), updated=instant(at)
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def of_items(items: Iterable[Item]) -> dict[tuple[str, str], TicketRecord]:
    """Ticket records by (event id, ticket number)."""
    records = (TicketRecord.from_item(item) for item in items)
    return {(r.event_id, r.ticket_number): r for r in records}
