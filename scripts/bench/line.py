"""A line of 100,000: what a join, a list, a leave and an offer cost behind 10, 1,000 and 100,000 entries.

The entries ahead are written straight into the line (line items over its shards, and their counters),
not through the handler: filling 100,000 through joins would take the section an hour. The section puts
them into the embedded DynamoDB's tables under its lock (BatchWriteItem through its server would take 40 s
of the section's minute); the test that checks the costs at 10 and 10,000 writes them by BatchWriteItem.
Each of them wants 10 tickets, so the one ticket that comes back is offered to the one entry ahead of them
that wants one (the head of the line), as the allocator merges the shards' heads.

What must not grow with the line: calls, items read and items written (each action of a transaction, each
item of a batch). A position is counted exactly (COUNT Queries of the items ahead) only while fewer than
1,000 are ahead, so a short line reads a little more than a long one, never less.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from devserver.invoke import Api
from devserver.runtime import LocalRuntime
from scripts.bench.common import QUIET, Calls, count_calls, local_stack, new_caller, new_event, table

SIZES = (10, 1_000, 100_000)
_BATCH = 25  # BatchWriteItem's most


@dataclass(frozen=True)
class Cost:
    calls: int
    items_read: int
    items_written: int

    @classmethod
    def of(cls, calls: Calls) -> Cost:
        return cls(calls.total, calls.items_read, calls.items_written)


Write = Callable[[list[dict[str, Any]]], None]


def batch_write(items: list[dict[str, Any]]) -> None:
    """Items into the events table by BatchWriteItem, 25 a call."""
    from boxoffice.config import settings
    from boxoffice.store import dynamo

    for start in range(0, len(items), _BATCH):
        puts = [{"PutRequest": {"Item": dynamo.dump(i)}} for i in items[start : start + _BATCH]]
        pending: dict[str, Any] = {settings().events_table: puts}
        while pending:
            pending = dynamo.client().batch_write_item(RequestItems=pending).get("UnprocessedItems", {})


def fill(event_id: str, count: int, write: Write = batch_write) -> list[dict[str, str]]:
    """`count` entries wanting 10 tickets of the event's one type join the back of its line, a microsecond
    apart after now: their line items (by `write`) and their shards' counters, flagged as the joins of a
    marked line leave them (line.STOCK_MARKED: the caller's own join marks the stock shards). Their keys."""
    from boxoffice import clock
    from boxoffice.config import settings
    from boxoffice.logic.events import get_event
    from boxoffice.store import dynamo, line

    [kind] = get_event(event_id).ticket_types
    start, table_name = clock.now(), settings().events_table
    per_shard = [0] * line.LINE_SHARDS
    items: list[dict[str, Any]] = []
    for n in range(count):
        entry_id = f"{event_id}.FILL{n:022d}"
        shard = line.shard_of(entry_id)
        per_shard[shard] += 1
        joined = (start + timedelta(microseconds=n + 1)).isoformat(timespec="microseconds")
        item = {"pk": line.line_pk(event_id, shard), "sk": f"{joined}#{entry_id}", "entry_id": entry_id}
        item |= {"user_id": f"filler-{n}", "ticket_type_id": kind.id, "ticket_type_name": kind.name}
        items.append({**item, "quantity": 10})
    write(items)
    for shard, joined_here in enumerate(per_shard):
        dynamo.client().update_item(
            TableName=table_name,
            Key=dynamo.dump(line.counter_key(event_id, shard)),
            UpdateExpression=f"ADD waiting :n SET {line.STOCK_MARKED} = :marked",
            ExpressionAttributeValues=dynamo.values(n=joined_here, marked=True),
        )
    return [{"pk": i["pk"], "sk": i["sk"]} for i in items]


def costs(
    api: Api, behind: int, advance: Callable[[timedelta], None] | None = None, write: Write = batch_write
) -> dict[str, Cost]:
    """What each request costs with `behind` entries in the line: a join at its back, the joiner's list, its
    leave, and a cancel whose ticket is offered to the head of the line. `advance` moves a test's clock past
    the entries filled in (a real one is past them once they are written)."""
    owner, head, late = new_caller(), new_caller(), new_caller()
    event_id = new_event(2)
    booked = [
        api.call("create_booking", token=owner.token, path={"event_id": event_id}, body={"quantity": 1})
        for _ in range(2)
    ]
    join: dict[str, Any] = {"path": {"event_id": event_id}, "body": {"quantity": 1}}
    assert api.call("join_waiting_list", token=head.token, **join).status == 201
    fill(event_id, behind, write)
    if advance is not None:
        advance(timedelta(microseconds=behind + 1))
    # In a rush each process has read the event within the last second (event_items.recent): one joins just
    # before, so every length is measured so, whatever filling it took.
    assert api.call("join_waiting_list", token=new_caller().token, **join).status == 201
    measured: dict[str, Cost] = {}

    def measure(label: str, name: str, expect: int, token: str, **kwargs: Any) -> Any:
        with count_calls() as calls:
            result = api.call(name, token=token, **kwargs)
        assert result.status == expect, (label, result.status, result.body)
        measured[label] = Cost.of(calls)
        return result.body

    entry = measure("join", "join_waiting_list", 201, late.token, **join)
    assert entry["position"] >= behind + 2, entry  # behind the head and everyone filled in
    measure("list", "list_waiting_list", 200, late.token, query={})
    measure("leave", "leave_waiting_list", 200, late.token, path={"entry_id": entry["id"]})
    measure("offer (a cancel)", "cancel_booking", 200, owner.token, path={"booking_id": booked[0].body["id"]})
    return measured


def _into_moto(runtime: LocalRuntime) -> Write:
    """Items put straight into the embedded DynamoDB's events table, under the lock its server takes."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from boxoffice.config import settings
    from boxoffice.store import dynamo

    def write(items: list[dict[str, Any]]) -> None:
        assert runtime.dynamodb is not None
        region = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]
        table = region.tables[settings().events_table]
        with runtime.dynamodb.lock:
            for item in items:
                table.put_item(dynamo.dump(item))

    return write


def _section(runtime: LocalRuntime) -> str:
    rows = []
    for size in SIZES:
        for request, cost in costs(Api(), size, write=_into_moto(runtime)).items():
            rows.append([f"{size:,}", request, str(cost.calls), str(cost.items_read), str(cost.items_written)])
    return "A line of 100,000: DynamoDB calls and items per request behind N entries\n" + table(
        ["entries ahead", "request", "calls", "items read", "items written"], rows
    )


def run() -> str:
    with local_stack(**QUIET) as runtime:
        if runtime.scheduler is not None:
            runtime.scheduler.stop()  # a sweep would make the offer the measured cancel should make
        return _section(runtime)


if __name__ == "__main__":
    print(run())
