"""GET /events/{event_id} and GET /events read nothing hot during an on-sale: eventually consistent reads
a CDN may keep for a second; answers for one caller, and errors, are never stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from scripts.bench.common import hooked
from tests.integration.test_bookings_api import book
from tests.support.bookings import Account, new_account, new_event
from tests.support.handlers import Api

PUBLIC = "public, max-age=1, stale-while-revalidate=1"


@contextmanager
def reads() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """(operation, parameters) of every call sent through the store's client while the block runs."""

    sent: list[tuple[str, dict[str, Any]]] = []

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        sent.append((model.name, dict(params)))

    with hooked("provide-client-params.dynamodb", before):
        yield sent


def strongly_consistent(sent: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The calls that asked for a strongly consistent read (a BatchGetItem asks per table)."""
    return [
        name
        for name, params in sent
        if any(read.get("ConsistentRead") for read in [params, *params.get("RequestItems", {}).values()])
    ]


@pytest.fixture
def alice(api: Api) -> Account:
    return new_account()


def test_an_event_is_read_eventually_consistent_and_a_cdn_may_keep_it_a_second(api: Api) -> None:
    event_id = new_event(total=10)
    with reads() as sent:
        shown = api.call("get_event", path={"event_id": event_id})
    assert (shown.status, shown.body["available_tickets"]) == (200, 10)
    assert shown.headers["Cache-Control"] == PUBLIC
    assert [name for name, _ in sent] == ["Query"]
    assert strongly_consistent(sent) == []


@pytest.mark.parametrize("query", [{}, {"q": "moonlight"}, {"venue": "royal hall"}])
def test_search_pages_are_read_eventually_consistent_and_cacheable(api: Api, query: dict[str, str]) -> None:
    event_id = new_event(total=10)
    with reads() as sent:
        found = api.call("list_events", query={**query, "limit": "100"})
    assert event_id in [e["id"] for e in found.body["items"]]
    assert found.headers["Cache-Control"] == PUBLIC
    assert strongly_consistent(sent) == []


def test_answers_for_one_caller_and_errors_are_never_stored(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    made = book(api, alice, event_id, 1)
    read = api.call("get_booking", token=alice.token, path={"booking_id": made.body["id"]})
    missing = api.call("get_event", path={"event_id": "00000000-0000-4000-8000-000000000000"})
    bad = api.call("list_events", query={"limit": "0"})
    for answer in (made, read, missing, bad):
        assert answer.headers["Cache-Control"] == "no-store", answer.status
