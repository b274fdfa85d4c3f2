"""Tickets are first-class: every booking answer shows each ticket's own status, read in bulk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boxoffice.config import settings
from boxoffice.store import dynamo, tickets
from scripts.bench.common import count_calls
from tests.support.bookings import Account, new_account, new_event
from tests.support.handlers import Api


def book(api: Api, who: Account, event_id: str, quantity: int) -> dict[str, Any]:
    result = api.call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})
    assert result.status == 201, result.body
    body: dict[str, Any] = result.body
    return body


def mark_checked_in(event_id: str, number: str, at: datetime) -> None:
    """As a door scan leaves a ticket (written directly: this file is about reading tickets back)."""
    dynamo.client().update_item(
        TableName=settings().tickets_table,
        Key=dynamo.dump(tickets.key(event_id, number, spread=True)),
        UpdateExpression="SET #s = :s, checked_in_at = :at",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=dynamo.values(s="CHECKED_IN", at=at.isoformat()),
    )


def test_a_new_booking_shows_valid_tickets_not_yet_checked_in(api: Api) -> None:
    booking = book(api, new_account(), new_event(), 2)
    assert [(t["status"], t["checked_in_at"]) for t in booking["tickets"]] == [("VALID", None)] * 2


def test_reading_and_listing_show_each_tickets_own_status(api: Api) -> None:
    ada, event_id = new_account(), new_event()
    booking = book(api, ada, event_id, 3)
    first = booking["tickets"][0]["ticket_number"]
    at = datetime(2026, 12, 24, 19, 5, tzinfo=UTC)
    mark_checked_in(event_id, first, at)

    read = api.call("get_booking", token=ada.token, path={"booking_id": booking["id"]}).body
    listed = api.call("list_bookings", token=ada.token).body["items"][0]
    for shown in (read, listed):
        statuses = {t["ticket_number"]: (t["status"], t["checked_in_at"]) for t in shown["tickets"]}
        assert statuses.pop(first) == ("CHECKED_IN", at.isoformat().replace("+00:00", "Z"))
        assert set(statuses.values()) == {("VALID", None)}


def test_a_booking_with_a_checked_in_ticket_cannot_be_cancelled(api: Api) -> None:
    ada, event_id = new_account(), new_event()
    booking = book(api, ada, event_id, 2)
    mark_checked_in(event_id, booking["tickets"][1]["ticket_number"], datetime.now(UTC))

    result = api.call("cancel_booking", token=ada.token, path={"booking_id": booking["id"]})
    assert result.status == 409, result.body
    assert result.body["code"] == "TICKET_USED"
    again = api.call("get_booking", token=ada.token, path={"booking_id": booking["id"]}).body
    assert again["status"] == "CONFIRMED"
    assert sorted(t["status"] for t in again["tickets"]) == ["CHECKED_IN", "VALID"]


def test_the_refused_cancel_says_how_many_tickets_were_used_in_correct_english(api: Api) -> None:
    ada, event_id = new_account(), new_event()
    booking = book(api, ada, event_id, 3)
    numbers = [t["ticket_number"] for t in booking["tickets"]]

    mark_checked_in(event_id, numbers[0], datetime.now(UTC))
    one = api.call("cancel_booking", token=ada.token, path={"booking_id": booking["id"]}).body
    assert one["detail"] == "1 ticket of the booking has been checked in."

    mark_checked_in(event_id, numbers[1], datetime.now(UTC))
    two = api.call("cancel_booking", token=ada.token, path={"booking_id": booking["id"]}).body
    assert two["detail"] == "2 tickets of the booking have been checked in."


def test_a_cancelled_booking_shows_its_tickets_cancelled(api: Api) -> None:
    ada = new_account()
    booking = book(api, ada, new_event(), 2)
    cancelled = api.call("cancel_booking", token=ada.token, path={"booking_id": booking["id"]}).body
    read = api.call("get_booking", token=ada.token, path={"booking_id": booking["id"]}).body
    for shown in (cancelled, read):
        assert {t["status"] for t in shown["tickets"]} == {"CANCELLED"}


def test_a_history_page_reads_its_tickets_in_one_batch_not_one_by_one(api: Api) -> None:
    ada, event_id = new_account(), new_event()
    for _ in range(5):
        book(api, ada, event_id, 4)
    with count_calls() as calls:
        page = api.call("list_bookings", token=ada.token, query={"limit": "5"})
    assert sum(len(b["tickets"]) for b in page.body["items"]) == 20
    assert dict(calls.operations) == {"Query": 1, "BatchGetItem": 1}
    with count_calls() as calls:
        api.call("get_booking", token=ada.token, path={"booking_id": page.body["items"][0]["id"]})
    assert dict(calls.operations) == {"BatchGetItem": 2}


def test_more_than_a_hundred_tickets_on_a_page_are_read_a_hundred_at_a_time(api: Api) -> None:
    ada, event_id = new_account(), new_event(total=300, per_booking=50)
    for _ in range(3):
        book(api, ada, event_id, 50)
    with count_calls() as calls:
        page = api.call("list_bookings", token=ada.token).body["items"]
    assert [len(b["tickets"]) for b in page] == [50] * 3
    assert all(t["status"] == "VALID" for b in page for t in b["tickets"])
    assert calls.operations["BatchGetItem"] == 2  # 152 keys: the account, the event, 150 tickets
