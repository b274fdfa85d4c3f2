"""GET /events/{event_id}/tickets: what an offline scanner syncs, by the index of changes (no Scan)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest

from boxoffice import clock
from scripts.bench.common import count_calls
from tests.integration.test_bookings_api import problem
from tests.support.bookings import AT_THE_DOOR, Account, new_account, new_event
from tests.support.handlers import Api, Result

MISSING_EVENT = "00000000-0000-4000-8000-000000000000"


def book(api: Api, event_id: str, quantity: int) -> tuple[Account, dict[str, Any]]:
    buyer = new_account()
    result = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": quantity})
    assert result.status == 201, result.body
    return buyer, result.body


def listing(api: Api, who: Account | None, event_id: str, **query: Any) -> Result:
    strings = {k: str(v) for k, v in query.items()}
    return api.call("list_tickets", token=who.token if who else None, path={"event_id": event_id}, query=strings)


def sync(api: Api, who: Account, event_id: str, **query: Any) -> list[dict[str, Any]]:
    """Every page, following next_cursor, as a scanner does."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = listing(api, who, event_id, **query, **({"cursor": cursor} if cursor else {}))
        assert page.status == 200, page.body
        items += page.body["items"]
        cursor = page.body["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
def staff(api: Api) -> Account:
    return new_account("staff")


def test_a_scanner_gets_every_ticket_of_the_event_in_the_order_they_changed(api: Api, staff: Account) -> None:
    event_id, other_event = new_event(starts_in=AT_THE_DOOR), new_event(starts_in=AT_THE_DOOR, name="Elsewhere")
    # A booking's tickets change at the same instant: they come in ticket number order.
    booked = [n for _ in range(3) for n in sorted(t["ticket_number"] for t in book(api, event_id, 3)[1]["tickets"])]
    book(api, other_event, 2)

    items = sync(api, staff, event_id, limit=4)

    assert [t["ticket_number"] for t in items] == booked
    assert {t["event_id"] for t in items} == {event_id}
    assert {(t["status"], t["checked_in_at"]) for t in items} == {("VALID", None)}
    assert [t["updated_at"] for t in items] == sorted(t["updated_at"] for t in items)
    assert set(items[0]) == {"ticket_number", "event_id", "ticket_type", "status", "checked_in_at", "updated_at"}
    assert {t["ticket_type"]["name"] for t in items} == {"General admission"}


def test_changes_since_an_instant_bring_check_ins_and_cancellations(api: Api, staff: Account) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR)
    _, first = book(api, event_id, 2)
    buyer, second = book(api, event_id, 2)
    synced = sync(api, staff, event_id)
    since = max(t["updated_at"] for t in synced)

    scanned = first["tickets"][1]
    scan = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"code": scanned["code"]})
    assert scan.status == 200
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": second["id"]}).status == 200

    changes = sync(api, staff, event_id, updated_since=since)
    changed = {t["ticket_number"]: t["status"] for t in changes if t["updated_at"] > since}
    assert changed == {
        scanned["ticket_number"]: "CHECKED_IN",
        **{t["ticket_number"]: "CANCELLED" for t in second["tickets"]},
    }
    assert [t["status"] for t in changes][-2:] == ["CANCELLED", "CANCELLED"]  # the latest change comes last


def test_the_scanner_flow_verifies_offline_then_syncs(api: Api, staff: Account) -> None:
    """README's flow: fetch the keys and the tickets, verify codes with no network, sync the changes."""
    event_id = new_event(starts_in=AT_THE_DOOR)
    _, booking = book(api, event_id, 2)
    jwks = api.call("jwks").body
    known = {t["ticket_number"]: t["status"] for t in sync(api, staff, event_id)}
    keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(jwks).keys}
    for ticket in booking["tickets"]:  # offline: the code alone says which ticket it is
        claims = jwt.decode(ticket["code"], keys[jwt.get_unverified_header(ticket["code"])["kid"]].key, ["EdDSA"])
        assert claims["ev"] == event_id
        assert known[claims["tn"]] == "VALID"


def test_paging_needs_the_events_own_cursor_and_valid_filters(api: Api, staff: Account) -> None:
    event_id, other = new_event(starts_in=AT_THE_DOOR), new_event(starts_in=AT_THE_DOOR, name="Other")
    book(api, event_id, 3)
    cursor = listing(api, staff, event_id, limit=1).body["next_cursor"]
    assert cursor
    problem(listing(api, staff, other, cursor=cursor), 422, "INVALID_CURSOR")
    problem(listing(api, staff, event_id, cursor=cursor[:-2] + "xx"), 422, "INVALID_CURSOR")
    problem(listing(api, staff, event_id, updated_since="yesterday"), 422, "VALIDATION_FAILED")
    problem(listing(api, staff, event_id, updated_since="2026-12-01T10:00:00"), 422, "VALIDATION_FAILED")
    problem(listing(api, staff, event_id, limit=0), 422, "VALIDATION_FAILED")
    problem(listing(api, staff, event_id, limit=101), 422, "VALIDATION_FAILED")
    future = (clock.now() + timedelta(days=1)).isoformat()
    assert listing(api, staff, event_id, updated_since=future).body == {"items": [], "next_cursor": None}


def test_who_may_list_an_events_tickets(api: Api, staff: Account) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR)
    problem(listing(api, new_account(), event_id), 403, "FORBIDDEN")
    problem(listing(api, None, event_id), 401, "UNAUTHENTICATED")
    assert listing(api, new_account("admin"), event_id).status == 200
    problem(listing(api, staff, MISSING_EVENT), 404, "EVENT_NOT_FOUND")
    problem(listing(api, staff, "not-an-event"), 404, "EVENT_NOT_FOUND")


def test_a_page_is_one_batch_read_and_one_query_on_the_index(api: Api, staff: Account) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR)
    book(api, event_id, 5)
    with count_calls() as calls:
        assert len(listing(api, staff, event_id, limit=3).body["items"]) == 3
    assert dict(calls.operations) == {"BatchGetItem": 1, "Query": 1}


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_an_instant_that_has_no_utc_time_is_422(api: Api, staff: Account, instant: str) -> None:
    event_id = new_event()
    body = problem(listing(api, staff, event_id, updated_since=instant), 422, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "updated_since"


@pytest.mark.parametrize("since", ["0999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00-14:00"])
def test_an_instant_before_the_year_1000_brings_every_ticket(api: Api, staff: Account, since: str) -> None:
    event_id = new_event()
    _, booking = book(api, event_id, 3)
    synced = sync(api, staff, event_id, updated_since=since, limit=2)
    assert sorted(t["ticket_number"] for t in synced) == sorted(t["ticket_number"] for t in booking["tickets"])


def test_a_cursor_pages_only_the_updated_since_it_was_issued_for(api: Api, staff: Account) -> None:
    event_id = new_event()
    book(api, event_id, 3)
    since = "2000-01-01T00:00:00Z"
    cursor = listing(api, staff, event_id, updated_since=since, limit=1).body["next_cursor"]
    assert cursor
    # A later bound than the cursor's position: DynamoDB would refuse its start key (outside the range).
    later = (clock.now() + timedelta(days=1)).isoformat()
    for other in ({"updated_since": later}, {"updated_since": "2000-01-01T00:00:01Z"}, {}):
        problem(listing(api, staff, event_id, cursor=cursor, limit=1, **other), 422, "INVALID_CURSOR")
    # The same instant written another way is the same query.
    same = listing(api, staff, event_id, cursor=cursor, limit=1, updated_since="2000-01-01T01:00:00+01:00")
    assert same.status == 200, same.body
    assert listing(api, staff, event_id, cursor=cursor, limit=1, updated_since=since).status == 200
