"""The waiting list over HTTP against `python -m devserver` (HOLD_SECONDS=1): a fan joins a sold-out event,
a cancel offers them the ticket as a hold they confirm; an offer left to lapse, with nobody else waiting,
goes back on sale at once when a booking would be refused."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.live import LiveServer


def entry(live: LiveServer, token: str) -> dict[str, Any]:
    [found] = live.request("GET", "/users/me/waiting-list", token=token).json()["items"]
    return dict(found)


def test_a_fan_in_line_is_offered_a_returned_ticket_and_a_lapsed_offer_goes_back_on_sale(quick: LiveServer) -> None:
    starts = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    body = {"name": "Sold out", "venue": "Hall", "starts_at": starts, "total_tickets": 2, "ticket_price": "10.00"}
    event_id = quick.request("POST", "/events", token=quick.admin_token(), json=body).json()["id"]
    buyer, first, second = quick.fan(), quick.fan(), quick.fan()
    bookings = [
        quick.request("POST", f"/events/{event_id}/bookings", token=buyer, json={"quantity": 1}).json()["id"]
        for _ in range(2)
    ]
    joined = quick.request("POST", f"/events/{event_id}/waiting-list", token=first, json={"quantity": 1})
    assert (joined.status_code, joined.json()["position"]) == (201, 1)
    assert quick.request("POST", f"/events/{event_id}/waiting-list", token=second, json={"quantity": 1}).ok

    assert quick.request("DELETE", f"/bookings/{bookings[0]}", token=buyer).ok
    offer = entry(quick, first)
    assert offer["status"] == "OFFERED"
    assert quick.request("POST", f"/holds/{offer['hold_id']}/confirm", token=first).status_code == 201
    assert entry(quick, first)["status"] == "BOOKED"

    assert quick.request("DELETE", f"/bookings/{bookings[1]}", token=buyer).ok
    assert entry(quick, second)["status"] == "OFFERED"
    time.sleep(1.2)
    assert entry(quick, second)["status"] == "EXPIRED"  # lapsed; nobody waits, so a refused sale frees it
    assert quick.request("POST", f"/events/{event_id}/bookings", token=buyer, json={"quantity": 1}).status_code == 201
