"""The stream -> bus path over moto's server, as `make run` runs it: every committed booking, cancel,
check-in and hold transition reaches the bus once, in commit order, and nothing that was not
committed ever does."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import pytest

from devserver import streams
from devserver.runtime import reset_caches
from devserver.streams import DomainEvents
from tests.support.bookings import AT_THE_DOOR, Account, new_account, new_event
from tests.support.fixtures import embedded_database
from tests.support.handlers import Api, Result


@pytest.fixture
def published() -> Iterator[DomainEvents]:
    with embedded_database("events") as db, mock.patch.dict(os.environ):
        prefix = os.environ["BOOKINGS_TABLE"].removesuffix("-BookingsTable")
        os.environ.update(streams.environment(prefix, db.endpoint))
        reset_caches()
        pump = DomainEvents(db, prefix, interval=0.02, quiet=True).start()
        try:
            yield pump
        finally:
            pump.stop()


def wait_for(pump: DomainEvents, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(pump.recent()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # and nothing more arrives
    return pump.recent()


def book(who: Account, event_id: str, quantity: int) -> Result:
    return Api().call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["detail-type"] for e in events]


def test_a_booking_and_its_cancel_are_published_once_each_in_order(published: DomainEvents) -> None:
    who = new_account()
    event_id = new_event(starts_in=AT_THE_DOOR, total=10)
    booking = book(who, event_id, 3).body
    api = Api()
    assert api.call("cancel_booking", token=who.token, path={"booking_id": booking["id"]}).status == 200
    assert api.call("cancel_booking", token=who.token, path={"booking_id": booking["id"]}).status == 409
    events = wait_for(published, 2)
    assert [(e["source"], e["detail-type"]) for e in events] == [
        ("boxoffice", "BookingConfirmed"),
        ("boxoffice", "BookingCancelled"),
    ]
    for event in events:
        detail = event["detail"]
        assert (detail["booking_id"], detail["event_id"], detail["user_id"]) == (booking["id"], event_id, who.id)
        assert (detail["quantity"], detail["ticket_type_id"]) == (3, booking["ticket_type"]["id"])
        assert who.email not in str(event)  # ids, never personal data


def test_one_ticket_cancelled_is_ticket_cancelled_and_the_last_one_the_bookings_cancel(
    published: DomainEvents,
) -> None:
    who = new_account()
    event_id = new_event(starts_in=AT_THE_DOOR, total=10)
    booking = book(who, event_id, 2).body
    first, last = (t["ticket_number"] for t in booking["tickets"])
    api = Api()
    for number in (first, first, last):
        api.call("cancel_ticket", token=who.token, path={"booking_id": booking["id"], "ticket_number": number})
    events = wait_for(published, 3)
    assert names(events) == ["BookingConfirmed", "TicketCancelled", "BookingCancelled"]
    detail = events[1]["detail"]
    assert (detail["id"], detail["ticket_number"], detail["quantity"]) == (f"TicketCancelled:{booking['id']}:{first}",
                                                                          first, 1)  # fmt: skip
    assert events[2]["detail"]["quantity"] == 1


def test_only_committed_bookings_are_published_when_many_race_for_the_last_tickets(published: DomainEvents) -> None:
    event_id = new_event(starts_in=AT_THE_DOOR, total=5, per_booking=1)
    buyers = [new_account() for _ in range(20)]
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda who: book(who, event_id, 1), buyers))
    made = {r.body["id"] for r in results if r.status == 201}
    assert len(made) == 5
    events = wait_for(published, 5)
    assert sorted(e["detail"]["booking_id"] for e in events) == sorted(made)
    assert set(names(events)) == {"BookingConfirmed"}


def test_a_check_in_and_its_undo_are_published_and_the_door_counts_are_not(published: DomainEvents) -> None:
    who, staff, admin = new_account(), new_account("staff"), new_account("admin")
    event_id = new_event(starts_in=AT_THE_DOOR)
    booking = book(who, event_id, 2).body
    number = booking["tickets"][0]["ticket_number"]
    api = Api()
    path = {"event_id": event_id}
    assert api.call("check_in", token=staff.token, path=path, body={"ticket_number": number}).status == 200
    assert api.call("check_in", token=staff.token, path=path, body={"ticket_number": number}).status == 409
    undo = {"event_id": event_id, "ticket_number": number}
    assert api.call("undo_check_in", token=admin.token, path=undo).status == 200
    events = wait_for(published, 3)
    # In commit order per table's stream; the two streams are read side by side.
    assert sorted(names(events)) == ["BookingConfirmed", "TicketCheckInUndone", "TicketCheckedIn"]
    door = [e for e in events if e["detail-type"].startswith("Ticket")]
    assert names(door) == ["TicketCheckedIn", "TicketCheckInUndone"]
    checked_in = door[0]["detail"]
    assert (checked_in["booking_id"], checked_in["user_id"], checked_in["ticket_number"]) == (
        booking["id"],
        who.id,
        number,
    )
    assert staff.id not in str(events)


def test_hold_items_as_the_holds_store_writes_them_are_offered_and_expired(published: DomainEvents) -> None:
    # The holds' own routes are another branch's; their items (SPEC-12) go through the same stream.
    from boxoffice.config import settings
    from boxoffice.store import dynamo
    from tests.unit.test_domain_events import ENTRY_ID, USER, ended, hold_item

    offer = hold_item(waiting_entry_id=ENTRY_ID)
    holding = {"pk": f"USER#{USER}", "sk": "HOLDING#e", "tickets": 3}
    table = settings().bookings_table
    dynamo.transact([{"Put": {"TableName": table, "Item": dynamo.dump(item)}} for item in (offer, holding)])
    dynamo.client().put_item(TableName=table, Item=dynamo.dump(ended("EXPIRED", waiting_entry_id=ENTRY_ID)))
    events = wait_for(published, 2)
    assert names(events) == ["HoldOffered", "HoldExpired"]
    assert {e["detail"]["hold_id"] for e in events} == {offer["id"]}


def test_a_cancelled_transaction_is_never_published(published: DomainEvents) -> None:
    # moto writes a transaction's items (and their stream records) before it finds a lost condition;
    # the embedded moto's rollback (devserver/flatmoto.py) takes the records back off the stream too.
    from boxoffice.config import settings
    from boxoffice.store import dynamo
    from tests.unit.test_domain_events import BOOKING, booking_item

    phantom = {"Put": {"TableName": settings().bookings_table, "Item": dynamo.dump(booking_item(BOOKING))}}
    never = {
        "ConditionCheck": {
            "TableName": settings().users_table,
            "Key": dynamo.dump({"pk": "USER#nobody"}),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    with pytest.raises(dynamo.Cancelled):
        dynamo.transact([phantom, never])
    who = new_account()
    assert book(who, new_event(starts_in=AT_THE_DOOR, total=2), 1).status == 201
    events = wait_for(published, 1)
    assert [e["detail"]["user_id"] for e in events] == [who.id]


def test_a_batch_the_bus_refuses_is_published_again_from_the_first_refused_record(
    published: DomainEvents, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice import bus

    put = bus.put
    refused: list[str] = []

    def refuse_the_second_once(entries: Any) -> int | None:
        if len(entries) > 1 and not refused:
            refused.append(entries[1][1]["id"])
            return put(entries[:1]) or 1
        return put(entries)

    monkeypatch.setattr(bus, "put", refuse_the_second_once)
    go, pump = threading.Event(), published._pump
    monkeypatch.setattr(published, "_pump", lambda *args: go.wait() and pump(*args))  # one batch of all three
    who = new_account()
    event_id = new_event(starts_in=AT_THE_DOOR, total=10)
    booking = book(who, event_id, 1).body
    assert Api().call("cancel_booking", token=who.token, path={"booking_id": booking["id"]}).status == 200
    assert book(who, event_id, 1).status == 201
    go.set()
    events = wait_for(published, 3)
    assert refused == [f"BookingCancelled:{booking['id']}"]
    assert names(events) == ["BookingConfirmed", "BookingCancelled", "BookingConfirmed"]
    assert len({e["detail"]["id"] for e in events}) == 3  # each once: the first was not sent again


def test_records_handed_on_are_dropped_from_moto_and_later_ones_still_arrive(published: DomainEvents) -> None:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import StreamRecord
    from moto.sqs.models import Message

    from boxoffice.config import settings

    tracked = len(StreamRecord.instances_tracked), len(Message.instances_tracked)  # type: ignore[attr-defined]
    who = new_account()
    event_id = new_event(starts_in=AT_THE_DOOR, total=10)
    assert [book(who, event_id, 1).status for _ in range(3)] == [201] * 3
    wait_for(published, 3)
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].tables
    shard = tables[settings().bookings_table].stream_shard
    assert shard is not None
    assert shard.items == []  # memory stays flat however long `make run` runs
    assert (len(StreamRecord.instances_tracked), len(Message.instances_tracked)) == tracked  # type: ignore[attr-defined]
    assert book(who, event_id, 1).status == 201
    assert len(wait_for(published, 4)) == 4
