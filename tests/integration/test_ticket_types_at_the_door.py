"""Each ticket shows its type (door staff see "VIP") wherever it is returned, tickets written before
tickets recorded their type included, and the door counts check-ins per type."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.store import dynamo, tickets
from tests.support.bookings import AT_THE_DOOR, Account, new_account, new_event, recount, type_ids
from tests.support.handlers import Api

TYPES = [{"name": "Standard", "price": "20.00"}, {"name": "VIP", "price": "90.00", "total_tickets": 10}]


def book(api: Api, buyer: Account, event_id: str, type_id: str, quantity: int) -> dict[str, Any]:
    body = {"quantity": quantity, "ticket_type_id": type_id}
    result = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body=body)
    assert result.status == 201, result.body
    booking: dict[str, Any] = result.body
    return booking


def synced(api: Api, staff: Account, event_id: str) -> dict[str, dict[str, str]]:
    """Each ticket's type as a scanner syncs it, by ticket number."""
    page = api.call("list_tickets", token=staff.token, path={"event_id": event_id}, query={"limit": "100"})
    assert page.status == 200, page.body
    return {t["ticket_number"]: t["ticket_type"] for t in page.body["items"]}


def as_written_before_tickets_had_types(event_id: str, numbers: list[str]) -> None:
    """Tickets as the version before this one wrote them: no ticket_type_id nor ticket_type_name."""
    for number in numbers:
        dynamo.client().update_item(
            TableName=settings().tickets_table,
            Key=dynamo.dump(tickets.key(event_id, number, spread=True)),
            UpdateExpression="REMOVE ticket_type_id, ticket_type_name",
        )


@pytest.fixture
def staff(api: Api) -> Account:
    return new_account("staff")


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


def test_every_answer_with_a_ticket_names_its_type(api: Api, staff: Account, admin: Account) -> None:
    event_id, buyer = new_event(starts_in=AT_THE_DOOR, types=TYPES), new_account()
    ids = type_ids(event_id)
    vip = book(api, buyer, event_id, ids["VIP"], 2)
    standard = book(api, buyer, event_id, ids["Standard"], 1)
    named = {"id": ids["VIP"], "name": "VIP"}

    assert [t["ticket_type"] for t in vip["tickets"]] == [named, named]
    read = api.call("get_booking", token=buyer.token, path={"booking_id": vip["id"]}).body
    listed = api.call("list_bookings", token=buyer.token).body["items"]
    assert [t["ticket_type"] for t in read["tickets"]] == [named, named]
    assert [[t["ticket_type"]["name"] for t in b["tickets"]] for b in listed] == [["Standard"], ["VIP", "VIP"]]

    ticket = vip["tickets"][0]
    scan = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"code": ticket["code"]})
    assert (scan.status, scan.body["ticket_type"]) == (200, named)
    undo = api.call(
        "undo_check_in", token=admin.token, path={"event_id": event_id, "ticket_number": ticket["ticket_number"]}
    )
    assert (undo.status, undo.body["ticket_type"]) == (200, named)
    assert synced(api, staff, event_id) == {
        **{t["ticket_number"]: named for t in vip["tickets"]},
        standard["tickets"][0]["ticket_number"]: {"id": ids["Standard"], "name": "Standard"},
    }
    cancelled = api.call("cancel_booking", token=buyer.token, path={"booking_id": standard["id"]}).body
    assert cancelled["tickets"][0]["ticket_type"] == {"id": ids["Standard"], "name": "Standard"}


def test_a_ticket_keeps_the_type_name_it_was_booked_under(api: Api, staff: Account, admin: Account) -> None:
    event_id, buyer = new_event(starts_in=AT_THE_DOOR, types=TYPES), new_account()
    ids = type_ids(event_id)
    booking = book(api, buyer, event_id, ids["VIP"], 1)
    path = {"event_id": event_id, "ticket_type_id": ids["VIP"]}
    assert api.call("update_ticket_type", token=admin.token, path=path, body={"name": "Gold"}).status == 200

    ticket = booking["tickets"][0]
    scan = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"code": ticket["code"]})
    assert scan.body["ticket_type"] == {"id": ids["VIP"], "name": "VIP"}  # as on the buyer's booking
    stats = api.call("event_stats", token=admin.token, path={"event_id": event_id}).body
    assert [(t["name"], t["checked_in"]) for t in stats["ticket_types"]] == [("Standard", 0), ("Gold", 1)]


def test_tickets_written_before_they_recorded_a_type_take_their_bookings(
    api: Api, staff: Account, admin: Account
) -> None:
    event_id, buyer = new_event(starts_in=AT_THE_DOOR, types=TYPES), new_account()
    ids = type_ids(event_id)
    vip = book(api, buyer, event_id, ids["VIP"], 2)
    standard = book(api, buyer, event_id, ids["Standard"], 1)
    numbers = [t["ticket_number"] for b in (vip, standard) for t in b["tickets"]]
    as_written_before_tickets_had_types(event_id, numbers)
    named = {"id": ids["VIP"], "name": "VIP"}

    read = api.call("get_booking", token=buyer.token, path={"booking_id": vip["id"]}).body
    assert [t["ticket_type"] for t in read["tickets"]] == [named, named]
    assert synced(api, staff, event_id) == {
        numbers[0]: named,
        numbers[1]: named,
        numbers[2]: {"id": ids["Standard"], "name": "Standard"},
    }
    scan = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"ticket_number": numbers[0]})
    assert (scan.status, scan.body["ticket_type"]) == (200, named)
    # A door move records the type on the ticket, so later reads need no booking.
    stored = dynamo.get(settings().tickets_table, tickets.key(event_id, numbers[0], spread=True))
    assert stored is not None
    assert (stored["ticket_type_id"], stored["ticket_type_name"]) == (ids["VIP"], "VIP")
    as_written_before_tickets_had_types(event_id, numbers[:1])  # as if checked in by the version before
    undo = api.call("undo_check_in", token=admin.token, path={"event_id": event_id, "ticket_number": numbers[0]})
    assert (undo.status, undo.body["ticket_type"]) == (200, named)
    again = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"ticket_number": numbers[1]})
    assert again.status == 200, again.body

    stats = api.call("event_stats", token=admin.token, path={"event_id": event_id}).body
    assert [(t["name"], t["checked_in"]) for t in stats["ticket_types"]] == [("Standard", 0), ("VIP", 1)]
    assert stats == recount(event_id)
