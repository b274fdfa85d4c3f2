"""DynamoDB Streams records of the bookings and tickets tables, read into the domain's records.

A stream record is a committed change of one item, with its image before and after (both streams
are NEW_AND_OLD_IMAGES). Only the items other teams may react to are read: bookings, holds and
tickets. Everything else (Idempotency-Keys, holdings, waiting-list entries, check-in counts) comes
back as a change of nothing, so every record keeps its place in the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boxoffice.records import HoldStatus
from boxoffice.store.bookings import BookingRecord, booking_in
from boxoffice.store.dynamo import Item, load
from boxoffice.store.tickets import TicketRecord, ticket_in

_HOLD = "HOLD#"


@dataclass(frozen=True, slots=True)
class HoldImage:
    """What domain events read of a checkout hold (`USER#<user id>/HOLD#<hold id>` in the bookings
    table, written by the holds' store): who holds how many of what, its status and instants, and the
    waiting-list entry it was offered to (None: a hold the buyer placed)."""

    id: str
    user_id: str
    event_id: str
    ticket_type_id: str | None
    quantity: int
    status: HoldStatus
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    waiting_entry_id: str | None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> HoldImage:
        ended_at = item.get("ended_at")
        return cls(
            id=item["id"],
            user_id=item["user_id"],
            event_id=item["event_id"],
            ticket_type_id=item.get("ticket_type_id"),
            quantity=int(item["quantity"]),
            status=HoldStatus(item["status"]),
            created_at=datetime.fromisoformat(item["created_at"]),
            expires_at=datetime.fromisoformat(item["expires_at"]),
            ended_at=datetime.fromisoformat(ended_at) if ended_at else None,
            waiting_entry_id=item.get("waiting_entry_id"),
        )


Record = BookingRecord | HoldImage | TicketRecord


@dataclass(frozen=True, slots=True)
class Change:
    sequence: str  # the record's SequenceNumber: where a retry of the batch resumes
    before: Record | None
    after: Record | None


def _hold_in(item: Item) -> HoldImage | None:
    return HoldImage.from_item(item) if str(item.get("sk", "")).startswith(_HOLD) else None


def _record(image: Mapping[str, Any] | None) -> Record | None:
    if not image:
        return None
    item = load(image)
    return booking_in(item) or _hold_in(item) or ticket_in(item)


def read(records: Iterable[Mapping[str, Any]]) -> list[Change]:
    """Each stream record of a Lambda batch as a Change, in stream order."""
    return [
        Change(
            sequence=record["dynamodb"]["SequenceNumber"],
            before=_record(record["dynamodb"].get("OldImage")),
            after=_record(record["dynamodb"].get("NewImage")),
        )
        for record in records
    ]
