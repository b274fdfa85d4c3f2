"""Check-in at the door through the real handlers over moto: every answer, every permission, round trips."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from scripts.bench.common import count_calls
from tests.integration.test_bookings_api import problem
from tests.support.bookings import Account, new_account, new_event
from tests.support.codes import forged_codes
from tests.support.handlers import Api, Result
from tests.support.holds import Clock

MISSING_EVENT = "00000000-0000-4000-8000-000000000000"
SOON = timedelta(hours=1)  # inside the default door window from the moment it is made


def booked(api: Api, quantity: int = 2) -> tuple[Account, str, dict[str, Any]]:
    """A buyer, an event and the buyer's booking of `quantity` tickets."""
    buyer, event_id = new_account(), new_event(starts_in=SOON)
    result = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": quantity})
    assert result.status == 201, result.body
    return buyer, event_id, result.body


def scan(api: Api, who: Account | None, event_id: str, **body: Any) -> Result:
    return api.call("check_in", token=who.token if who else None, path={"event_id": event_id}, body=body)


def undo(api: Api, who: Account | None, event_id: str, number: str) -> Result:
    path = {"event_id": event_id, "ticket_number": number}
    return api.call("undo_check_in", token=who.token if who else None, path=path)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


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
        assert body["checked_in_at"] == first["checked_in_at"]


def test_a_cancelled_ticket_cannot_be_checked_in(api: Api, staff: Account) -> None:
    buyer, event_id, booking = booked(api)
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200
    ticket = booking["tickets"][0]
    problem(scan(api, staff, event_id, code=ticket["code"]), 409, "TICKET_CANCELLED")
    problem(scan(api, staff, event_id, ticket_number=ticket["ticket_number"]), 409, "TICKET_CANCELLED")


def test_a_valid_code_for_another_event_is_the_wrong_event(api: Api, staff: Account) -> None:
    _, event_id, booking = booked(api)
    other_event = new_event(name="Another Night", starts_in=SOON)
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


# --- the door window and deleted events ---


def door_event(api: Api, starts_in: timedelta, **settings: Any) -> tuple[str, list[dict[str, Any]]]:
    """An event starting `starts_in` from now (with door settings, if any, set by PATCH) and two booked tickets."""
    buyer, event_id = new_account(), new_event(starts_in=starts_in)
    if settings:
        admin = new_account("admin")
        result = api.call("update_event", token=admin.token, path={"event_id": event_id}, body=settings)
        assert result.status == 200, result.body
    booking = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 2})
    assert booking.status == 201, booking.body
    return event_id, booking.body["tickets"]


def test_tickets_of_a_deleted_event_are_not_checked_in_and_stay_cancellable(
    api: Api, staff: Account, admin: Account
) -> None:
    buyer, event_id = new_account(), new_event(starts_in=SOON)
    booking = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1}).body
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204
    ticket = booking["tickets"][0]
    problem(scan(api, staff, event_id, code=ticket["code"]), 404, "EVENT_NOT_FOUND")
    problem(scan(api, staff, event_id, ticket_number=ticket["ticket_number"]), 404, "EVENT_NOT_FOUND")
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200


def at(clock: Clock, moment: datetime) -> Account:
    """The clock stopped at `moment`, and door staff with a token issued then (tokens live an hour)."""
    clock.now = moment
    return new_account("staff")


def test_the_door_window_is_six_hours_before_the_start_to_twelve_after_to_the_instant(api: Api, clock: Clock) -> None:
    event_id, tickets = door_event(api, timedelta(days=2))
    starts_at = datetime.fromisoformat(api.call("get_event", path={"event_id": event_id}).body["starts_at"])
    opens, closes = starts_at - timedelta(hours=6), starts_at + timedelta(hours=12)
    body = problem(scan(api, at(clock, opens - timedelta(microseconds=1)), event_id, code=tickets[0]["code"]), 409,
                   "CHECK_IN_CLOSED")  # fmt: skip
    assert (body["doors_open_at"], body["doors_close_at"]) == (
        opens.isoformat().replace("+00:00", "Z"),
        closes.isoformat().replace("+00:00", "Z"),
    )
    assert scan(api, at(clock, opens), event_id, code=tickets[0]["code"]).status == 200
    last_moment = at(clock, closes - timedelta(microseconds=1))
    assert scan(api, last_moment, event_id, ticket_number=tickets[1]["ticket_number"]).status == 200
    assert undo(api, new_account("admin"), event_id, tickets[1]["ticket_number"]).status == 200
    problem(scan(api, at(clock, closes), event_id, ticket_number=tickets[1]["ticket_number"]), 409, "CHECK_IN_CLOSED")


def test_an_events_own_door_window_moves_with_its_start(api: Api, clock: Clock) -> None:
    event_id, tickets = door_event(api, timedelta(days=2), doors_open_minutes_before=30, doors_close_minutes_after=60)
    event = api.call("get_event", path={"event_id": event_id}).body
    starts_at = datetime.fromisoformat(event["starts_at"])
    assert (event["doors_open_minutes_before"], event["doors_close_minutes_after"]) == (30, 60)
    assert event["doors_open_at"] == (starts_at - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    problem(scan(api, at(clock, starts_at - timedelta(minutes=31)), event_id, code=tickets[0]["code"]), 409,
            "CHECK_IN_CLOSED")  # fmt: skip
    later = {"starts_at": (starts_at + timedelta(days=1)).isoformat()}
    admin = new_account("admin")
    assert api.call("update_event", token=admin.token, path={"event_id": event_id}, body=later).status == 200
    problem(scan(api, at(clock, starts_at - timedelta(minutes=29)), event_id, code=tickets[0]["code"]), 409,
            "CHECK_IN_CLOSED")  # fmt: skip
    assert (
        scan(api, at(clock, starts_at + timedelta(days=1, minutes=59)), event_id, code=tickets[0]["code"]).status == 200
    )


def test_door_settings_may_change_after_the_start(api: Api, clock: Clock) -> None:
    event_id, tickets = door_event(api, timedelta(days=2))
    starts_at = datetime.fromisoformat(api.call("get_event", path={"event_id": event_id}).body["starts_at"])
    late = starts_at + timedelta(hours=13)
    problem(scan(api, at(clock, late), event_id, code=tickets[0]["code"]), 409, "CHECK_IN_CLOSED")
    admin = new_account("admin")
    longer = {"doors_close_minutes_after": 14 * 60}
    assert api.call("update_event", token=admin.token, path={"event_id": event_id}, body=longer).status == 200
    assert scan(api, new_account("staff"), event_id, code=tickets[0]["code"]).status == 200


def test_a_refused_check_in_changes_nothing(api: Api, staff: Account) -> None:
    event_id, tickets = door_event(api, timedelta(days=2))
    problem(scan(api, staff, event_id, code=tickets[0]["code"]), 409, "CHECK_IN_CLOSED")
    shown = api.call("list_tickets", token=staff.token, path={"event_id": event_id}).body["items"]
    assert {t["status"] for t in shown} == {"VALID"}
    assert (
        api.call("event_stats", token=new_account("admin").token, path={"event_id": event_id}).body["checked_in"] == 0
    )


def forget_the_door(event_id: str) -> None:
    """The event's count shards as an event stored before they carried its door window left them."""
    from boxoffice.store import dynamo, tickets

    for shard in tickets.checkin_shard_keys(event_id):
        dynamo.client().update_item(
            TableName=dynamo.tickets_table(),
            Key=dynamo.dump(shard),
            UpdateExpression="REMOVE doors_open_at, doors_close_at, event_status",
        )


def test_an_event_stored_before_shards_carried_its_door_window_gets_it_at_the_first_scan(
    api: Api, admin: Account, clock: Clock
) -> None:
    event_id, tickets = door_event(api, timedelta(days=2))
    forget_the_door(event_id)
    problem(scan(api, new_account("staff"), event_id, code=tickets[0]["code"]), 409, "CHECK_IN_CLOSED")
    starts_at = datetime.fromisoformat(api.call("get_event", path={"event_id": event_id}).body["starts_at"])
    staff = at(clock, starts_at)
    with count_calls() as calls:
        assert scan(api, staff, event_id, code=tickets[0]["code"]).status == 200
    assert dict(calls.operations) == {"BatchGetItem": 1, "TransactWriteItems": 1}  # copied once, by the first scan
    admin = new_account("admin")
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204
    forget_the_door(event_id)
    problem(scan(api, staff, event_id, code=tickets[1]["code"]), 404, "EVENT_NOT_FOUND")


@pytest.mark.parametrize("spelling", ["{code}==", " {code}", "{code} ", "{code}\n"])
def test_only_the_code_as_issued_lets_its_ticket_in(api: Api, staff: Account, spelling: str) -> None:
    """Offline scanners deduplicate by the string: another spelling of a code would get its ticket in twice."""
    _, event_id, booking = booked(api, 1)
    code = booking["tickets"][0]["code"]
    problem(scan(api, staff, event_id, code=spelling.format(code=code)), 422, "INVALID_TICKET_CODE")
    assert scan(api, staff, event_id, code=code).status == 200
