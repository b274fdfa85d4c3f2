"""GET /events/{event_id}/tickets: what an offline scanner syncs, by the index of changes (no Scan)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.store import dynamo, tickets
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


def test_a_page_is_one_batch_read_and_one_query_per_partition_of_the_index(api: Api, staff: Account) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR)
    book(api, event_id, 2)
    with count_calls() as calls:
        assert len(listing(api, staff, event_id, limit=1).body["items"]) == 1
    # Its shards and the event's own key, each read once: a first read of 2 covers a page of 1 and its next.
    assert dict(calls.operations) == {"BatchGetItem": 1, "Query": tickets.TICKET_SHARDS + 1}


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


# --- tickets spread over partitions, and tickets stored before they were ---


def stored_before_spreading(event_id: str, booking: dict[str, Any], owner: Account) -> None:
    """The booking and its tickets as the version before spreading wrote them: the tickets under the
    event's own key, the booking without `tickets_spread`."""
    config, client = settings(), dynamo.client()
    for ticket in booking["tickets"]:
        spread = tickets.key(event_id, ticket["ticket_number"], spread=True)
        item = client.get_item(TableName=config.tickets_table, Key=dynamo.dump(spread), ConsistentRead=True)["Item"]
        before = tickets.key(event_id, ticket["ticket_number"], spread=False)
        client.put_item(TableName=config.tickets_table, Item={**item, **dynamo.dump(before)})
        client.delete_item(TableName=config.tickets_table, Key=dynamo.dump(spread))
    client.update_item(
        TableName=config.bookings_table,
        Key=dynamo.dump({"pk": f"USER#{owner.id}", "sk": f"BOOKING#{booking['id']}"}),
        UpdateExpression="REMOVE tickets_spread",
    )


def test_sync_over_every_partition_returns_each_change_once_in_order_across_pages(api: Api, staff: Account) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR)
    bought = [book(api, event_id, 4) for _ in range(6)]
    stored_before_spreading(event_id, bought[0][1], bought[0][0])
    numbers = {t["ticket_number"] for _, booking in bought for t in booking["tickets"]}
    assert len({tickets.key(event_id, n, spread=True)["pk"] for n in numbers}) > 10

    seen: list[dict[str, Any]] = []
    page = listing(api, staff, event_id, limit=5)
    # Changes made while the scanner pages: the old-layout ticket checked in, a new booking cancelled.
    old_ticket = bought[0][1]["tickets"][2]["ticket_number"]
    scan = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"ticket_number": old_ticket})
    assert scan.status == 200, scan.body
    buyer, cancelled = bought[3]
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": cancelled["id"]}).status == 200
    while True:
        assert page.status == 200, page.body
        seen += page.body["items"]
        if page.body["next_cursor"] is None:
            break
        page = listing(api, staff, event_id, limit=5, cursor=page.body["next_cursor"])

    changes = [(t["updated_at"], t["ticket_number"]) for t in seen]
    assert changes == sorted(set(changes))  # in change order, each change once
    assert {number for _, number in changes} == numbers
    latest = {t["ticket_number"]: t["status"] for t in seen}  # the last change of each ticket wins
    assert latest[old_ticket] == "CHECKED_IN"
    assert {n for n, status in latest.items() if status == "CANCELLED"} == {
        t["ticket_number"] for t in cancelled["tickets"]
    }


def test_tickets_stored_before_spreading_are_read_checked_in_and_cancelled(api: Api, staff: Account) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR)
    owner, booking = book(api, event_id, 3)
    stored_before_spreading(event_id, booking, owner)
    first, *rest = [t["ticket_number"] for t in booking["tickets"]]

    scan = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"ticket_number": first})
    assert (scan.status, scan.body["status"]) == (200, "CHECKED_IN"), scan.body
    read = api.call("get_booking", token=owner.token, path={"booking_id": booking["id"]})
    assert [t["status"] for t in read.body["tickets"]] == ["CHECKED_IN", "VALID", "VALID"]
    path = {"booking_id": booking["id"], "ticket_number": rest[0]}
    assert api.call("cancel_ticket", token=owner.token, path=path).status == 200
    assert {t["ticket_number"]: t["status"] for t in sync(api, staff, event_id)} == {
        first: "CHECKED_IN",
        rest[0]: "CANCELLED",
        rest[1]: "VALID",
    }
    assert not any(dynamo.get(settings().tickets_table, tickets.key(event_id, n, spread=True)) for n in (first, *rest))
