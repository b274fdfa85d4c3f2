"""Check-in at the door through the real handlers over moto: every answer, every permission, round trips."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.bench.common import count_calls
from tests.integration.test_bookings_api import problem
from tests.support.bookings import Account, new_account, new_event
from tests.support.codes import forged_codes
from tests.support.handlers import Api, Result

MISSING_EVENT = "00000000-0000-4000-8000-000000000000"


def booked(api: Api, quantity: int = 2) -> tuple[Account, str, dict[str, Any]]:
    """A buyer, an event and the buyer's booking of `quantity` tickets."""
    buyer, event_id = new_account(), new_event()
    result = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": quantity})
    assert result.status == 201, result.body
    return buyer, event_id, result.body


def scan(api: Api, who: Account | None, event_id: str, **body: Any) -> Result:
    return api.call("check_in", token=who.token if who else None, path={"event_id": event_id}, body=body)


def undo(api: Api, who: Account | None, event_id: str, number: str) -> Result:
    path = {"event_id": event_id, "ticket_number": number}
    return api.call("undo_check_in", token=who.token if who else None, path=path)


@pytest.fixture
def staff(api: Api) -> Account:
    return new_account("staff")


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


def test_a_scanned_code_checks_the_ticket_in_and_the_booking_shows_it(api: Api, staff: Account) -> None:
    buyer, event_id, booking = booked(api)
    ticket = booking["tickets"][0]
    result = scan(api, staff, event_id, code=ticket["code"])
    assert result.status == 200, result.body
    assert result.body["ticket_number"] == ticket["ticket_number"]
    assert result.body["event_id"] == event_id
    assert result.body["status"] == "CHECKED_IN"
    assert result.body["checked_in_at"] == result.body["updated_at"]
    assert result.body["ticket_type"] == booking["ticket_type"] == ticket["ticket_type"]
    shown = api.call("get_booking", token=buyer.token, path={"booking_id": booking["id"]}).body["tickets"]
    assert [(t["status"], t["checked_in_at"]) for t in shown] == [
        ("CHECKED_IN", result.body["checked_in_at"]),
        ("VALID", None),
    ]


@pytest.mark.parametrize("typed", ["as issued", "lower case", "no dashes", "spaces", "look-alikes"])
def test_a_ticket_number_typed_by_hand_checks_it_in(api: Api, staff: Account, typed: str) -> None:
    _, event_id, booking = booked(api, 1)
    number = booking["tickets"][0]["ticket_number"]
    entered = {
        "as issued": number,
        "lower case": number.lower(),
        "no dashes": number.replace("-", ""),
        "spaces": number.replace("-", " "),
        "look-alikes": number.replace("0", "O").replace("1", "l"),
    }[typed]
    result = scan(api, staff, event_id, ticket_number=entered)
    assert result.status == 200, result.body
    assert result.body["ticket_number"] == number


def test_a_second_scan_is_409_with_the_first_check_in_time(api: Api, staff: Account) -> None:
    _, event_id, booking = booked(api)
    ticket = booking["tickets"][0]
    first = scan(api, staff, event_id, code=ticket["code"]).body
    for again in ({"code": ticket["code"]}, {"ticket_number": ticket["ticket_number"]}):
        body = problem(scan(api, staff, event_id, **again), 409, "ALREADY_CHECKED_IN")
        assert body["checked_in_at"] == first["checked_in_at"].replace("Z", "+00:00")


def test_a_cancelled_ticket_cannot_be_checked_in(api: Api, staff: Account) -> None:
    buyer, event_id, booking = booked(api)
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200
    ticket = booking["tickets"][0]
    problem(scan(api, staff, event_id, code=ticket["code"]), 409, "TICKET_CANCELLED")
    problem(scan(api, staff, event_id, ticket_number=ticket["ticket_number"]), 409, "TICKET_CANCELLED")


def test_a_valid_code_for_another_event_is_the_wrong_event(api: Api, staff: Account) -> None:
    _, event_id, booking = booked(api)
    other_event = new_event(name="Another Night")
    body = problem(scan(api, staff, other_event, code=booking["tickets"][0]["code"]), 409, "WRONG_EVENT")
    assert body["ticket_event_id"] == event_id
    # By number, another event's ticket is simply not one of this event's.
    problem(
        scan(api, staff, other_event, ticket_number=booking["tickets"][0]["ticket_number"]), 404, "TICKET_NOT_FOUND"
    )


@pytest.mark.parametrize(
    "kind",
    ["signed by another key", "another key under its own kid", "tampered ticket number", "alg none",
     "HS256 keyed with the raw public key", "HS256 keyed with the PEM public key", "garbage"],
)  # fmt: skip
def test_forged_codes_are_422_and_let_nobody_in(api: Api, staff: Account, kind: str) -> None:
    buyer, event_id, booking = booked(api, 1)
    ticket = booking["tickets"][0]
    forged = forged_codes(event_id, ticket["ticket_number"])[kind]
    problem(scan(api, staff, event_id, code=forged), 422, "INVALID_TICKET_CODE")
    shown = api.call("get_booking", token=buyer.token, path={"booking_id": booking["id"]}).body
    assert shown["tickets"][0]["status"] == "VALID"


@pytest.mark.parametrize(
    "body",
    [{}, {"code": "x", "ticket_number": "y"}, {"code": ""}, {"code": "x" * 1025}, {"ticket_number": 7}, {"other": 1}],
)
def test_a_scan_names_exactly_one_of_code_or_ticket_number(api: Api, staff: Account, body: dict[str, Any]) -> None:
    _, event_id, _ = booked(api, 1)
    problem(scan(api, staff, event_id, **body), 422, "VALIDATION_FAILED")


def test_unknown_tickets_and_events_are_404(api: Api, staff: Account) -> None:
    _, event_id, _ = booked(api, 1)
    problem(scan(api, staff, event_id, ticket_number="0000-0000-0000-0000-0000-0000-0000"), 404, "TICKET_NOT_FOUND")
    problem(scan(api, staff, event_id, ticket_number="not a ticket"), 404, "TICKET_NOT_FOUND")
    problem(scan(api, staff, MISSING_EVENT, ticket_number="0000"), 404, "TICKET_NOT_FOUND")
    problem(scan(api, staff, "not-an-event", ticket_number="0000"), 404, "EVENT_NOT_FOUND")


def test_an_admin_undoes_a_check_in_and_the_ticket_can_enter_again(api: Api, staff: Account, admin: Account) -> None:
    _, event_id, booking = booked(api, 1)
    ticket = booking["tickets"][0]
    assert scan(api, staff, event_id, code=ticket["code"]).status == 200
    result = undo(api, admin, event_id, ticket["ticket_number"])
    assert result.status == 200, result.body
    assert (result.body["status"], result.body["checked_in_at"]) == ("VALID", None)
    problem(undo(api, admin, event_id, ticket["ticket_number"]), 409, "NOT_CHECKED_IN")
    assert scan(api, staff, event_id, code=ticket["code"]).status == 200


def test_undo_of_unknown_or_cancelled_tickets(api: Api, admin: Account) -> None:
    buyer, event_id, booking = booked(api, 1)
    number = booking["tickets"][0]["ticket_number"]
    problem(undo(api, admin, event_id, "0000-0000-0000-0000-0000-0000-0000"), 404, "TICKET_NOT_FOUND")
    problem(undo(api, admin, event_id, "garbage"), 404, "TICKET_NOT_FOUND")
    api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]})
    problem(undo(api, admin, event_id, number), 409, "TICKET_CANCELLED")


def test_permissions_at_the_door(api: Api, staff: Account, admin: Account) -> None:
    buyer, event_id, booking = booked(api, 1)
    number = booking["tickets"][0]["ticket_number"]
    problem(scan(api, buyer, event_id, ticket_number=number), 403, "FORBIDDEN")
    problem(scan(api, None, event_id, ticket_number=number), 401, "UNAUTHENTICATED")
    problem(undo(api, buyer, event_id, number), 403, "FORBIDDEN")
    problem(undo(api, staff, event_id, number), 403, "FORBIDDEN")
    problem(undo(api, None, event_id, number), 401, "UNAUTHENTICATED")
    assert scan(api, admin, event_id, ticket_number=number).status == 200  # admins may do what staff may


def test_staff_whose_role_was_taken_away_cannot_scan(api: Api, staff: Account, admin: Account) -> None:
    _, event_id, booking = booked(api, 1)
    assert api.call("set_role", token=admin.token, path={"user_id": staff.id}, body={"role": "user"}).status == 200
    problem(scan(api, staff, event_id, code=booking["tickets"][0]["code"]), 401, "UNAUTHENTICATED")


def test_a_check_in_is_one_read_and_one_write_and_a_refused_scan_writes_nothing(api: Api, staff: Account) -> None:
    _, event_id, booking = booked(api, 2)
    for ticket in booking["tickets"]:
        with count_calls() as calls:
            assert scan(api, staff, event_id, code=ticket["code"]).status == 200
        assert dict(calls.operations) == {"BatchGetItem": 1, "TransactWriteItems": 1}
    with count_calls() as calls:
        problem(scan(api, staff, event_id, code=booking["tickets"][0]["code"]), 409, "ALREADY_CHECKED_IN")
    assert dict(calls.operations) == {"BatchGetItem": 1}
