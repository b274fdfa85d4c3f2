"""Waiting-list tests' helpers: join, leave and list through the handlers, and an event's ticket ledger."""

from __future__ import annotations

from dataclasses import dataclass
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
