"""Events and bookings stored by the first version (counters on the event item, no ticket types) keep
working: read as one "General admission" type, upgraded to today's items by the first write that needs
their counters, exactly once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.records import legacy_type_id
from boxoffice.store import dynamo
from tests.support.bookings import AT_THE_DOOR, Account, ledger, new_account
from tests.support.events import token_for
from tests.support.handlers import Api


def v1_event(
    total: int = 10, available: int = 10, name: str = "Old Faithful", starts_in: timedelta = timedelta(days=20)
) -> str:
    """An event item exactly as the first version wrote it, with its index keys and word entries."""
    event_id = str(uuid.uuid4())
    now = clock.now().replace(microsecond=0)
    starts = (now + starts_in).isoformat()
    item: dict[str, Any] = {
        "pk": f"EVENT#{event_id}", "sk": "EVENT", "id": event_id, "name": name, "description": "From v1.",
        "venue": "Old Hall", "venue_key": "old hall", "starts_at": starts, "starts_key": f"{starts}#{event_id}",
        "total_tickets": total, "available_tickets": available, "ticket_price": Decimal("20"), "currency": "EUR",
        "max_tickets_per_booking": 10, "status": "ON_SALE", "created_at": now.isoformat(),
        "updated_at": now.isoformat(), "list_pk": "LIVE", "venue_pk": "VENUE#old hall",
    }  # fmt: skip
    client = dynamo.client()
    client.put_item(TableName=settings().events_table, Item=dynamo.dump(item))
    for word in ("o", "ol", "old", "f", "fa", "fai", "fait", "faith", "faithf", "faithfu", "faithful"):
        key = {"pk": f"WORD#{word}", "sk": f"{starts}#{event_id}"}
        client.put_item(TableName=settings().events_table, Item=dynamo.dump(key))
    return event_id


def v1_booking(owner: Account, event_id: str, quantity: int) -> str:
    """A booking item (and its tickets) as the first version wrote them: no ticket type."""
    booking_id = "01JDQ7Y3M4N5P6Q7R8S9T0V1W2"
    numbers = [f"AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GG{n:02d}" for n in range(quantity)]
    event = dynamo.get(settings().events_table, {"pk": f"EVENT#{event_id}", "sk": "EVENT"})
    assert event is not None
    item = {
        "pk": f"USER#{owner.id}", "sk": f"BOOKING#{booking_id}", "id": booking_id, "user_id": owner.id,
        "event_id": event_id, "quantity": quantity, "ticket_numbers": numbers, "unit_price": Decimal("20"),
        "total_price": Decimal(20 * quantity), "currency": "EUR", "status": "CONFIRMED",
        "created_at": clock.now().isoformat(), "event_name": event["name"], "event_venue": event["venue"],
        "event_starts_at": event["starts_at"], "event_status": "ON_SALE",
    }  # fmt: skip
    client = dynamo.client()
    client.put_item(TableName=settings().bookings_table, Item=dynamo.dump(item))
    for number in numbers:
        ticket = {"pk": f"EVENT#{event_id}", "sk": f"TICKET#{number}", "ticket_number": number, "event_id": event_id,
                  "booking_id": booking_id, "user_id": owner.id, "status": "VALID",
                  "created_at": item["created_at"]}  # fmt: skip
        client.put_item(TableName=settings().tickets_table, Item=dynamo.dump(ticket))
    return booking_id


@pytest.fixture
def alice(api: Api) -> Account:
    return new_account()


def test_a_v1_event_reads_as_one_general_admission_type(api: Api) -> None:
    event_id = v1_event(total=10, available=7)
    shown = api.call("get_event", path={"event_id": event_id}).body
    assert (shown["total_tickets"], shown["available_tickets"], shown["ticket_price"]) == (10, 7, "20.00")
    assert (shown["timezone"], shown["max_tickets_per_user"]) == ("UTC", None)
    assert shown["ticket_types"] == [
        {"id": legacy_type_id(event_id), "name": "General admission", "description": "", "price": "20.00",
         "total_tickets": None, "available_tickets": None, "max_tickets_per_booking": 10,
         "sales_start": None, "sales_end": None, "hidden": False}
    ]  # fmt: skip
    found = api.call("list_events", query={"q": "faithful"}).body["items"]
    assert [e["id"] for e in found] == [event_id]
    assert found[0] == shown
    assert [e["id"] for e in api.call("list_events", query={"venue": "old hall"}).body["items"]] == [event_id]


def test_booking_a_v1_event_upgrades_it_once_and_keeps_the_books_balanced(api: Api, alice: Account) -> None:
    event_id = v1_event(total=10, available=10)
    old = v1_booking(alice, event_id, 3)
    dynamo.client().update_item(  # the v1 counters as that booking left them
        TableName=settings().events_table,
        Key=dynamo.dump({"pk": f"EVENT#{event_id}", "sk": "EVENT"}),
        UpdateExpression="SET available_tickets = :a",
        ExpressionAttributeValues=dynamo.values(a=7),
    )
    made = api.call("create_booking", token=alice.token, path={"event_id": event_id}, body={"quantity": 2})
    assert made.status == 201, made.body
    assert made.body["ticket_type"] == {"id": legacy_type_id(event_id), "name": "General admission"}
    stored = dynamo.get(settings().events_table, {"pk": f"EVENT#{event_id}", "sk": "EVENT"})
    assert stored is not None
    assert not {"total_tickets", "available_tickets", "ticket_price"} & set(stored)
    state = ledger(event_id)
    assert (state.total, state.available, state.sold, state.balanced) == (10, 5, 5, True)
    # The v1 booking is of the default type; cancelling it gives its tickets back to the upgraded quota.
    read = api.call("get_booking", token=alice.token, path={"booking_id": old}).body
    assert read["ticket_type"]["name"] == "General admission"
    cancelled = api.call("cancel_booking", token=alice.token, path={"booking_id": old})
    assert cancelled.status == 200, cancelled.body
    state = ledger(event_id)
    assert (state.available, state.sold, state.balanced) == (8, 2, True)


def test_cancelling_a_v1_booking_of_a_v1_event_upgrades_the_event_first(api: Api, alice: Account) -> None:
    event_id = v1_event(total=10, available=6)
    old = v1_booking(alice, event_id, 4)
    cancelled = api.call("cancel_booking", token=alice.token, path={"booking_id": old})
    assert cancelled.status == 200, cancelled.body
    state = ledger(event_id)
    assert (state.available, state.sold, state.balanced) == (10, 0, True)


def test_cancelling_one_ticket_of_a_v1_booking_of_a_v1_event_upgrades_the_event_first(api: Api, alice: Account) -> None:
    event_id = v1_event(total=10, available=6)
    old = v1_booking(alice, event_id, 4)
    path = {"booking_id": old, "ticket_number": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GG00"}
    cancelled = api.call("cancel_ticket", token=alice.token, path=path)
    assert cancelled.status == 200, cancelled.body
    assert (cancelled.body["status"], cancelled.body["quantity"], cancelled.body["total_price"]) == (
        "CONFIRMED",
        3,
        "60.00",
    )
    state = ledger(event_id)
    assert (state.available, state.sold, state.balanced) == (7, 3, True)


def test_an_admin_edits_a_v1_event_after_upgrading_it(api: Api) -> None:
    event_id = v1_event(total=10, available=4)
    admin = token_for(api, role="admin")
    grown = api.call("update_event", token=admin, path={"event_id": event_id}, body={"total_tickets": 20})
    assert (grown.status, grown.body["available_tickets"]) == (200, 14)
    added = api.call(
        "create_ticket_type", token=admin, path={"event_id": event_id}, body={"name": "VIP", "price": "50.00"}
    )
    assert added.status == 201, added.body
    shown = api.call("get_event", path={"event_id": event_id}).body
    assert [t["name"] for t in shown["ticket_types"]] == ["General admission", "VIP"]


def test_a_type_added_to_a_v1_event_upgrades_it_first(api: Api) -> None:
    event_id = v1_event(total=10, available=10)
    admin = token_for(api, role="admin")
    added = api.call(
        "create_ticket_type", token=admin, path={"event_id": event_id}, body={"name": "VIP", "price": "50"}
    )
    assert added.status == 201, added.body
    state = ledger(event_id)
    assert (state.total, state.available, state.balanced) == (10, 10, True)
    stored = dynamo.get(settings().events_table, {"pk": f"EVENT#{event_id}", "sk": "EVENT"})
    assert stored is not None
    assert "available_tickets" not in stored


def test_deleting_the_only_type_of_a_v1_event_is_refused_after_upgrading_it(api: Api) -> None:
    event_id = v1_event(total=10, available=10)
    admin = token_for(api, role="admin")
    path = {"event_id": event_id, "ticket_type_id": legacy_type_id(event_id)}
    refused = api.call("delete_ticket_type", token=admin, path=path)
    assert (refused.status, refused.body["code"]) == (409, "LAST_TICKET_TYPE")
    stored = dynamo.get(settings().events_table, {"pk": f"EVENT#{event_id}", "sk": "EVENT"})
    assert stored is not None
    assert "available_tickets" not in stored  # the counters live on the quota item now
    assert ledger(event_id).balanced


def test_a_v1_event_can_be_deleted(api: Api, alice: Account) -> None:
    event_id = v1_event(total=10, available=7)
    booking_id = v1_booking(alice, event_id, 3)
    admin = token_for(api, role="admin")
    assert api.call("delete_event", token=admin, path={"event_id": event_id}).status == 204
    assert api.call("get_event", path={"event_id": event_id}).status == 404
    kept = api.call("get_booking", token=alice.token, path={"booking_id": booking_id})
    assert (kept.status, kept.body["event"]["status"]) == (200, "DELETED")


def test_a_v1_ticket_is_checked_in_as_general_admission_and_counted_under_it(api: Api, alice: Account) -> None:
    event_id = v1_event(total=10, available=8, starts_in=AT_THE_DOOR)
    v1_booking(alice, event_id, 2)
    staff, admin = token_for(api, role="staff"), token_for(api, role="admin")
    general = {"id": legacy_type_id(event_id), "name": "General admission"}
    number = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GG00"  # as v1_booking numbers them
    scan = api.call("check_in", token=staff, path={"event_id": event_id}, body={"ticket_number": number})
    assert (scan.status, scan.body["ticket_type"]) == (200, general), scan.body
    synced = api.call("list_tickets", token=staff, path={"event_id": event_id}, query={"limit": "10"}).body["items"]
    assert [(t["ticket_number"], t["ticket_type"]) for t in synced] == [(number, general)]  # v1 tickets sync once moved
    stats = api.call("event_stats", token=admin, path={"event_id": event_id}).body
    assert stats["ticket_types"] == [
        {
            **general,
            "hidden": False,
            "sold": 2,
            "held": 0,
            "available": None,
            "checked_in": 1,
            "cancelled": 0,
            "revenue": {},
        }
    ]
    assert (stats["sold"], stats["checked_in"]) == (2, 1)
