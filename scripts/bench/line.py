"""A line of 100,000: what a join, a list, a leave and an offer cost behind 10, 1,000 and 100,000 entries.

The entries ahead are written straight into the line (line items over its shards by BatchWriteItem, and
their counters), not through the handler: filling 100,000 through joins would take the section an hour.
Each of them wants 10 tickets, so the one ticket that comes back is offered to the one entry ahead of them
that wants one (the head of the line), as the allocator merges the shards' heads.

What must not grow with the line: calls, items read and items written (each action of a transaction, each
item of a batch). A position is counted exactly (COUNT Queries of the items ahead) only while fewer than
1,000 are ahead, so a short line reads a little more than a long one, never less.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from devserver.invoke import Api
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


def fill(event_id: str, count: int) -> list[dict[str, str]]:
    """`count` entries wanting 10 tickets of the event's one type join the back of its line, a microsecond
    apart after now: their line items (one BatchWriteItem per 25) and their shards' counters. Their keys."""
    from boxoffice import clock
    from boxoffice.config import settings
    from boxoffice.logic.events import get_event
    from boxoffice.store import dynamo, line

    [kind] = get_event(event_id).ticket_types
    start, table_name = clock.now(), settings().events_table
    per_shard = [0] * line.LINE_SHARDS
    batch: list[dict[str, Any]] = []
    keys: list[dict[str, str]] = []
    for n in range(count):
        entry_id = f"{event_id}.FILL{n:022d}"
        shard = line.shard_of(entry_id)
        per_shard[shard] += 1
        joined = (start + timedelta(microseconds=n + 1)).isoformat(timespec="microseconds")
        item = {"pk": line.line_pk(event_id, shard), "sk": f"{joined}#{entry_id}", "entry_id": entry_id}
        item |= {"user_id": f"filler-{n}", "ticket_type_id": kind.id, "ticket_type_name": kind.name}
        batch.append({"PutRequest": {"Item": dynamo.dump({**item, "quantity": 10})}})
        keys.append({"pk": item["pk"], "sk": item["sk"]})
        if len(batch) == _BATCH or n == count - 1:
            pending: dict[str, Any] = {table_name: batch}
            while pending:
                pending = dynamo.client().batch_write_item(RequestItems=pending).get("UnprocessedItems", {})
            batch = []
    for shard, joined_here in enumerate(per_shard):
        dynamo.client().update_item(
            TableName=table_name,
            Key=dynamo.dump(line.counter_key(event_id, shard)),
            UpdateExpression="ADD waiting :n",
            ExpressionAttributeValues=dynamo.values(n=joined_here),
        )
    return keys


def costs(api: Api, behind: int, advance: Callable[[timedelta], None] | None = None) -> dict[str, Cost]:
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
    fill(event_id, behind)
    if advance is not None:
        advance(timedelta(microseconds=behind + 1))
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


def _section() -> str:
    rows = []
    for size in SIZES:
        for request, cost in costs(Api(), size).items():
            rows.append([f"{size:,}", request, str(cost.calls), str(cost.items_read), str(cost.items_written)])
    return "A line of 100,000: DynamoDB calls and items per request behind N entries\n" + table(
        ["entries ahead", "request", "calls", "items read", "items written"], rows
    )


def run() -> str:
    with local_stack(**QUIET) as runtime:
        if runtime.scheduler is not None:
            runtime.scheduler.stop()  # a sweep would make the offer the measured cancel should make
        return _section()


if __name__ == "__main__":
    print(run())
