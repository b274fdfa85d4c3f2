"""Bookings: DynamoDB round trips per request (auth included), and booking throughput through the
local HTTP runtime beside bare TransactWriteItems against the same embedded DynamoDB.

Targets (issue 5): booking = 1 transaction + <= 1 read, cancel <= 2, list <= 2 per page, get <= 2.
Throughput is the local runtime's, whose DynamoDB (moto) answers one call at a time: the ratio says
how much of a booking's time is ours (HTTP, auth, validation, the read) rather than the transaction's.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import requests

from devserver.invoke import Api
from devserver.runtime import LocalRuntime
from scripts.bench.common import QUIET, RoundTrips, local_stack, new_caller, new_event, table

CLIENTS = (1, 8, 32)
REQUESTS_PER_CLIENT = {1: 100, 8: 16, 32: 4}
TARGETS = {
    "book": "1 tx + <= 1 read",
    "book with Idempotency-Key": "1 tx + <= 1 read",
    "replay of that key": "<= 1 read",
    "list (page of 20)": "<= 2",
    "get": "<= 2",
    "cancel one ticket": "1 tx + 2 reads",
    "cancel": "<= 2",
}


def _round_trips() -> str:
    api = Api()
    token = new_caller().token
    trips = RoundTrips(api, TARGETS)
    book: dict[str, Any] = {"path": {"event_id": new_event(1000)}, "body": {"quantity": 2}, "token": token}
    made = trips.measure("book", "create_booking", 201, **book)
    key = {"Idempotency-Key": "bench-1"}
    trips.measure("book with Idempotency-Key", "create_booking", 201, headers=key, **book)
    trips.measure("replay of that key", "create_booking", 201, headers=key, **book)
    for _ in range(20):
        api.call("create_booking", **book)
    page = trips.measure("list (page of 20)", "list_bookings", 200, token, query={"limit": "20"})
    assert page["next_cursor"] is not None
    trips.measure("get", "get_booking", 200, token, path={"booking_id": made["id"]})
    one = {"booking_id": made["id"], "ticket_number": made["tickets"][0]["ticket_number"]}
    trips.measure("cancel one ticket", "cancel_ticket", 200, token, path=one)
    trips.measure("cancel", "cancel_booking", 200, token, path={"booking_id": made["id"]})
    return trips.table("DynamoDB calls per request, bookings")


def _rate(clients: int, work: Callable[[int], bool]) -> tuple[float, int]:
    """Requests per second with `clients` threads each running its share of `work`; and the failures."""
    per_client = REQUESTS_PER_CLIENT[clients]
    start = threading.Barrier(clients + 1)
    failures = Counter[bool]()

    def client(index: int) -> None:
        start.wait()
        for n in range(per_client):
            failures[work(index * per_client + n)] += 1

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(client, i) for i in range(clients)]
        start.wait()
        began = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - began
    return clients * per_client / elapsed, failures[False]


def _http_bookings(runtime: LocalRuntime, clients: int) -> tuple[float, int]:
    event_id = new_event(1_000_000)
    callers = [new_caller() for _ in range(clients)]
    sessions = threading.local()

    def book(n: int) -> bool:
        if not hasattr(sessions, "http"):
            sessions.http = requests.Session()
        response: requests.Response = sessions.http.post(
            f"{runtime.url}/events/{event_id}/bookings",
            json={"quantity": 1},
            headers={"Authorization": f"Bearer {callers[n % clients].token}"},
            timeout=60,
        )
        return response.status_code == 201

    return _rate(clients, book)


def _bare_transactions(runtime: LocalRuntime, clients: int) -> tuple[float, int]:
    """The writes of a one-ticket booking (the same six actions), without HTTP, auth, validation or the read.

    Its booking and ticket are key-only stand-ins under a BENCH# sort key: the domain-event pump reads the
    tables' streams and would refuse them as a booking or a ticket missing its attributes."""
    from boxoffice.config import settings
    from boxoffice.logic import events
    from boxoffice.store import users

    config, event_id, caller = settings(), new_event(1_000_000), new_caller()
    type_id = events.get_event(event_id).ticket_types[0].id
    sessions = threading.local()

    def transact(n: int) -> bool:
        if not hasattr(sessions, "dynamodb"):
            sessions.dynamodb = boto3.client("dynamodb", endpoint_url=runtime.endpoint)
        unique = f"{n}-{time.monotonic_ns()}"
        sessions.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": config.events_table,
                        "Key": {"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": "QUOTA"}},
                        "UpdateExpression": "SET available_tickets = available_tickets - :one, sold = sold + :one",
                        "ConditionExpression": "available_tickets >= :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Update": {
                        "TableName": config.events_table,
                        "Key": {"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": f"TYPE#{type_id}"}},
                        "UpdateExpression": "SET sold = sold + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Update": {
                        "TableName": config.bookings_table,
                        "Key": {"pk": {"S": f"USER#{caller.user_id}"}, "sk": {"S": f"HOLDING#{event_id}"}},
                        "UpdateExpression": "ADD tickets :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                users.current_check(caller.user_id, 0),
                {
                    "Put": {
                        "TableName": config.bookings_table,
                        "Item": {"pk": {"S": f"USER#{caller.user_id}"}, "sk": {"S": f"BENCH#{unique}"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": config.tickets_table,
                        "Item": {"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": f"BENCH#{unique}"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
        return True

    return _rate(clients, transact)


def _throughput() -> str:
    # moto copies every table a transaction touches, once per action: a transaction costs more as the
    # tables fill. Each measurement starts from fresh tables so that both sides pay the same.
    rows = []
    for clients in CLIENTS:
        with local_stack(**QUIET) as runtime:
            ours, failed = _http_bookings(runtime, clients)
        with local_stack(**QUIET) as runtime:
            bare, _ = _bare_transactions(runtime, clients)
        rows.append([str(clients), f"{ours:.0f}", f"{bare:.0f}", f"{bare / ours:.1f}x", str(failed)])
    headers = ["clients", "bookings/s (HTTP)", "bare transactions/s", "overhead", "non-201"]
    return "Booking throughput, local runtime (embedded moto, one DynamoDB call at a time)\n" + table(headers, rows)


def run() -> str:
    with local_stack(**QUIET):
        counts = _round_trips()
    return f"{counts}\n\n{_throughput()}"


if __name__ == "__main__":
    print(run())
