"""`make run` publishes domain events from committed data: a booking, a check-in at the door, its undo
and the booking's cancel over HTTP each show up once as a printed domain event, read back from the
runtime's output."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from devserver.streams import PRINTED
from tests.support.live import LiveServer


def printed_events(live: LiveServer) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for line in list(live.output):
        if line.startswith(PRINTED):
            name, _, detail = line.removeprefix(PRINTED).strip().partition(" ")
            found.append((name, json.loads(detail)))
    return found


def published_for(live: LiveServer, booking_id: str, count: int, timeout: float = 20) -> list[tuple[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        mine = [(name, d) for name, d in printed_events(live) if d.get("booking_id") == booking_id]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.1)


def test_a_booking_its_check_in_the_undo_and_the_cancel_are_each_published_once(live: LiveServer) -> None:
    email = f"fan-{uuid.uuid4().hex[:10]}@example.com"
    assert live.request("POST", "/auth/register", json={"name": "Fan", "email": email, "password": "fan password"}).ok
    token, admin = live.login(email, "fan password"), live.admin_token()
    starts = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0).isoformat()
    body = {"name": "Stream", "venue": "Hall", "starts_at": starts, "total_tickets": 5, "ticket_price": "10.00"}
    event_id = live.request("POST", "/events", token=admin, json=body).json()["id"]
    booking = live.request("POST", f"/events/{event_id}/bookings", token=token, json={"quantity": 2}).json()
    number = booking["tickets"][0]["ticket_number"]
    door = f"/events/{event_id}/check-ins"
    assert live.request("POST", door, token=admin, json={"ticket_number": number}).ok
    assert live.request("DELETE", f"{door}/{number}", token=admin).ok
    assert live.request("DELETE", f"/bookings/{booking['id']}", token=token).ok

    mine = published_for(live, booking["id"], 4)
    # In commit order per table's stream; the two streams are read side by side.
    names = [name for name, _ in mine]
    assert [n for n in names if n.startswith("Booking")] == ["BookingConfirmed", "BookingCancelled"]
    assert [n for n in names if n.startswith("Ticket")] == ["TicketCheckedIn", "TicketCheckInUndone"]
    assert {d["event_id"] for _, d in mine} == {event_id}
    assert email not in str(mine)
