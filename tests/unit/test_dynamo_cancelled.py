"""A lost condition travels as Cancelled through the store's `with` blocks, reasons intact."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from boxoffice.store.dynamo import Cancelled, Failed


@contextmanager
def passing_through() -> Iterator[None]:
    yield


def test_a_cancelled_transaction_leaves_a_with_block_as_itself() -> None:
    old = {"pk": "EVENT#1", "available_tickets": 0}
    with pytest.raises(Cancelled) as caught, passing_through():
        raise Cancelled([("None", None), ("ConditionalCheckFailed", old)])
    assert caught.value.reasons == [("None", None), ("ConditionalCheckFailed", old)]


def test_a_named_failure_leaves_a_with_block_as_itself() -> None:
    with pytest.raises(Failed) as caught, passing_through():
        raise Failed({"quota": ("ConditionalCheckFailed", {"available": 0}), "booking": ("None", None)})
    assert caught.value.failed("quota")
    assert not caught.value.failed("booking")
    assert caught.value.old("quota") == {"available": 0}
