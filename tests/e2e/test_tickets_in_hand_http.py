"""`make run` serves what a buyer takes away over HTTP with its own media type: the tickets PDF, a
ticket's QR code and the calendar entry (through the gateway's base64 path for binary bodies). The mail
itself is tested over the runtime's stream -> bus -> mailer path (tests/integration/test_mail.py): the
shared runtime of these tests runs with mail off."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.support.live import LiveServer


def test_the_tickets_pdf_qr_code_and_calendar_entry_are_served_with_their_media_types(live: LiveServer) -> None:
    address = f"buyer-{uuid.uuid4().hex[:10]}@example.com"
    body = {"name": "Bea Buyer", "email": address, "password": "buyer password"}
    assert live.request("POST", "/auth/register", json=body).ok
    token, admin = live.login(address, "buyer password"), live.admin_token()
    starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0).isoformat()
    event = {"name": "Paper Night", "venue": "Hall", "starts_at": starts, "total_tickets": 5, "ticket_price": "10.00"}
    event_id = live.request("POST", "/events", token=admin, json=event).json()["id"]
    booking = live.request("POST", f"/events/{event_id}/bookings", token=token, json={"quantity": 1}).json()
    number = booking["tickets"][0]["ticket_number"]

    pdf = live.request("GET", f"/bookings/{booking['id']}/tickets.pdf", token=token)
    qr = live.request("GET", f"/bookings/{booking['id']}/tickets/{number}/qr.svg", token=token)
    ics = live.request("GET", f"/events/{event_id}/calendar.ics")

    assert (pdf.status_code, pdf.headers["content-type"], pdf.content[:5]) == (200, "application/pdf", b"%PDF-")
    assert (qr.status_code, qr.headers["content-type"]) == (200, "image/svg+xml")
    assert qr.content.lstrip().startswith(b"<?xml")
    assert (ics.status_code, ics.headers["content-type"]) == (200, "text/calendar")
    assert ics.content.startswith(b"BEGIN:VCALENDAR")
