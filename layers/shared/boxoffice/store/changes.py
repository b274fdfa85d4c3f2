"""DynamoDB Streams records of the bookings and tickets tables, read into the domain's records.

A stream record is a committed change of one item, with its image before and after (both streams
are NEW_AND_OLD_IMAGES). Only the items other teams may react to are read: bookings, holds and
tickets. Everything else (Idempotency-Keys, holdings, waiting-list entries, check-in counts) comes
back as a change of nothing, so every record keeps its place in the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from boxoffice.records import Change, ChangedRecord, HoldImage
from boxoffice.store.bookings import booking_in
from boxoffice.store.dynamo import Item, load
from boxoffice.store.tickets import ticket_in
from boxoffice.vocabulary import HoldStatus

_HOLD = "HOLD#"


def hold_image_of(item: Mapping[str, Any]) -> HoldImage:
    ended_at = item.get("ended_at")
    return HoldImage(
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


def _hold_in(item: Item) -> HoldImage | None:
    return hold_image_of(item) if str(item.get("sk", "")).startswith(_HOLD) else None


def _record(image: Mapping[str, Any] | None) -> ChangedRecord | None:
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
