"""Waiting-list tests' helpers: join, leave and list through the handlers, and an event's ticket ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.support.bookings import Account
from tests.support.handlers import Api, Result


def join(api: Api, who: Account, event_id: str, quantity: int = 1, **body: Any) -> Result:
    return api.call(
        "join_waiting_list", token=who.token, path={"event_id": event_id}, body={"quantity": quantity, **body}
    )


def leave(api: Api, who: Account, entry_id: str) -> Result:
    return api.call("leave_waiting_list", token=who.token, path={"entry_id": entry_id})


def entries(api: Api, who: Account, **query: Any) -> Result:
    return api.call("list_waiting_list", token=who.token, query={k: str(v) for k, v in query.items()})


def position(api: Api, who: Account, entry_id: str) -> int | None:
    """The entry's position as the owner's list answers it."""
    listed = entries(api, who, limit=100)
    assert listed.status == 200, listed.body
    found: int | None = next(e["position"] for e in listed.body["items"] if e["id"] == entry_id)
    return found


@dataclass(frozen=True)
class Tickets:
    """An event's quota counters: where each of its tickets is."""

    total: int
    available: int
    held: int
    reserved: int
    sold: int
    waiting: int

    @property
    def balanced(self) -> bool:
        return (
            self.available + self.held + self.reserved + self.sold == self.total
            and min(self.available, self.held, self.reserved, self.sold, self.waiting) >= 0
        )


def tickets(event_id: str) -> Tickets:
    from boxoffice.config import settings
    from boxoffice.store import dynamo, inventory, line

    quota = dynamo.get(settings().events_table, inventory.quota_key(event_id))
    assert quota is not None
    shards = line.counts(event_id, int(quota.get("waiting", 0)))
    return Tickets(
        total=int(quota["total_tickets"]),
        available=int(quota["available_tickets"]),
        held=int(quota.get("held", 0)),
        reserved=int(quota.get("reserved", 0)),
        sold=int(quota["sold"]),
        waiting=shards.total,  # the line's shards and the legacy line the quota counts
    )


def legacy_entry(event_id: str, who: Account, joined_at: datetime) -> None:
    """An entry that joined before the line had shards: its line item under `LINE#<event>`, counted by the
    quota's `waiting` (the event's one ticket type)."""
    from boxoffice.config import settings
    from boxoffice.records import EntryRecord
    from boxoffice.store import dynamo, inventory
    from boxoffice.store import waitlist as store
    from boxoffice.vocabulary import EntryStatus
    from tests.support.bookings import type_ids

    [kind] = type_ids(event_id).values()
    old = EntryRecord(
        id=f"{event_id}.01JDQ7Y3M4N5P6Q7R8S9T0V1W2",
        user_id=who.id,
        event_id=event_id,
        ticket_type_id=kind,
        ticket_type_name="General admission",
        quantity=1,
        status=EntryStatus.WAITING,
        joined_at=joined_at,
    )
    table = settings().events_table
    attributes = {k: v for k, v in store.entry_attributes(old).items() if not k.startswith("line_") or k == "line_sk"}
    dynamo.client().put_item(
        TableName=settings().bookings_table, Item=dynamo.dump({**store.entry_key(who.id, event_id), **attributes})
    )
    line_item = {"pk": f"LINE#{event_id}", "sk": store.line_sk(old), "entry_id": old.id, "user_id": who.id}
    line_item |= {"ticket_type_id": kind, "ticket_type_name": "General admission", "quantity": 1}
    dynamo.client().put_item(TableName=table, Item=dynamo.dump(line_item))
    dynamo.client().update_item(
        TableName=table,
        Key=dynamo.dump(inventory.quota_key(event_id)),
        UpdateExpression="SET waiting = :one",
        ExpressionAttributeValues=dynamo.values(one=1),
    )
