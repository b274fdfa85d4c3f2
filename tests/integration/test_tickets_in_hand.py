"""What a buyer takes to the door: the tickets PDF, a ticket's QR code, the event's calendar entry, each
read back with independent tools (pypdf, zxing-cpp, icalendar) and the codes verified with the JWKS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from tests.support.bookings import new_account, new_event
from tests.support.documents import (
    account_named,
    body_bytes,
    decoded_qr_codes,
    pdf_pages,
    svg_qr_codes,
    verified_with_jwks,
)
from tests.support.handlers import Api

BERLIN = "Europe/Berlin"


def booked(api: Api, token: str, event_id: str, quantity: int) -> dict:
    result = api.call("create_booking", token=token, path={"event_id": event_id}, body={"quantity": quantity})
    assert result.status == 201, result.body
    return result.body


def test_the_pdf_has_a_page_per_ticket_whose_qr_decodes_to_its_verifiable_code(api: Api) -> None:
    holder = account_named("Ada Lovelace")
    event_id = new_event(name="Jazz Night", venue="Blue Note", timezone=BERLIN, starts_in=timedelta(days=40))
    booking = booked(api, holder.token, event_id, 3)
    event = api.call("get_event", path={"event_id": event_id}).body

    result = api.call("get_tickets_pdf", token=holder.token, path={"booking_id": booking["id"]})

    assert result.status == 200
    assert result.content_type == "application/pdf"
    pages = pdf_pages(body_bytes(result))
    assert len(pages) == 3
    local_time = f"{event['time'][:5]}"
    for page, ticket in zip(pages, booking["tickets"], strict=True):
        text = page.extract_text()
        for expected in ("Jazz Night", "Blue Note", "Ada Lovelace", ticket["ticket_number"], "General admission"):
            assert expected in text
        assert local_time in text
        assert f"({BERLIN})" in text
        assert "CET" in text or "CEST" in text
        assert decoded_qr_codes(page) == [ticket["code"]]
        claims = verified_with_jwks(api, ticket["code"])
        assert (claims["ev"], claims["tn"]) == (event_id, ticket["ticket_number"])


def test_a_cancelled_bookings_pdf_shows_no_code_and_says_why(api: Api) -> None:
    holder = new_account()
    booking = booked(api, holder.token, new_event(), 2)
    assert api.call("cancel_booking", token=holder.token, path={"booking_id": booking["id"]}).status == 200

    pages = pdf_pages(body_bytes(api.call("get_tickets_pdf", token=holder.token, path={"booking_id": booking["id"]})))

    assert len(pages) == 1
    assert decoded_qr_codes(pages[0]) == []
    assert "no valid tickets" in pages[0].extract_text()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Ζωή Ελευθερίου", "Ζωή Ελευθερίου"),  # Greek: in the embedded font
        ("Анна Каренина", "Анна Каренина"),  # Cyrillic
        ("山田 太郎", "\ufffd\ufffd \ufffd\ufffd"),  # CJK: not in the font, replaced visibly
        ("Zoë 🎫 Smith", "Zoë \ufffd Smith"),  # emoji, likewise
    ],
)
def test_unicode_names_print_or_fall_back_visibly_never_crash(api: Api, name: str, shown: str) -> None:
    holder = account_named(name)
    booking = booked(api, holder.token, new_event(name=f"Fest {name}"), 1)

    result = api.call("get_tickets_pdf", token=holder.token, path={"booking_id": booking["id"]})

    assert result.status == 200
    (page,) = pdf_pages(body_bytes(result))
    assert shown in page.extract_text()
    assert decoded_qr_codes(page) == [booking["tickets"][0]["code"]]


def test_a_right_to_left_name_prints_without_crashing(api: Api) -> None:
    holder = account_named("שרה כהן")
    booking = booked(api, holder.token, new_event(), 1)

    result = api.call("get_tickets_pdf", token=holder.token, path={"booking_id": booking["id"]})

    (page,) = pdf_pages(body_bytes(result))
    # pypdf reads the glyphs in the order they are drawn: right to left, as a reader sees them.
    assert "שרה" in page.extract_text() or "הרש" in page.extract_text()


def test_someone_elses_tickets_are_not_found(api: Api) -> None:
    owner, other = new_account(), new_account()
    booking = booked(api, owner.token, new_event(), 1)
    number = booking["tickets"][0]["ticket_number"]

    pdf = api.call("get_tickets_pdf", token=other.token, path={"booking_id": booking["id"]})
    qr = api.call("get_ticket_qr", token=other.token, path={"booking_id": booking["id"], "ticket_number": number})

    assert (pdf.status, pdf.body["code"]) == (404, "BOOKING_NOT_FOUND")
    assert (qr.status, qr.body["code"]) == (404, "BOOKING_NOT_FOUND")
    assert api.call("get_tickets_pdf", path={"booking_id": booking["id"]}).status == 401


def test_the_qr_svg_decodes_to_the_tickets_code(api: Api) -> None:
    holder = new_account()
    booking = booked(api, holder.token, new_event(), 2)
    ticket = booking["tickets"][1]
    path = {"booking_id": booking["id"], "ticket_number": ticket["ticket_number"]}

    result = api.call("get_ticket_qr", token=holder.token, path=path)

    assert result.status == 200
    assert result.content_type == "image/svg+xml"
    assert svg_qr_codes(result.body) == [ticket["code"]]


def test_a_qr_code_is_refused_for_a_ticket_not_in_the_booking_or_cancelled(api: Api) -> None:
    holder = new_account()
    booking, other = booked(api, holder.token, new_event(), 1), booked(api, holder.token, new_event(), 1)
    foreign = {"booking_id": booking["id"], "ticket_number": other["tickets"][0]["ticket_number"]}

    missing = api.call("get_ticket_qr", token=holder.token, path=foreign)
    api.call("cancel_booking", token=holder.token, path={"booking_id": booking["id"]})
    own = {"booking_id": booking["id"], "ticket_number": booking["tickets"][0]["ticket_number"]}
    cancelled = api.call("get_ticket_qr", token=holder.token, path=own)

    assert (missing.status, missing.body["code"]) == (404, "TICKET_NOT_FOUND")
    assert (cancelled.status, cancelled.body["code"]) == (409, "TICKET_CANCELLED")


def test_the_calendar_entry_starts_at_the_local_time_in_the_venues_zone(api: Api) -> None:
    event_id = new_event(name="Jazz; Night, <b>", venue="Blue Note", timezone=BERLIN)
    event = api.call("get_event", path={"event_id": event_id}).body

    result = api.call("get_event_calendar", path={"event_id": event_id})

    assert result.status == 200
    assert result.content_type == "text/calendar"
    calendar = Calendar.from_ical(body_bytes(result))
    (entry,) = calendar.walk("VEVENT")
    start = entry.decoded("dtstart")
    assert str(start.tzinfo) == BERLIN
    assert (start.date().isoformat(), start.strftime("%H:%M:%S")) == (event["date"], event["time"][:8])
    assert (str(entry["summary"]), str(entry["location"])) == ("Jazz; Night, <b>", "Blue Note")
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == [BERLIN]


def test_a_missing_or_deleted_event_has_no_calendar_entry(api: Api) -> None:
    admin = new_account("admin")
    event_id = new_event()
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204

    deleted = api.call("get_event_calendar", path={"event_id": event_id})
    unknown = api.call("get_event_calendar", path={"event_id": "not-an-id"})

    assert (deleted.status, unknown.status) == (404, 404)
