"""The booking and cancel transactions against botocore's Stubber: their shape, conflict retries, and BUSY."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from boxoffice.errors import AlreadyCancelled, BookingNotFound, Busy, NotAuthenticated
from boxoffice.models.events import MAX_PER_BOOKING
from boxoffice.store import bookings as store
from boxoffice.store import dynamo
from boxoffice.store.bookings import BookingRecord, EventChanged, EventSnapshot, IdempotencyClaim
from tests.support.records import NOW, event_record

EVENT = event_record(max_tickets_per_booking=MAX_PER_BOOKING)


def booking(quantity: int = 2) -> BookingRecord:
    return BookingRecord(
        id="01JDQ7Y3M4N5P6Q7R8S9T0V1W2",
        user_id="u1",
        event_id=EVENT.id,
        quantity=quantity,
        ticket_numbers=tuple(f"T{i}" for i in range(quantity)),
        unit_price=EVENT.ticket_price,
        total_price=EVENT.ticket_price * quantity,
        currency="EUR",
        status="CONFIRMED",
        created_at=NOW,
        cancelled_at=None,
        event=EventSnapshot.of(EVENT),
    )


@pytest.fixture
def stub() -> Iterator[Stubber]:
    with Stubber(dynamo.client()) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def cancelled(stub: Stubber, *reasons: dict[str, Any]) -> None:
    stub.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        http_status_code=400,
        modeled_fields={"CancellationReasons": list(reasons)},
    )


def conflict(size: int) -> list[dict[str, Any]]:
    return [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (size - 1)


def create(**overrides: Any) -> Any:
    record = overrides.pop("record", booking())
    codes = {number: f"code-of-{number}" for number in record.ticket_numbers}
    args: dict[str, Any] = {"priced_by": EVENT, "token_version": 0, "claim": None, "now": NOW, **overrides}
    return store.create(record, codes=codes, **args)


def test_the_largest_booking_with_a_key_fits_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    monkeypatch.setattr(dynamo, "transact", lambda actions: sizes.append(len(actions)))
    assert create(record=booking(MAX_PER_BOOKING), claim=IdempotencyClaim("k", "f", 0)) is None
    assert sizes == [MAX_PER_BOOKING + 4]
    assert sizes[0] <= 100  # DynamoDB's limit per TransactWriteItems


def test_conflicts_are_retried_until_the_transaction_commits(stub: Stubber) -> None:
    cancelled(stub, *conflict(5))
    cancelled(stub, *conflict(5))
    stub.add_response("transact_write_items", {})
    assert create() is None


def test_conflicts_that_outlast_the_attempts_are_busy(stub: Stubber) -> None:
    for _ in range(4):  # config.transaction_max_attempts
        cancelled(stub, *conflict(5))
    with pytest.raises(Busy):
        create()


def test_a_lost_event_condition_carries_the_event_as_dynamodb_saw_it(stub: Stubber) -> None:
    sold_out = {**dynamo.dump({"pk": f"EVENT#{EVENT.id}", "sk": "EVENT"}), **_event_item(available_tickets=0)}
    cancelled(stub, {"Code": "ConditionalCheckFailed", "Item": sold_out}, *[{"Code": "None"}] * 4)
    with pytest.raises(EventChanged) as caught:
        create()
    assert caught.value.event is not None
    assert caught.value.event.available_tickets == 0


def test_a_missing_event_is_changed_to_nothing(stub: Stubber) -> None:
    cancelled(stub, {"Code": "ConditionalCheckFailed"}, *[{"Code": "None"}] * 4)
    with pytest.raises(EventChanged) as caught:
        create()
    assert caught.value.event is None


def test_a_revoked_token_wins_over_every_other_reason(stub: Stubber) -> None:
    failed = {"Code": "ConditionalCheckFailed"}
    cancelled(stub, failed, failed, {"Code": "None"}, {"Code": "None"}, {"Code": "None"})
    with pytest.raises(NotAuthenticated):
        create()


def test_a_taken_key_returns_what_it_stands_for(stub: Stubber) -> None:
    earlier = booking()
    key_item = dynamo.dump({"fingerprint": "f", "expires_at": 99, "booking": earlier.attributes()})
    failed = {"Code": "ConditionalCheckFailed"}
    cancelled(stub, failed, {"Code": "None"}, {**failed, "Item": key_item}, *[{"Code": "None"}] * 3)
    record = create(claim=IdempotencyClaim("k", "f", 0))
    assert record.booking == earlier
    assert record.fingerprint == "f"


def test_cancel_conflicts_are_retried_then_busy(stub: Stubber) -> None:
    for _ in range(4):
        cancelled(stub, *conflict(5))
    with pytest.raises(Busy):
        store.cancel(booking(), seen=EventSnapshot.of(EVENT), token_version=0, now=NOW)


@pytest.mark.parametrize(("item", "error"), [(None, BookingNotFound), ({"status": "CANCELLED"}, AlreadyCancelled)])
def test_a_lost_booking_condition_is_not_found_or_already_cancelled(
    stub: Stubber, item: dict[str, Any] | None, error: type[Exception]
) -> None:
    reason: dict[str, Any] = {"Code": "ConditionalCheckFailed"}
    if item is not None:
        reason["Item"] = dynamo.dump(item)
    cancelled(stub, reason, *[{"Code": "None"}] * 4)
    with pytest.raises(error):
        store.cancel(booking(), seen=EventSnapshot.of(EVENT), token_version=0, now=NOW)


def _event_item(**overrides: Any) -> dict[str, Any]:
    item = {
        "id": EVENT.id,
        "name": EVENT.name,
        "description": "",
        "venue": EVENT.venue,
        "starts_at": EVENT.starts_at.isoformat(),
        "total_tickets": EVENT.total_tickets,
        "available_tickets": EVENT.available_tickets,
        "ticket_price": EVENT.ticket_price,
        "currency": EVENT.currency,
        "max_tickets_per_booking": EVENT.max_tickets_per_booking,
        "status": EVENT.status,
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
        **overrides,
    }
    return dynamo.dump(item)
