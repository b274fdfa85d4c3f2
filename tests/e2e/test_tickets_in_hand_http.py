"""`make run` as a buyer meets it: a booking over HTTP prints one mail line and leaves one .eml in the
outbox under its data folder, and the tickets PDF, a QR code and the calendar entry come over HTTP with
their own media types."""

from __future__ import annotations

import email
import email.policy
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devserver.streams import MAILED
from tests.support.live import LiveServer


def mail_lines(live: LiveServer, address: str, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        mine = [line for line in list(live.output) if line.startswith(MAILED) and f"to {address}:" in line]
        if mine or time.monotonic() > deadline:
            time.sleep(0.5)  # and nothing more for this address
            return [line for line in list(live.output) if line.startswith(MAILED) and f"to {address}:" in line]
        time.sleep(0.1)


def test_a_booking_over_http_is_mailed_to_the_outbox_and_its_documents_are_served(live: LiveServer) -> None:
    address = f"buyer-{uuid.uuid4().hex[:10]}@example.com"
    body = {"name": "Bea Buyer", "email": address, "password": "buyer password"}
    assert live.request("POST", "/auth/register", json=body).ok
    token, admin = live.login(address, "buyer password"), live.admin_token()
    starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0).isoformat()
    event = {"name": "Outbox Night", "venue": "Hall", "starts_at": starts, "total_tickets": 5, "ticket_price": "10.00"}
    event_id = live.request("POST", "/events", token=admin, json=event).json()["id"]
    booking = live.request("POST", f"/events/{event_id}/bookings", token=token, json={"quantity": 1}).json()

    lines = mail_lines(live, address)

    assert [line.split(": ", 1)[1] for line in lines] == ["Your tickets: Outbox Night"]
    outbox = Path(live.scratch_dir) / "mail"
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox.glob("*.eml")]
    mine = [m for m in messages if address in str(m["To"])]
    assert [m["Subject"] for m in mine] == ["Your tickets: Outbox Night"]

    pdf = live.request("GET", f"/bookings/{booking['id']}/tickets.pdf", token=token)
    number = booking["tickets"][0]["ticket_number"]
    qr = live.request("GET", f"/bookings/{booking['id']}/tickets/{number}/qr.svg", token=token)
    ics = live.request("GET", f"/events/{event_id}/calendar.ics")
    assert (pdf.status_code, pdf.headers["content-type"], pdf.content[:5]) == (200, "application/pdf", b"%PDF-")
    assert (qr.status_code, qr.headers["content-type"]) == (200, "image/svg+xml")
    assert (ics.status_code, ics.headers["content-type"]) == (200, "text/calendar")
    assert ics.content.startswith(b"BEGIN:VCALENDAR")
