"""DynamoDB throttling past the retries is an answer: 503 THROTTLED with Retry-After, nothing half-written.

Throttling is injected as botocore raises it once its own retries are spent: a before-call hook answers
the call with DynamoDB's error (no request reaches moto), or a transaction with TransactionCanceled
whose reasons name ThrottlingError, as DynamoDB sends it when one of its items' partitions is throttled.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from boxoffice import retry
from scripts.bench.common import hooked
from tests.integration.test_bookings_api import book, problem
from tests.support.bookings import Account, bookings_of, ledger, new_account, new_event
from tests.support.handlers import Api

THROTTLING = ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]


@contextmanager
def throttled(operation: str, code: str, times: int = 100) -> Iterator[list[str]]:
    """The next `times` calls of `operation` fail with `code` (a TransactWriteItems: cancelled with
    `code` as its first action's reason), then calls reach moto again."""

    calls: list[str] = []

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        calls.append(operation)
        if len(calls) > times:
            return None
        if operation != "TransactWriteItems":
            return AWSResponse("", 400, {}, None), {"Error": {"Code": code, "Message": "injected"}}
        reasons = [{"Code": "None"}] * len(json.loads(params["body"])["TransactItems"])
        reasons[0] = {"Code": code, "Message": "Throughput exceeds the current capacity for one or more tables."}
        error = {"Code": "TransactionCanceledException", "Message": f"Transaction cancelled [{code}]"}
        return AWSResponse("", 400, {}, None), {"Error": error, "CancellationReasons": reasons}

    with hooked(f"before-call.dynamodb.{operation}", answer):
        yield calls


@pytest.fixture
def alice(api: Api) -> Account:
    return new_account()


def throttled_answer(result: Any) -> None:
    problem(result, 503, "THROTTLED")
    assert int(result.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("code", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_a_booking_transaction_throttled_past_the_retries_is_503_and_writes_nothing(
    api: Api, alice: Account, code: str
) -> None:
    event_id = new_event(total=10)
    with throttled("TransactWriteItems", code) as calls:
        throttled_answer(book(api, alice, event_id, 2))
    assert len(calls) == retry.ATTEMPTS
    state = ledger(event_id)
    assert (state.available, state.sold, state.balanced) == (10, 0, True)
    assert bookings_of(alice.id) == []
    assert book(api, alice, event_id, 2).status == 201  # and a retry books


def test_throttling_that_settles_within_the_retries_books_once(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    with throttled("TransactWriteItems", "ThrottlingError", times=retry.ATTEMPTS - 1):
        assert book(api, alice, event_id, 2).status == 201
    assert (ledger(event_id).sold, len(bookings_of(alice.id))) == (2, 1)


@pytest.mark.parametrize("code", THROTTLING)
def test_a_read_throttled_past_the_retries_is_503_not_500(api: Api, alice: Account, code: str) -> None:
    event_id = new_event(total=10)
    with throttled("BatchGetItem", code):
        throttled_answer(book(api, alice, event_id, 2))
    with throttled("Query", code):
        throttled_answer(api.call("get_event", path={"event_id": event_id}))
    assert ledger(event_id).available == 10


def test_a_throttled_cancel_changes_nothing_and_can_be_retried(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    booking_id = book(api, alice, event_id, 2).body["id"]
    with throttled("TransactWriteItems", "ThrottlingError"):
        throttled_answer(api.call("cancel_booking", token=alice.token, path={"booking_id": booking_id}))
    assert ledger(event_id).available == 8
    assert api.call("cancel_booking", token=alice.token, path={"booking_id": booking_id}).status == 200
    assert ledger(event_id).available == 10


def test_a_sync_page_whose_partition_reads_are_throttled_is_503(api: Api) -> None:
    """The sync reads the event's ticket partitions side by side: a throttled one is the page's answer."""
    event_id = new_event(total=10)
    staff = new_account("staff")
    with throttled("Query", "ProvisionedThroughputExceededException", times=1):
        page = api.call("list_tickets", token=staff.token, path={"event_id": event_id}, query={"limit": "10"})
    throttled_answer(page)
