"""Holds tests' helpers: a clock the test moves, calls to the hold handlers, and where an event's tickets are."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support.bookings import Account, _scan
from tests.support.fixtures import SerialisedMoto
from tests.support.handlers import Api, Result


class Clock:
    """boxoffice.clock.now, frozen at the real now and moved only by the test (expiry in milliseconds)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from boxoffice import clock

        self.now: datetime = clock.now()
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def place(api: Api, who: Account, event_id: str, quantity: Any = 2, ticket_type_id: str | None = None) -> Result:
    body = {"quantity": quantity, **({"ticket_type_id": ticket_type_id} if ticket_type_id else {})}
    return api.call("create_hold", token=who.token, path={"event_id": event_id}, body=body)


def confirm(api: Api, who: Account, hold_id: str, key: str | None = None) -> Result:
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.call("confirm_hold", token=who.token, path={"hold_id": hold_id}, headers=headers)


def release(api: Api, who: Account, hold_id: str) -> Result:
    return api.call("release_hold", token=who.token, path={"hold_id": hold_id})


def get(api: Api, who: Account, hold_id: str) -> Result:
    return api.call("get_hold", token=who.token, path={"hold_id": hold_id})


def sweep() -> int:
    """One run of the scheduled sweeper, through its handler as EventBridge invokes it; how many it released."""
    from boxoffice import clock
    from devserver import scheduler

    [schedule] = [s for s in scheduler.schedules() if s.function.code_dir.name == "sweep_holds"]
    released: int = scheduler.run(schedule, clock.now())["released"]
    return released


@dataclass(frozen=True)
class Stock:
    """Where an event's tickets are, by its quota's counters and by its tickets and holds themselves."""

    total: int
    available: int
    sold: int
    held: int
    reserved: int
    valid_tickets: int  # VALID tickets of the event
    holding: int  # tickets in HELD holds
    holds: dict[str, str]  # hold id -> status as stored
    types: dict[str, tuple[int, int, int | None, int | None]]  # type id -> (sold, held, available, total)

    @property
    def balanced(self) -> bool:
        """Every counter agrees with the items, and every ticket is in exactly one place."""
        types_whole = all(
            total is None or (available is not None and available + held + sold == total)
            for sold, held, available, total in self.types.values()
        )
        return (
            self.sold + self.held + self.reserved + self.available == self.total
            and (self.sold, self.held) == (self.valid_tickets, self.holding)
            and min(self.available, self.held, self.reserved) >= 0
            and sum(t[0] for t in self.types.values()) == self.sold
            and sum(t[1] for t in self.types.values()) == self.held
            and types_whole
        )


def _stock(counters: Iterable[dict[str, Any]], tickets: Iterable[dict[str, Any]], holds: list[dict[str, Any]]) -> Stock:
    """Counters summed over the event's stock shards (shard 0's items alone keep the totals)."""
    counters = list(counters)
    quotas = [c for c in counters if c["sk"] == "QUOTA"]
    quota = next(c for c in quotas if "#S" not in c["pk"])

    def summed(items: Iterable[dict[str, Any]], name: str) -> int | None:
        found = [int(i[name]) for i in items if name in i]
        return sum(found) if found else None

    by_type: dict[str, list[dict[str, Any]]] = {}
    for c in counters:
        if c["sk"].startswith("TYPE#"):
            by_type.setdefault(c["sk"].removeprefix("TYPE#"), []).append(c)
    return Stock(
        total=int(quota["total_tickets"]),
        available=summed(quotas, "available_tickets") or 0,
        sold=summed(quotas, "sold") or 0,
        held=summed(quotas, "held") or 0,
        reserved=summed(quotas, "reserved") or 0,
        valid_tickets=sum(t["status"] == "VALID" for t in tickets),
        holding=sum(int(h["quantity"]) for h in holds if h["status"] == "HELD"),
        holds={h["id"]: h["status"] for h in holds},
        types={
            type_id: (
                summed(items, "sold") or 0,
                summed(items, "held") or 0,
                summed(items, "available_tickets"),
                summed(items, "total_tickets"),
            )
            for type_id, items in by_type.items()
        },
    )


def stock(event_id: str) -> Stock:
    """Read straight from the tables (a test may Scan; the API never does)."""
    from boxoffice.config import settings

    config = settings()
    partition = f"EVENT#{event_id}"
    counters = [c for c in _scan(config.events_table) if c["pk"] == partition or c["pk"].startswith(f"{partition}#S")]
    tickets = [
        t for t in _scan(config.tickets_table) if t.get("event_id") == event_id and t["sk"].startswith("TICKET#")
    ]
    holds = [i for i in _scan(config.bookings_table) if i.get("event_id") == event_id and i["sk"].startswith("HOLD#")]
    return _stock(counters, tickets, holds)


def stock_now(db: SerialisedMoto, event_id: str) -> Stock:
    """The event's Stock as one instant: read from moto's memory while its one lock keeps every request
    out, so no transaction is half seen (a test-only view; the API never reads like this). Only the
    items are copied under the lock; they are decoded after it."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    from boxoffice.config import settings
    from boxoffice.store import tickets as ticket_store
    from boxoffice.store.dynamo import load

    config = settings()
    partition = DynamoType({"S": f"EVENT#{event_id}"})
    with db.lock:
        tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].tables
        events = tables[config.events_table].items
        shards = [k for k in events if k == partition or str(k.value).startswith(f"{partition.value}#S")]
        counters = [i.to_json() for k in shards for i in events[k].values()]
        stored = tables[config.tickets_table].items
        tickets = [
            i.to_json()
            for pk in ticket_store.partitions(event_id)
            for i in stored.get(DynamoType({"S": pk}), {}).values()
        ]
        holds = [
            i.to_json()
            for i in tables[config.bookings_table].all_items()
            if i.attrs["sk"].value.startswith("HOLD#") and i.attrs["event_id"].value == event_id
        ]
    decoded = [[load(i["Attributes"]) for i in items] for items in (counters, tickets, holds)]
    counted = [c for c in decoded[0] if c["sk"] == "QUOTA" or c["sk"].startswith("TYPE#")]
    return _stock(counted, [t for t in decoded[1] if t["sk"].startswith("TICKET#")], decoded[2])
