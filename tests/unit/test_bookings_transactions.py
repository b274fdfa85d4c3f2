"""The booking and cancel transactions against botocore's Stubber: their shape, conflict retries, and BUSY."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.stub import Stubber

from boxoffice import clock, retry
from boxoffice.errors import AlreadyCancelled, BookingNotFound, Busy, NotAuthenticated
from boxoffice.logic import bookings
from boxoffice.models.events import MAX_PER_BOOKING
from boxoffice.records import (
    BookingRecord,
    EventSnapshot,
    Holding,
    IdempotencyClaim,
    Redemption,
)
from boxoffice.store import bookings as store
from boxoffice.store import dynamo
from boxoffice.store.inventory import StockChanged
from boxoffice.vocabulary import Principal, Role, UserRecord
from tests.support.records import NOW, event_record, promo_code, ticket_type

TYPE = ticket_type(max_tickets_per_booking=MAX_PER_BOOKING)
EVENT = event_record(max_tickets_per_booking=MAX_PER_BOOKING, ticket_types=(TYPE,))
# Positions of a booking's actions in its TransactWriteItems (named in the store; DynamoDB reports by position).
QUOTA, KIND, HOLDING, ACCOUNT, KEY = range(5)


def booking(quantity: int = 2) -> BookingRecord:
    return BookingRecord(
        id="01JDQ7Y3M4N5P6Q7R8S9T0V1W2",
        user_id="u1",
        event_id=EVENT.id,
        ticket_type_id=TYPE.id,
        ticket_type_name=TYPE.name,
        ticket_type_quota=False,
        counted=True,
        quantity=quantity,
        ticket_numbers=tuple(f"T{i}" for i in range(quantity)),
        unit_price=TYPE.price,
        total_price=TYPE.price * quantity,
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


def reasons(size: int, **failed: dict[str, Any] | None) -> list[dict[str, Any]]:
    """CancellationReasons of `size` actions where those at the named positions failed (with their item)."""
    positions = {"quota": QUOTA, "kind": KIND, "holding": HOLDING, "account": ACCOUNT, "key": KEY}
    found: list[dict[str, Any]] = [{"Code": "None"} for _ in range(size)]
    for name, item in failed.items():
        found[positions[name]] = {"Code": "ConditionalCheckFailed", **({"Item": dynamo.dump(item)} if item else {})}
    return found


def create(**overrides: Any) -> Any:
    record = overrides.pop("record", booking())
    codes = {number: f"code-of-{number}" for number in record.ticket_numbers}
    args: dict[str, Any] = {
        "event": EVENT,
        "ticket_type": TYPE,
        "holding": Holding(),
        "token_version": 0,
        "claim": None,
        "now": NOW,
        **overrides,
    }
    return store.create(record, codes=codes, **args)


def test_the_largest_booking_with_a_key_fits_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    monkeypatch.setattr(dynamo, "transact", lambda actions: sizes.append(len(actions)))
    assert create(record=booking(MAX_PER_BOOKING), claim=IdempotencyClaim("k", "f", 0)) is None
    # quota, type, holding, account, key, booking and one per ticket: 56, far under DynamoDB's 100.
    assert sizes == [MAX_PER_BOOKING + 6]
    assert sizes[0] <= 100


def test_the_largest_booking_with_a_key_and_a_promo_code_fits_one_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sizes: list[int] = []
    monkeypatch.setattr(dynamo, "transact", lambda actions: sizes.append(len(actions)))
    found = promo_code(event_id=EVENT.id)
    used = Redemption(found, MAX_PER_BOOKING, Decimal("2.50"))
    assert create(record=booking(MAX_PER_BOOKING), claim=IdempotencyClaim("k", "f", 0), redemption=used) is None
    # ... and the code's counter and the account's wrong-code check: 58.
    assert sizes == [MAX_PER_BOOKING + 8]


def test_conflicts_are_retried_until_the_transaction_commits(stub: Stubber) -> None:
    cancelled(stub, *conflict(7))
    cancelled(stub, *conflict(7))
    stub.add_response("transact_write_items", {})
    assert create() is None


def test_conflicts_that_outlast_the_attempts_are_busy(stub: Stubber) -> None:
    for _ in range(retry.ATTEMPTS):
        cancelled(stub, *conflict(7))
    with pytest.raises(Busy):
        create()


def quota_item(**overrides: Any) -> dict[str, Any]:
    return {
        "pk": f"EVENT#{EVENT.id}",
        "sk": "QUOTA",
        "total_tickets": 100,
        "available_tickets": 100,
        "sold": 0,
        "status": "ON_SALE",
        "starts_at": EVENT.starts_at.isoformat(),
        "currency": "EUR",
        "max_tickets_per_booking": MAX_PER_BOOKING,
        **overrides,
    }


def test_a_lost_quota_condition_carries_the_event_as_dynamodb_saw_it(stub: Stubber) -> None:
    cancelled(stub, *reasons(7, quota=quota_item(available_tickets=0, sold=100)))
    with pytest.raises(StockChanged) as caught:
        create()
    assert caught.value.event is not None
    assert (caught.value.event.available_tickets, caught.value.ticket_type) == (0, TYPE)


def test_a_lost_type_condition_carries_the_type_as_dynamodb_saw_it(stub: Stubber) -> None:
    seen = {"pk": "p", "sk": "s", "sold": 40, "total_tickets": 40, "available_tickets": 0, "price": 30}
    cancelled(stub, *reasons(7, kind={**seen, "max_tickets_per_booking": 10}))
    with pytest.raises(StockChanged) as caught:
        create()
    assert caught.value.ticket_type is not None
    assert caught.value.ticket_type.available_tickets == 0
    assert caught.value.ticket_type.price == Decimal(30)
    assert caught.value.event == EVENT


def test_a_deleted_type_is_changed_to_nothing(stub: Stubber) -> None:
    cancelled(stub, *reasons(7, kind=None))
    with pytest.raises(StockChanged) as caught:
        create()
    assert caught.value.ticket_type is None


def test_a_lost_holding_condition_carries_what_the_user_holds(stub: Stubber) -> None:
    cancelled(stub, *reasons(7, holding={"pk": "p", "sk": "s", "tickets": 3}))
    with pytest.raises(StockChanged) as caught:
        create(event=event_record(max_tickets_per_user=4, ticket_types=(TYPE,)))
    assert caught.value.holding == Holding(3)


def test_a_revoked_token_wins_over_every_other_reason(stub: Stubber) -> None:
    cancelled(stub, *reasons(7, quota=quota_item(), account=None))
    with pytest.raises(NotAuthenticated):
        create()


def test_a_taken_key_returns_what_it_stands_for(stub: Stubber) -> None:
    earlier = booking()
    key_item = {"fingerprint": "f", "expires_at": 99, "booking": store.booking_attributes(earlier)}
    cancelled(stub, *reasons(8, quota=quota_item(available_tickets=0), key=key_item))
    record = create(claim=IdempotencyClaim("k", "f", 0))
    assert record.booking == earlier
    assert record.fingerprint == "f"


def cancel(record: BookingRecord | None = None) -> tuple[BookingRecord, str]:
    return store.cancel(record or booking(), seen=EventSnapshot.of(EVENT), token_version=0, now=NOW)


def test_cancel_conflicts_are_retried_then_busy(stub: Stubber) -> None:
    for _ in range(retry.ATTEMPTS):
        cancelled(stub, *conflict(7))
    with pytest.raises(Busy):
        cancel()


@pytest.mark.parametrize(("item", "error"), [(None, BookingNotFound), ({"status": "CANCELLED"}, AlreadyCancelled)])
def test_a_lost_booking_condition_is_not_found_or_already_cancelled(
    stub: Stubber, item: dict[str, Any] | None, error: type[Exception]
) -> None:
    reason: dict[str, Any] = {"Code": "ConditionalCheckFailed"}
    if item is not None:
        reason["Item"] = dynamo.dump(item)
    cancelled(stub, reason, *[{"Code": "None"}] * 6)
    with pytest.raises(error):
        cancel()


def test_a_lost_booking_condition_on_a_booking_with_fewer_tickets_carries_it_as_it_is(stub: Stubber) -> None:
    now = replace(booking(3), quantity=2, total_price=TYPE.price * 2, cancelled_tickets=("T0",))
    item = {"pk": "USER#u1", "sk": f"BOOKING#{now.id}", **store.booking_attributes(now)}
    cancelled(stub, {"Code": "ConditionalCheckFailed", "Item": dynamo.dump(item)}, *[{"Code": "None"}] * 7)
    with pytest.raises(store.BookingChanged) as changed:
        cancel(booking(3))
    assert changed.value.booking == now  # judged again on the tickets it has left


def test_a_cancel_follows_a_type_that_gained_a_sub_quota(stub: Stubber) -> None:
    with_quota = {"pk": "p", "sk": "s", "sold": 2, "total_tickets": 10, "available_tickets": 8}
    failed = {"Code": "ConditionalCheckFailed", "Item": dynamo.dump(with_quota)}
    cancelled(stub, {"Code": "None"}, {"Code": "None"}, failed, *[{"Code": "None"}] * 4)
    with pytest.raises(store.BookingChanged) as changed:
        cancel()
    assert changed.value.booking == replace(booking(), ticket_type_quota=True)  # the form to cancel it in now
    stub.add_response("transact_write_items", {})
    assert cancel(changed.value.booking)[0].status == "CANCELLED"


def test_a_cancel_whose_event_keeps_changing_sends_at_most_the_one_bound_of_transactions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each commit loses the quota's condition: someone started waiting (the other pool is right), stopped
    # (the other pool again), then the same pool fails for the event's sake (a new start). Retried in
    # nested loops these multiply; under the one retry they add up to retry.ATTEMPTS transactions.
    record = replace(booking(), event_id=str(uuid.uuid4()))  # an event whose pool nothing has guessed yet
    starts_at = (clock.now() + timedelta(days=30)).isoformat()
    waiting = itertools.cycle([1, 0, 0])
    sent: list[list[str]] = []

    def commit(tx: dynamo.Transaction) -> None:
        sent.append(list(tx._actions))
        quota = {"status": "ON_SALE", "starts_at": starts_at, "waiting": next(waiting)}
        raise dynamo.Failed({"quota": ("ConditionalCheckFailed", quota)})

    account = UserRecord("u1", "Ada", "ada@example.com", Role.USER, None, 0, NOW)
    monkeypatch.setattr(dynamo.Transaction, "commit", commit)
    monkeypatch.setattr(store, "read_booking", lambda user_id, booking_id: (account, record))
    with pytest.raises(Busy):
        bookings.cancel_booking(Principal("u1", Role.USER, 0), record.id)
    assert len(sent) == retry.ATTEMPTS
