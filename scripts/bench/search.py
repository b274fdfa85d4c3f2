"""Search read amplification on 10,000 generated events, and DynamoDB calls per event request.

Targets (issue 4): at most 2 items read per item returned and one Query per page (plus one
BatchGetItem where the word index points at events). A Scan would read all 10,000 events (and the
word entries beside them) for every page.

moto answers every Query by walking the whole table (about 10 s here for 10,000 events and their
word entries), longer than the handlers' 5 s read timeout over HTTP, so this runs moto in-process.
The counts are DynamoDB's; only the time is moto's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

from devserver.dynamodb import create_tables
from devserver.invoke import Api
from devserver.runtime import LAYER, LocalRuntime, reset_caches
from scripts import seed_events
from scripts.bench.common import RoundTrips, count_calls, table

EVENTS = 10_000
LIMIT = 20
REQUEST_TARGETS = {
    "POST /events": "1",
    "GET /events/{id}": "1",
    "PATCH capacity/price": "3",
    "PATCH name or start": "3",
    "DELETE /events/{id}": "2",
}


@contextmanager
def in_process_moto() -> Iterator[None]:
    """moto's DynamoDB in this process, the template's tables, and the handlers' environment."""
    import sys

    from moto import mock_aws

    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))
    # The runtime's environment (tables named bench-<LogicalId>), pointed at the real endpoint, which moto intercepts.
    runtime = LocalRuntime(0, dynamodb_endpoint="in-process", table_prefix="bench", extra_env={"BCRYPT_ROUNDS": "4"})
    env = {**runtime.environment(), "DYNAMODB_ENDPOINT_URL": "", "POWERTOOLS_LOG_LEVEL": "WARNING"}
    with mock.patch.dict(os.environ, env), mock_aws():
        reset_caches()
        create_tables(None, "bench")
        try:
            yield
        finally:
            reset_caches()


def _search_rows(api: Api) -> list[list[str]]:
    venue = seed_events.venues(200)[0]
    monday = (datetime.now(UTC) + timedelta(days=30)).date()
    week = {"date_from": monday.isoformat(), "date_to": (monday + timedelta(days=6)).isoformat()}
    cases: list[tuple[str, dict[str, str]]] = [
        (f"venue ({venue})", {"venue": venue}),
        ("one-week date range", week),
        ("name word (q=jazz)", {"q": "jazz"}),
        ("name prefix (q=beeth)", {"q": "beeth"}),
        ("venue + week", {"venue": venue, **week}),
        ("default listing", {}),
        # Not a target: the second word is checked on the events the first word's entries point at.
        ("two words (q=midnight jazz)", {"q": "midnight jazz"}),
    ]
    rows = []
    for label, query in cases:
        with count_calls() as calls:
            result = api.call("list_events", query={**query, "limit": str(LIMIT)})
        assert result.status == 200, (query, result.body)
        assert set(calls.operations) <= {"Query", "BatchGetItem"}, calls.operations
        returned = len(result.body["items"])
        per_item = f"{calls.items_read / returned:.2f}" if returned else "-"
        rows.append(
            [label, str(returned), str(calls.items_read), per_item, str(calls.operations["Query"]),
             str(calls.operations["BatchGetItem"]), "yes" if result.body["next_cursor"] else "no"]
        )  # fmt: skip
    return rows


def _requests(api: Api) -> RoundTrips:
    from boxoffice.logic import accounts
    from boxoffice.vocabulary import Role

    accounts.create_account("Bench Admin", "bench-admin@example.com", "bench-password", role=Role.ADMIN)
    login = api.call("login", body={"email": "bench-admin@example.com", "password": "bench-password"})
    token = login.body["access_token"]
    start = (datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0).isoformat()
    body = {"name": "Midnight Jazz Session", "venue": "Bench Hall", "starts_at": start, "total_tickets": 100,
            "ticket_price": "20.00"}  # fmt: skip
    trips = RoundTrips(api, REQUEST_TARGETS)
    event = trips.measure("POST /events", "create_event", 201, token, body=body)
    path = {"event_id": event["id"]}
    trips.measure("GET /events/{id}", "get_event", 200, token, path=path)
    # The event and its quota item change in one transaction, which returns no item: a Query reads them back.
    trips.measure("PATCH capacity/price", "update_event", 200, token, path=path, body={"total_tickets": 150})
    trips.measure("PATCH name or start", "update_event", 200, token, path=path, body={"name": "Late Jazz Session"})
    trips.measure("DELETE /events/{id}", "delete_event", 204, token, path=path)
    return trips


def run() -> str:
    with in_process_moto():
        api = Api()
        requests = _requests(api)  # call counts do not depend on the table's size; moto's time does
        seed_events.load(EVENTS)
        search = _search_rows(api)
    return "\n".join(
        [
            f"Search on {EVENTS:,} generated events (365 days, 200 venues), limit {LIMIT}, first page",
            table(
                ["search", "returned", "items read", "read/returned", "Query", "BatchGetItem", "next page"],
                search,
            ),
            "A Scan would read every item of the table (10,000 events and their word entries) for each page.",
            "",
            requests.table("DynamoDB calls per request, events (token check included)"),
        ]
    )


if __name__ == "__main__":
    print(run())
