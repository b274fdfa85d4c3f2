"""E-mails from domain events, over the local runtime's path (table stream -> publisher -> bus -> rule ->
mailer -> outbox of .eml files), each message parsed back with the standard library; and the mailer over
SES (moto), where sending is exactly once per domain event, throttling waits and refusals are final."""

from __future__ import annotations

import email
import email.policy
import json
import os
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from icalendar import Calendar

from devserver import streams, template
from devserver.gateway import LambdaContext, instances
from devserver.runtime import reset_caches
from devserver.streams import MAILED, DomainEvents
from tests.support.bookings import new_account, new_event
from tests.support.documents import account_named, decoded_qr_codes, pdf_pages
from tests.support.fixtures import embedded_database
from tests.support.handlers import Api
from tests.support.smtp import smtp_server
from tests.support.waitlist import join


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[tuple[DomainEvents, Path]]:
    """The local runtime's domain-event path with its mail outbox in a folder of the test's own."""
    with embedded_database("mail") as db, mock.patch.dict(os.environ):
        prefix = os.environ["BOOKINGS_TABLE"].removesuffix("-BookingsTable")
        os.environ.update(streams.environment(prefix, db.endpoint))
        os.environ.update(MAIL_ENABLED="true", MAIL_OUTBOX_DIR=str(tmp_path / "mail"), MAIL_SMTP_URL="")
        reset_caches()
        pump = DomainEvents(db, prefix, interval=0.05, quiet=False).start()
        try:
            yield pump, tmp_path / "mail"
        finally:
            pump.stop()


def mails(outbox: tuple[DomainEvents, Path], count: int, timeout: float = 20) -> list[EmailMessage]:
    """The .eml files in the outbox, oldest first, once there are `count` (and the pump has settled)."""
    pump, folder = outbox
    deadline = time.monotonic() + timeout
    while len(list(folder.glob("*.eml"))) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    pump.settle()
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


def parts(message: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    """The plain text, the HTML and the attachments (by filename) of a message."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    attached = {a.get_filename(): a.get_payload(decode=True) for a in message.iter_attachments()}
    return text.get_content(), html.get_content(), attached


def book(api: Api, token: str, event_id: str, quantity: int = 1) -> dict[str, Any]:
    result = api.call("create_booking", token=token, path={"event_id": event_id}, body={"quantity": quantity})
    assert result.status == 201, result.body
    return result.body


def test_a_booking_mails_one_confirmation_with_its_tickets_and_calendar_entry(
    outbox: tuple[DomainEvents, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    api = Api()
    buyer = account_named("Grace Hopper")
    event_id = new_event(name="Jazz Night", venue="Blue Note", timezone="Europe/Berlin")
    booking = book(api, buyer.token, event_id, 2)

    (message,) = mails(outbox, 1)

    assert message["To"].addresses[0].addr_spec == buyer.email
    assert message["To"].addresses[0].display_name == "Grace Hopper"
    assert message["Subject"] == "Your tickets: Jazz Night"
    text, html, attached = parts(message)
    assert "Grace Hopper" in text
    assert "Jazz Night" in html
    assert "(Europe/Berlin)" in text
    assert all(ticket["ticket_number"] in text for ticket in booking["tickets"])
    assert set(attached) == {f"tickets-{booking['id']}.pdf", "event.ics"}
    pages = pdf_pages(attached[f"tickets-{booking['id']}.pdf"])
    assert [decoded_qr_codes(page) for page in pages] == [[t["code"]] for t in booking["tickets"]]
    (entry,) = Calendar.from_ical(attached["event.ics"]).walk("VEVENT")
    assert str(entry.decoded("dtstart").tzinfo) == "Europe/Berlin"
    # And `make run` prints one line for it.
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith(MAILED)]
    assert printed == [f"{MAILED:<17}to {buyer.email}: Your tickets: Jazz Night"]


def test_a_cancel_mails_one_cancellation_and_replaying_the_events_mails_nothing_twice(
    outbox: tuple[DomainEvents, Path],
) -> None:
    pump, _ = outbox
    api = Api()
    buyer = new_account()
    booking = book(api, buyer.token, new_event(name="Opera"))
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200
    sent = mails(outbox, 2)

    # The same domain events again (a stream redelivery, or a replay from the bus's archive).
    bus = boto3.client("events", endpoint_url=os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"])
    again = [
        {"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"]), "EventBusName": name}
        for e in pump.recent()
        for name in streams.bus_names(pump.prefix).values()
    ]
    assert bus.put_events(Entries=again)["FailedEntryCount"] == 0  # type: ignore[arg-type]
    pump.settle()

    assert sorted(m["Subject"] for m in mails(outbox, 2)) == sorted(m["Subject"] for m in sent)
    assert sorted(m["Subject"] for m in sent) == ["Booking cancelled: Opera", "Your tickets: Opera"]


def test_one_ticket_cancelled_mails_which_ticket_went_and_what_is_left(outbox: tuple[DomainEvents, Path]) -> None:
    api = Api()
    buyer = new_account()
    booking = book(api, buyer.token, new_event(name="Ballet", price="25.00"), 3)
    gone = booking["tickets"][1]["ticket_number"]
    path = {"booking_id": booking["id"], "ticket_number": gone}
    assert api.call("cancel_ticket", token=buyer.token, path=path).status == 200

    sent = {m["Subject"]: m for m in mails(outbox, 2)}

    assert set(sent) == {"Your tickets: Ballet", "Ticket cancelled: Ballet"}
    text, html, attached = parts(sent["Ticket cancelled: Ballet"])
    assert gone in text
    assert gone in html
    assert "2 tickets left" in text
    assert "50.00 EUR" in text
    assert attached == {}


def test_a_waiting_list_offer_mails_what_is_kept_until_when_and_how_to_confirm(
    outbox: tuple[DomainEvents, Path],
) -> None:
    api = Api()
    event_id = new_event(total=1, name="Sold Out Show", timezone="America/New_York")
    buyer, waiter = new_account(), account_named("Wanda Waiter")
    booking = book(api, buyer.token, event_id)
    assert join(api, waiter, event_id).status == 201
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200

    offers = [m for m in mails(outbox, 3) if m["Subject"].startswith("Tickets kept for you")]

    (offer,) = offers
    assert offer["To"].addresses[0].display_name == "Wanda Waiter"
    hold_id = api.call("list_waiting_list", token=waiter.token).body["items"][0]["hold_id"]
    text, _, attached = parts(offer)
    assert f"POST /holds/{hold_id}/confirm" in text
    assert "(America/New_York)" in text
    assert "until" in text
    assert attached == {}


def test_hostile_names_arrive_escaped_in_html_and_literal_in_text(outbox: tuple[DomainEvents, Path]) -> None:
    api = Api()
    buyer = account_named('<img src=x onerror="alert(1)">')
    book(api, buyer.token, new_event(name="<script>alert('x')</script> Night"))

    (message,) = mails(outbox, 1)

    text, html, _ = parts(message)
    assert "<script>alert('x')</script> Night" in text
    assert '<img src=x onerror="alert(1)">' in text
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Night" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


# --- the mailer over SES (moto): called as the bus's rule calls it ---

SENDER = template.parameters()["MailFrom"]


@pytest.fixture
def ses(aws: None) -> Iterator[Any]:
    """SES (moto) with the sender verified, and the mailer's environment as the template gives it."""
    client = boto3.client("ses")
    client.verify_email_identity(EmailAddress=SENDER)
    resource = template.load()["Resources"]["SendMailFunction"]["Properties"]["Environment"]["Variables"]
    assert (resource["MAIL_FROM"], resource["MAIL_CONFIGURATION_SET"]) == (
        {"Ref": "MailFrom"},
        {"Ref": "MailConfigurationSet"},
    )
    with mock.patch.dict(
        os.environ,
        MAIL_FROM=SENDER,
        MAIL_ENABLED="true",
        MAIL_CONFIGURATION_SET="boxoffice-test-mail",
        MAIL_OUTBOX_DIR="",
        MAIL_SMTP_URL="",
    ):
        reset_caches()
        yield client
    reset_caches()


def ses_sent() -> list[Any]:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def mailer(event: dict[str, Any]) -> dict[str, Any]:
    function = template.functions()["SendMailFunction"]
    answer: dict[str, Any] = instances(function).invoke(
        event, LambdaContext(function.function, f"mail-{time.time_ns()}")
    )
    return answer


def confirmed(booking: dict[str, Any], user_id: str) -> dict[str, Any]:
    """The BookingConfirmed domain event of `booking`, as the bus hands it to a rule's target."""
    detail = {
        "id": f"BookingConfirmed:{booking['id']}",
        "version": 1,
        "occurred_at": booking["created_at"],
        "event_id": booking["event_id"],
        "user_id": user_id,
        "booking_id": booking["id"],
        "ticket_type_id": booking["ticket_type"]["id"],
        "quantity": booking["quantity"],
    }
    return {"source": "boxoffice", "detail-type": "BookingConfirmed", "detail": detail}


def test_ses_sends_a_domain_events_mail_once_however_often_it_is_delivered(ses: Any, api: Api) -> None:
    buyer = new_account()
    event = confirmed(book(api, buyer.token, new_event()), buyer.id)

    answers = [mailer(event) for _ in range(3)]

    assert [len(a["sent"]) for a in answers] == [1, 0, 0]
    (message,) = ses_sent()
    assert message.source == SENDER
    assert buyer.email in message.destinations


def test_ses_throttling_is_waited_out_and_the_mail_sent_once(
    ses: Any, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice import mailer as transport

    buyer = new_account()
    event = confirmed(book(api, buyer.token, new_event()), buyer.id)
    real = transport.client().send_email
    calls: list[float] = []
    throttled = ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "SendEmail")

    def send_email(**request: Any) -> Any:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise throttled
        return real(**request)

    monkeypatch.setattr(transport.client(), "send_email", send_email)

    assert len(mailer(event)["sent"]) == 1
    assert len(calls) == 3
    assert len(ses_sent()) == 1


def test_a_refused_address_is_recorded_and_never_tried_again(
    ses: Any, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice import mailer as transport

    buyer = new_account()
    event = confirmed(book(api, buyer.token, new_event()), buyer.id)
    refused = ClientError({"Error": {"Code": "MessageRejected", "Message": "on the suppression list"}}, "SendEmail")
    calls = []

    def send_email(**request: Any) -> Any:
        calls.append(request)
        raise refused

    monkeypatch.setattr(transport.client(), "send_email", send_email)

    assert [mailer(event)["sent"] for _ in range(2)] == [[], []]
    assert len(calls) == 1


def test_a_failed_send_gives_its_claim_back_so_the_retry_sends_it(
    ses: Any, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice import mailer as transport

    buyer = new_account()
    event = confirmed(book(api, buyer.token, new_event()), buyer.id)
    real = transport.client().send_email
    broken = ClientError({"Error": {"Code": "InternalFailure", "Message": "try again"}}, "SendEmail")
    outcomes: list[Any] = [broken]

    def send_email(**request: Any) -> Any:
        if outcomes:
            raise outcomes.pop()
        return real(**request)

    monkeypatch.setattr(transport.client(), "send_email", send_email)

    with pytest.raises(ClientError):
        mailer(event)  # Lambda records a failed invocation and retries it
    assert len(mailer(event)["sent"]) == 1
    assert len(ses_sent()) == 1


def test_mail_turned_off_sends_nothing(ses: Any, api: Api) -> None:
    buyer = new_account()
    event = confirmed(book(api, buyer.token, new_event()), buyer.id)
    with mock.patch.dict(os.environ, MAIL_ENABLED="false"):
        reset_caches()
        assert mailer(event)["sent"] == []
    assert ses_sent() == []


def test_mail_smtp_url_sends_through_that_server_instead_of_ses(ses: Any, api: Api) -> None:
    buyer = new_account()
    event = confirmed(book(api, buyer.token, new_event(name="Mailpit Night")), buyer.id)
    with smtp_server() as (url, received), mock.patch.dict(os.environ, MAIL_SMTP_URL=url):
        reset_caches()
        (sent,) = mailer(event)["sent"]

    assert sent["where"] == url
    (raw,) = received
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert (message["Subject"], message["To"].addresses[0].addr_spec) == ("Your tickets: Mailpit Night", buyer.email)
    assert ses_sent() == []


def test_an_offer_taken_up_before_its_mail_goes_out_is_not_mailed(ses: Any, api: Api) -> None:
    event_id = new_event(total=1)
    buyer, waiter = new_account(), new_account()
    booking = book(api, buyer.token, event_id)
    entry = join(api, waiter, event_id).body
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200
    hold_id = api.call("list_waiting_list", token=waiter.token).body["items"][0]["hold_id"]
    offered = {"id": f"HoldOffered:{hold_id}", "version": 1, "event_id": event_id, "user_id": waiter.id}
    offered |= {"hold_id": hold_id, "waiting_entry_id": entry["id"], "quantity": 1}
    event = {"source": "boxoffice", "detail-type": "HoldOffered", "detail": offered}
    assert api.call("confirm_hold", token=waiter.token, path={"hold_id": hold_id}).status == 201

    assert mailer(event)["sent"] == []
    assert ses_sent() == []
