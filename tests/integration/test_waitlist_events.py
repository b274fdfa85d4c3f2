"""A waiting-list offer reaches the bus as HoldOffered, from the stream of its committed transaction (the
stream -> bus path over moto's server, as `make run` runs it)."""

from __future__ import annotations

from devserver.streams import DomainEvents
from tests.integration.test_domain_events_stream import published as published
from tests.integration.test_domain_events_stream import wait_for
from tests.support.bookings import new_account, new_event
from tests.support.handlers import Api
from tests.support.waitlist import join


def test_an_offer_is_published_as_hold_offered_with_its_entry(published: DomainEvents) -> None:
    api = Api()
    event_id = new_event(total=1)
    buyer, waiter = new_account(), new_account()
    booking = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1}).body
    entry = join(api, waiter, event_id).body

    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200

    offered = [e["detail"] for e in wait_for(published, 3) if e["detail-type"] == "HoldOffered"]
    seen = [(o["waiting_entry_id"], o["user_id"], o["event_id"]) for o in offered]
    assert seen == [(entry["id"], waiter.id, event_id)]
