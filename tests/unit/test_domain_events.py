"""Domain events from stream records: which committed changes are events, what they carry, and how
a bus failure makes the stream resume at the first record not published."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from boxoffice import bus
from boxoffice.logic import domain_events
from boxoffice.records import BookedLine, BookedType, BookingRecord, EventSnapshot
from boxoffice.store import bookings, changes, tickets
from boxoffice.store.dynamo import dump, load
from boxoffice.vocabulary import BookingStatus
from tests.support.records import NOW, event_record

EVENT = event_record()
USER = "c84d7e43-1d87-47be-b50f-af24dbaaba01"
BOOKING = BookingRecord(
    id="01JDQ7Y3M4N5P6Q7R8S9T0V1W2",
    user_id=USER,
    event_id=EVENT.id,
    ticket_type_id=EVENT.ticket_types[0].id,
    ticket_type_name="General admission",
    ticket_type_quota=False,
    counted=True,
    quantity=2,
    ticket_numbers=("7KQ4-M2ZX-9B3D-HF6T-0W1R-5NCA-8JVE", "G2PS-4XTM-QZ7H-3K9B-RW5D-1FCN-6AVY"),
    unit_price=EVENT.ticket_price,
    total_price=EVENT.ticket_price * 2,
    currency="EUR",
    status="CONFIRMED",
    created_at=NOW,
    cancelled_at=None,
    event=EventSnapshot.of(EVENT),
)
CANCELLED_BOOKING = replace(BOOKING, status=BookingStatus.CANCELLED, cancelled_at=NOW + timedelta(hours=1))
HOLD_ID = "01JDQ7X9A8B7C6D5E4F3G2H1J0"
ENTRY_ID = "01JDQ7W1V2T3S4R5Q6P7N8M9K0"


def booking_item(booking: BookingRecord) -> dict[str, Any]:
    return {"pk": f"USER#{booking.user_id}", "sk": f"BOOKING#{booking.id}", **bookings.booking_attributes(booking)}


def v1_booking_item() -> dict[str, Any]:
    """A booking as the first version wrote it: no ticket type."""
    item = booking_item(BOOKING)
    for name in ("ticket_type_id", "ticket_type_name", "ticket_type_quota", "idempotency_sk", "cancelled_at"):
        item.pop(name)
    return item


def hold_item(**changes: Any) -> dict[str, Any]:
    """A checkout hold as SPEC-12 shapes it (HELD: with the by_expiry keys)."""
    item = {
        "pk": f"USER#{USER}",
        "sk": f"HOLD#{HOLD_ID}",
        "id": HOLD_ID,
        "user_id": USER,
        "event_id": EVENT.id,
        "ticket_type_id": EVENT.ticket_types[0].id,
        "ticket_type_name": "General admission",
        "quantity": 3,
        "unit_price": EVENT.ticket_price,
        "currency": "EUR",
        "status": "HELD",
        "expires_at": (NOW + timedelta(minutes=10)).isoformat(),
        "created_at": NOW.isoformat(),
        "held": "HELD",
        "held_until": int((NOW + timedelta(minutes=10)).timestamp() * 1000),
    }
    item.update(changes)
    return {name: value for name, value in item.items() if value is not None}


def ended(status: str, **changes: Any) -> dict[str, Any]:
    """The hold after it left HELD: the index keys go, ended_at comes."""
    at = (NOW + timedelta(minutes=11)).isoformat()
    return hold_item(status=status, held=None, held_until=None, ended_at=at, **changes)


def ticket_item(status: str = "VALID", **changes: Any) -> dict[str, Any]:
    """A ticket as the booking's transaction puts it, then as the door changes it."""
    put = tickets.put_action(
        EVENT.id,
        BOOKING.ticket_numbers[0],
        code="signed",
        booking_id=BOOKING.id,
        user_id=USER,
        ticket_type=BookedType(BOOKING.ticket_type_id, BOOKING.ticket_type_name),
        at=NOW,
    )
    return {**load(put["Put"]["Item"]), "status": status, **changes}


def checked_in(at: Any) -> dict[str, Any]:
    stamp = tickets.instant(at)
    return ticket_item(
        "CHECKED_IN",
        checked_in_at=at.isoformat(),
        checked_in_by="staff-1",
        updated_at=stamp,
        updated_key=f"{stamp}#{BOOKING.ticket_numbers[0]}",
    )


def record(sequence: int, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """A stream record as Lambda hands it to the function (NEW_AND_OLD_IMAGES)."""
    keys = {k: v for k, v in (new or old or {}).items() if k in ("pk", "sk")}
    change: dict[str, Any] = {"SequenceNumber": str(sequence), "Keys": dump(keys)}
    if old is not None:
        change["OldImage"] = dump(old)
    if new is not None:
        change["NewImage"] = dump(new)
    name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    return {"eventName": name, "dynamodb": change, "eventSourceARN": "arn:aws:dynamodb:::table/b/stream/1"}


def events_of(*records: dict[str, Any]) -> list[domain_events.DomainEvent | None]:
    return [domain_events.of(change) for change in changes.read(records)]


def test_a_new_confirmed_booking_is_booking_confirmed_with_ids_and_counts_only() -> None:
    [event] = events_of(record(1, None, booking_item(BOOKING)))
    assert event is not None
    assert event.name == "BookingConfirmed"
    assert event.detail == {
        "id": f"BookingConfirmed:{BOOKING.id}",
        "version": 1,
        "occurred_at": NOW.isoformat(),
        "event_id": EVENT.id,
        "user_id": USER,
        "booking_id": BOOKING.id,
        "ticket_type_id": EVENT.ticket_types[0].id,
        "quantity": 2,
        "lines": [{"ticket_type_id": EVENT.ticket_types[0].id, "quantity": 2}],
    }


def order_of_two_lines() -> BookingRecord:
    """BOOKING as an order: its first ticket an Adult, its second a Child."""
    adult, child = BookedType("adult-type", "Adult"), BookedType("child-type", "Child")
    first, second = BOOKING.ticket_numbers
    lines = (
        BookedLine(adult, (first,), EVENT.ticket_price, shards=((0, 1),)),
        BookedLine(child, (second,), EVENT.ticket_price, shards=((0, 1),)),
    )
    return replace(BOOKING, ticket_type_id=adult.id, ticket_type_name=adult.name, lines=lines)


def test_an_orders_events_carry_its_lines_and_a_ticket_cancelled_names_its_lines_type() -> None:
    order = order_of_two_lines()
    [confirmed] = events_of(record(1, None, booking_item(order)))
    assert confirmed is not None
    assert confirmed.detail["lines"] == [
        {"ticket_type_id": "adult-type", "quantity": 1},
        {"ticket_type_id": "child-type", "quantity": 1},
    ]
    child_ticket = order.ticket_numbers[1]
    after = replace(order, quantity=1, cancelled_tickets=(child_ticket,), ticket_cancelled_at=NOW)
    [cancelled] = events_of(record(2, booking_item(order), booking_item(after)))
    assert cancelled is not None
    assert cancelled.name == "TicketCancelled"
    assert (cancelled.detail["ticket_number"], cancelled.detail["ticket_type_id"]) == (child_ticket, "child-type")
    assert cancelled.detail["lines"] == [
        {"ticket_type_id": "adult-type", "quantity": 1},
        {"ticket_type_id": "child-type", "quantity": 0},
    ]


def test_confirmed_to_cancelled_is_booking_cancelled_at_the_cancel_instant() -> None:
    [event] = events_of(record(1, booking_item(BOOKING), booking_item(CANCELLED_BOOKING)))
    assert event is not None
    assert event.name == "BookingCancelled"
    assert event.detail["id"] == f"BookingCancelled:{BOOKING.id}"
    assert event.detail["occurred_at"] == (NOW + timedelta(hours=1)).isoformat()


def test_one_ticket_cancelled_alone_is_ticket_cancelled_with_the_tickets_left() -> None:
    gone = BOOKING.ticket_numbers[1]
    at = NOW + timedelta(hours=2)
    after = replace(
        BOOKING,
        quantity=1,
        total_price=EVENT.ticket_price,
        cancelled_tickets=(gone,),
        ticket_cancelled_at=at,
    )
    [event] = events_of(record(1, booking_item(BOOKING), booking_item(after)))
    assert event is not None
    assert event.name == "TicketCancelled"
    assert event.detail == {
        "id": f"TicketCancelled:{BOOKING.id}:{gone}",
        "version": 1,
        "occurred_at": at.isoformat(),
        "event_id": EVENT.id,
        "user_id": USER,
        "booking_id": BOOKING.id,
        "ticket_type_id": EVENT.ticket_types[0].id,
        "ticket_number": gone,
        "quantity": 1,
        "lines": [{"ticket_type_id": EVENT.ticket_types[0].id, "quantity": 1}],
    }


def test_a_booking_made_before_ticket_types_is_of_its_events_general_admission_type() -> None:
    from boxoffice.records import legacy_type_id

    [event] = events_of(record(1, None, v1_booking_item()))
    assert event is not None
    assert event.detail["ticket_type_id"] == legacy_type_id(EVENT.id)


def test_a_waiting_list_offer_placed_as_a_hold_is_hold_offered_until_its_expiry() -> None:
    [offered] = events_of(record(1, None, hold_item(waiting_entry_id=ENTRY_ID)))
    assert offered is not None
    assert offered.name == "HoldOffered"
    assert offered.detail == {
        "id": f"HoldOffered:{HOLD_ID}",
        "version": 1,
        "occurred_at": NOW.isoformat(),
        "event_id": EVENT.id,
        "user_id": USER,
        "hold_id": HOLD_ID,
        "ticket_type_id": EVENT.ticket_types[0].id,
        "quantity": 3,
        "waiting_entry_id": ENTRY_ID,
        "expires_at": (NOW + timedelta(minutes=10)).isoformat(),
    }


def test_a_hold_that_went_back_at_its_expiry_is_hold_expired_and_its_other_ends_are_not_events() -> None:
    expired, offer_expired, released, confirmed, placed = events_of(
        record(1, hold_item(), ended("EXPIRED")),
        record(2, hold_item(waiting_entry_id=ENTRY_ID), ended("EXPIRED", waiting_entry_id=ENTRY_ID)),
        record(3, hold_item(), ended("RELEASED")),
        record(4, hold_item(), ended("CONFIRMED", booking_id=BOOKING.id)),  # its booking is BookingConfirmed
        record(5, None, hold_item()),  # a buyer's own hold: no offer
    )
    assert expired is not None
    assert expired.name == "HoldExpired"
    assert expired.detail == {
        "id": f"HoldExpired:{HOLD_ID}",
        "version": 1,
        "occurred_at": (NOW + timedelta(minutes=11)).isoformat(),
        "event_id": EVENT.id,
        "user_id": USER,
        "hold_id": HOLD_ID,
        "ticket_type_id": EVENT.ticket_types[0].id,
        "quantity": 3,
        "waiting_entry_id": None,
    }
    assert offer_expired is not None
    assert offer_expired.detail["waiting_entry_id"] == ENTRY_ID
    assert (released, confirmed, placed) == (None, None, None)


def test_a_check_in_is_ticket_checked_in_and_its_undo_ticket_check_in_undone() -> None:
    first, second = NOW + timedelta(hours=30), NOW + timedelta(hours=31)
    undone_at = tickets.instant(first + timedelta(minutes=5))
    undone = ticket_item(updated_at=undone_at, updated_key=f"{undone_at}#{BOOKING.ticket_numbers[0]}")
    events = events_of(
        record(1, ticket_item(), checked_in(first)),
        record(2, checked_in(first), undone),
        record(3, undone, checked_in(second)),
    )
    assert [e.name if e else None for e in events] == ["TicketCheckedIn", "TicketCheckInUndone", "TicketCheckedIn"]
    checked, undo, again = (e for e in events if e is not None)
    assert checked.detail == {
        "id": f"TicketCheckedIn:{EVENT.id}:{BOOKING.ticket_numbers[0]}:{first.isoformat()}",
        "version": 1,
        "occurred_at": first.isoformat(),
        "event_id": EVENT.id,
        "user_id": USER,
        "booking_id": BOOKING.id,
        "ticket_number": BOOKING.ticket_numbers[0],
    }
    assert "staff-1" not in str(checked.detail)  # who scanned it is not the ticket holder's business
    assert undo.detail["occurred_at"] == (first + timedelta(minutes=5)).isoformat()
    assert len({checked.detail["id"], undo.detail["id"], again.detail["id"]}) == 3  # each transition its own


def test_counters_keys_and_other_changes_never_publish_anything() -> None:
    cancelled_ticket = ticket_item("CANCELLED", cancelled_at=NOW.isoformat())
    renamed = replace(CANCELLED_BOOKING, event=replace(CANCELLED_BOOKING.event, name="Renamed"))
    counters: list[dict[str, Any]] = [
        {"pk": f"EVENT#{EVENT.id}", "sk": "QUOTA", "total_tickets": 100, "available_tickets": 97, "sold": 3},
        {"pk": f"EVENT#{EVENT.id}", "sk": f"TYPE#{EVENT.ticket_types[0].id}", "sold": 3, "held": 0},
        {"pk": f"USER#{USER}", "sk": f"HOLDING#{EVENT.id}", "tickets": 3},
        {"pk": f"THROTTLE#{USER}@example.com", "window_start": 1, "failures": 1},
        {"pk": f"EVENT#{EVENT.id}", "sk": "CHECKINS#3", "checked_in": 1},
        {"pk": f"USER#{USER}", "sk": f"WAITING#{EVENT.id}", "id": ENTRY_ID, "status": "WAITING", "quantity": 1},
        {"pk": f"LINE#{EVENT.id}", "sk": f"{NOW.isoformat()}#{ENTRY_ID}"},
    ]
    claim: dict[str, Any] = {
        "pk": f"USER#{USER}",
        "sk": "IDEMPOTENCY#ab12",
        "fingerprint": "f",
        "booking": booking_item(BOOKING),
    }
    records = [record(n, None, item) for n, item in enumerate(counters)]
    records += [record(n + 10, {**item, "tickets": 1}, item) for n, item in enumerate(counters)]
    assert events_of(
        *records,
        record(20, None, claim),  # an Idempotency-Key committed with a booking (it holds a copy of it)
        record(21, claim, {**claim, "booking": booking_item(CANCELLED_BOOKING)}),  # the copy, cancelled
        record(22, booking_item(CANCELLED_BOOKING), booking_item(renamed)),  # a cancelled booking touched again
        record(23, booking_item(BOOKING), None),  # a removal (never made by the API)
        record(24, None, booking_item(CANCELLED_BOOKING)),  # a booking that never was confirmed
        record(25, None, ticket_item()),  # a ticket issued with its booking
        record(26, ticket_item(), cancelled_ticket),  # cancelled with it: BookingCancelled says so
        record(27, checked_in(NOW), checked_in(NOW)),  # rewritten unchanged
        record(28, hold_item(), None),  # a hold tidied away by TTL
    ) == [None] * (len(records) + 9)


@pytest.fixture
def stub() -> Iterator[Stubber]:
    with Stubber(bus.client()) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_every_event_of_a_batch_is_published_in_order_to_the_bus(stub: Stubber) -> None:
    stub.add_response(
        "put_events",
        {"FailedEntryCount": 0, "Entries": [{"EventId": "a"}, {"EventId": "b"}]},
        {
            "Entries": [
                {"Source": "boxoffice", "DetailType": "BookingConfirmed", "Detail": ANY, "EventBusName": ANY},
                {"Source": "boxoffice", "DetailType": "BookingCancelled", "Detail": ANY, "EventBusName": ANY},
            ]
        },
    )
    claim = {"pk": f"USER#{USER}", "sk": "IDEMPOTENCY#k"}
    batch = [record(1, None, booking_item(BOOKING)), record(2, None, claim)]
    assert domain_events.publish([*batch, record(3, booking_item(BOOKING), booking_item(CANCELLED_BOOKING))]) is None


def test_the_first_entry_the_bus_refuses_names_the_record_to_resume_from(stub: Stubber) -> None:
    stub.add_response(
        "put_events",
        {"FailedEntryCount": 1, "Entries": [{"EventId": "a"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]},
    )
    batch = [record(1, None, booking_item(BOOKING)), record(5, booking_item(BOOKING), booking_item(CANCELLED_BOOKING))]
    assert domain_events.publish(batch) == "5"


def test_a_bus_that_cannot_be_reached_fails_the_batch_from_its_first_event(stub: Stubber) -> None:
    stub.add_client_error("put_events", service_error_code="ResourceNotFoundException", http_status_code=400)
    batch = [record(1, None, {"pk": f"USER#{USER}", "sk": "IDEMPOTENCY#k"}), record(2, None, booking_item(BOOKING))]
    assert domain_events.publish(batch) == "2"


def test_a_batch_of_more_than_ten_events_goes_in_chunks_and_stops_at_a_failed_chunk(stub: Stubber) -> None:
    stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in range(10)]})
    stub.add_client_error("put_events", service_error_code="ThrottlingException", http_status_code=400)
    bookings = [replace(BOOKING, id=f"01JDQ7Y3M4N5P6Q7R8S9T0V{i:03d}") for i in range(25)]
    assert domain_events.publish([record(i, None, booking_item(b)) for i, b in enumerate(bookings)]) == "10"


def test_a_batch_without_events_publishes_nothing(stub: Stubber) -> None:
    assert domain_events.publish([record(1, None, {"pk": f"USER#{USER}", "sk": f"HOLDING#{EVENT.id}"})]) is None
