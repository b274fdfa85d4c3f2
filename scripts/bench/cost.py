"""What a million bookings cost: units measured on the real booking handler, times list prices.

Measured here, so the bill follows the code: the read units of every item the booking reads (sized as
stored, strongly consistent or not as sent), the write units of its transaction (writes.py's rules),
the index entries its items write (from the template's indexes), and the stream records that pass the
publisher's filters. Not measurable on this machine, so stated: Lambda's warm duration and cold-start
share, and the log bytes per request (docs/DEPLOY.md says where each comes from). docs/DEPLOY.md quotes
this section's output; rerun `make bench` (or `python -m scripts.bench cost`) after a change to the
booking path or to the prices below.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devserver import streams, template
from devserver.invoke import Api
from scripts.bench.common import local_stack, new_caller, new_event, sent_reads, sent_transactions, table
from scripts.bench.writes import KB, item_size, transaction_units

PRICES_AS_OF = "us-east-1 list prices as docs/DEPLOY.md gives them"
WRU, RRU = 0.625, 0.125  # $ per million DynamoDB on-demand write / read request units
LAMBDA_GB_SECOND, LAMBDA_REQUEST = 0.0000133334, 0.20  # arm64; $ per GB-second, $ per million requests
API_REQUEST = 1.00  # HTTP API, $ per million (first 300 million a month)
LOGS_GB = 0.50  # CloudWatch Logs ingestion, $ per GB
EVENTS_PUT = 1.00  # EventBridge custom events, $ per million
ARCHIVE_GB = 0.10  # EventBridge archive, $ per GB archived

# Stated, not measured here (docs/DEPLOY.md, "What it costs").
BOOKING_MEMORY_GB, BOOKING_WARM_SECONDS = 0.5, 0.060
COLD_SHARE, INIT_SECONDS = 0.01, 1.0
FUNCTION_LOG_BYTES, ACCESS_LOG_BYTES = 1100, 450  # platform lines + "Booking created" + EMF; one JSON line
PUBLISHER_MEMORY_GB, PUBLISHER_SECONDS, RECORDS_PER_BATCH = 0.25, 0.100, 100
EVENT_BYTES = 600  # one BookingConfirmed as EventBridge stores it (envelope and detail)
QUANTITY = 2


@dataclass(frozen=True)
class Line:
    part: str
    units: str
    dollars: float  # per million bookings


def _stored(table_name: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
    from boxoffice.store import dynamo

    item: dict[str, Any] | None = (
        dynamo.client().get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")
    )
    return item


def read_units(reads: list[tuple[str, dict[str, Any]]]) -> float:
    """DynamoDB bills each item read by its whole stored size (whatever the projection): 1 unit per started
    4 KB strongly consistent, half that eventually consistent; a missing item costs what a 1-byte one does."""
    units = 0.0
    for operation, params in reads:
        requests = params["RequestItems"].items() if operation == "BatchGetItem" else [(params["TableName"], params)]
        for table_name, request in requests:
            keys = request["Keys"] if operation == "BatchGetItem" else [request["Key"]]
            per_item = 1.0 if request.get("ConsistentRead") else 0.5
            for key in keys:
                size = item_size(_stored(table_name, key) or {})
                units += per_item * max(1, math.ceil(size / (4 * KB)))
    return units


def index_units(actions: list[dict[str, Any]]) -> int:
    """Write units of the index entries the transaction's items make (1 per started KB of the projection):
    an item is in an index when it carries the index's keys after the write."""
    names = {v: k for k, v in _table_names().items()}
    units = 0
    for action in actions:
        (kind, request), *_ = action.items()
        if kind == "ConditionCheck":
            continue
        key = request.get("Key") or {k: request["Item"][k] for k in ("pk", "sk") if k in request["Item"]}
        item = _stored(request["TableName"], key)
        for index in template.tables()[names[request["TableName"]]].get("GlobalSecondaryIndexes", []):
            keys = [k["AttributeName"] for k in index["KeySchema"]]
            if item is None or not all(k in item for k in keys):
                continue
            projection = index["Projection"]
            kept = (
                item
                if projection["ProjectionType"] == "ALL"
                else {
                    k: v for k, v in item.items() if k in {"pk", "sk", *keys, *projection.get("NonKeyAttributes", [])}
                }
            )
            units += max(1, math.ceil(item_size(kept) / KB))
    return units


def publisher_records(actions: list[dict[str, Any]]) -> int:
    """Stream records of the transaction that the publisher's filters let through (the others cost nothing)."""
    names = {v: k for k, v in _table_names().items()}
    mappings = {m.table: m for m in streams.stream_mappings()}
    passed = 0
    for action in actions:
        (kind, request), *_ = action.items()
        mapping = mappings.get(names[request["TableName"]])
        if kind == "ConditionCheck" or mapping is None:
            continue
        key = request.get("Key") or {k: request["Item"][k] for k in ("pk", "sk") if k in request["Item"]}
        record = {"eventName": "INSERT" if kind == "Put" else "MODIFY", "dynamodb": {"Keys": key}}
        passed += mapping.accepts(record)
    return passed


def _table_names() -> dict[str, str]:
    from boxoffice.config import settings

    config = settings()
    return {
        "UsersTable": config.users_table,
        "EventsTable": config.events_table,
        "BookingsTable": config.bookings_table,
        "TicketsTable": config.tickets_table,
    }


def _writes(actions: list[dict[str, Any]]) -> int:
    total = 0
    for action in actions:
        (_, request), *_ = action.items()
        key = request.get("Key") or {k: request["Item"][k] for k in ("pk", "sk") if k in request["Item"]}
        total += transaction_units(item_size(_stored(request["TableName"], key) or {}))
    return total


def bill() -> list[Line]:
    """One typical booking (2 tickets, an Idempotency-Key) through the real handler, priced per million."""
    event_id, caller = new_event(total=1000), new_caller()
    body, headers = {"quantity": QUANTITY}, {"Idempotency-Key": "cost-1"}
    with sent_reads() as reads, sent_transactions() as actions:
        result = Api().call(
            "create_booking", token=caller.token, path={"event_id": event_id}, body=body, headers=headers
        )
    assert result.status == 201, result.body
    rru, wru, iwru = read_units(reads), _writes(actions), index_units(actions)
    records = publisher_records(actions)
    gb_seconds = BOOKING_MEMORY_GB * (BOOKING_WARM_SECONDS + COLD_SHARE * INIT_SECONDS)
    publisher = records / RECORDS_PER_BATCH
    logs_gb = (FUNCTION_LOG_BYTES + ACCESS_LOG_BYTES) / 1024**3
    return [
        Line("DynamoDB reads (measured)", f"{rru:g} RRU", rru * RRU),
        Line(f"DynamoDB transaction, {len(actions)} actions (measured)", f"{wru} WRU", wru * WRU),
        Line("DynamoDB index entries (measured)", f"{iwru} WRU", iwru * WRU),
        Line("Lambda requests", "1", LAMBDA_REQUEST),
        Line("Lambda duration, warm + 1% INIT (stated)", f"{gb_seconds:.4f} GB-s", gb_seconds * LAMBDA_GB_SECOND * 1e6),
        Line("API Gateway", "1 request", API_REQUEST),
        Line(
            "Logs: function and access log (stated)",
            f"{FUNCTION_LOG_BYTES + ACCESS_LOG_BYTES} B",
            logs_gb * LOGS_GB * 1e6,
        ),
        Line("Stream records that invoke the publisher (measured)", f"{records}", 0.0),
        Line(
            "Publisher: invocations of 100 records, duration (stated)",
            f"{publisher:g} req",
            publisher * (LAMBDA_REQUEST + PUBLISHER_MEMORY_GB * PUBLISHER_SECONDS * LAMBDA_GB_SECOND * 1e6),
        ),
        Line(
            "EventBridge: events put, archived",
            f"{records} event",
            records * (EVENTS_PUT + EVENT_BYTES / 1024**3 * ARCHIVE_GB * 1e6),
        ),
    ]


def total(lines: list[Line]) -> float:
    return sum(line.dollars for line in lines)


def run() -> str:
    with local_stack():
        lines = bill()
    rows = [[line.part, line.units, f"${line.dollars:.2f}"] for line in lines]
    rows.append(["total per million bookings", "", f"${total(lines):.2f}"])
    return f"Cost of a million bookings ({QUANTITY} tickets, Idempotency-Key; {PRICES_AS_OF})\n" + table(
        ["part", "units per booking", "per million"], rows
    )


if __name__ == "__main__":
    print(run())
