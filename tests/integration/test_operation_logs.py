"""Each change to stock leaves one INFO line that says what it moved: the ids an operator searches the
logs by (booking, hold, event) and how many tickets, so a support question can be answered from them."""

from __future__ import annotations

from typing import Any

from tests.integration.test_accounts_logs import Logs
from tests.integration.test_accounts_logs import logs as logs
from tests.integration.test_holds_api import book
from tests.support.bookings import new_account, new_event
from tests.support.handlers import Api
from tests.support.holds import place, release


def test_holds_and_bookings_log_what_they_moved(api: Api, logs: Logs) -> None:
    event_id, buyer = new_event(total=10), new_account()
    hold = place(api, buyer, event_id, 2).body
    assert release(api, buyer, hold["id"]).status == 200
    booking = book(api, buyer, event_id, 3).body
    path = {"booking_id": booking["id"], "ticket_number": booking["tickets"][0]["ticket_number"]}
    assert api.call("cancel_ticket", token=buyer.token, path=path).status == 200
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200

    def fields(message: str, *names: str) -> list[tuple[Any, ...]]:
        return [tuple(line.get(name) for name in names) for line in logs.lines(message)]

    assert fields("Hold placed", "hold_id", "event_id", "quantity") == [(hold["id"], event_id, 2)]
    assert fields("Hold released", "hold_id", "event_id", "quantity") == [(hold["id"], event_id, 2)]
    assert fields("Booking created", "booking_id", "event_id", "quantity") == [(booking["id"], event_id, 3)]
    assert fields("Ticket cancelled", "booking_id", "event_id", "quantity") == [(booking["id"], event_id, 1)]
    assert fields("Booking cancelled", "booking_id", "event_id", "quantity") == [(booking["id"], event_id, 2)]
