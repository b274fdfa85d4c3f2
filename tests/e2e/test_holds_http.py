"""Holds over HTTP against `python -m devserver` with HOLD_SECONDS=1, as `HOLD_SECONDS=20 make run`
would be tried by hand: a hold lapses on time, a refused sale takes its tickets back at once, and the
expiry reaches the domain event bus from the committed release."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.e2e.test_domain_events_http import printed_events
from tests.support.live import LiveServer


def test_a_lapsed_hold_goes_back_on_sale_when_a_booking_would_be_refused(quick: LiveServer) -> None:
    starts = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    body = {"name": "Quick", "venue": "Hall", "starts_at": starts, "total_tickets": 2, "ticket_price": "10.00"}
    event_id = quick.request("POST", "/events", token=quick.admin_token(), json=body).json()["id"]
    holder, buyer = quick.fan(), quick.fan()
    hold = quick.request("POST", f"/events/{event_id}/holds", token=holder, json={"quantity": 2}).json()
    assert hold["status"] == "HELD"
    assert quick.request("POST", f"/events/{event_id}/bookings", token=buyer, json={"quantity": 1}).status_code == 409
    time.sleep(1.2)
    assert quick.request("GET", f"/holds/{hold['id']}", token=holder).json()["status"] == "EXPIRED"
    booked = quick.request("POST", f"/events/{event_id}/bookings", token=buyer, json={"quantity": 2})
    assert booked.status_code == 201, booked.text
    late = quick.request("POST", f"/holds/{hold['id']}/confirm", token=holder)
    assert (late.status_code, late.json()["code"]) == (409, "HOLD_EXPIRED")

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        expired = [d for name, d in printed_events(quick) if name == "HoldExpired" and d["hold_id"] == hold["id"]]
        if expired:
            break
        time.sleep(0.1)
    assert [(d["event_id"], d["quantity"]) for d in expired] == [(event_id, 2)]
