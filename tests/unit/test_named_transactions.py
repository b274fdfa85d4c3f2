"""Transactions built from named actions: a failure is read by name, so adding an action never changes
what another action's failure means."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from boxoffice.errors import NotAuthenticated
from boxoffice.store import dynamo, users
from boxoffice.store.dynamo import Failed, Transaction


@pytest.fixture
def stub() -> Iterator[Stubber]:
    with Stubber(dynamo.client()) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def check(name: str) -> dict[str, Any]:
    return {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": name}}, "ConditionExpression": "x = :x"}}


def test_a_failure_is_read_by_the_name_of_its_action_wherever_it_stands(stub: Stubber) -> None:
    failed = {"Code": "ConditionalCheckFailed", "Item": {"pk": {"S": "quota"}, "sold": {"N": "3"}}}
    stub.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": "None"}, {"Code": "None"}, failed]},
    )
    tx = Transaction().add("hold", check("hold")).add("account", check("account")).add("quota", check("quota"))
    with pytest.raises(Failed) as caught:
        tx.commit()
    assert caught.value.failed("quota")
    assert caught.value.old("quota") == {"pk": "quota", "sold": 3}
    assert not caught.value.failed("account")
    assert not caught.value.failed("hold")
    assert not caught.value.failed("not in this transaction")


def test_two_actions_may_not_share_a_name() -> None:
    tx = Transaction().add("quota", check("a"))
    with pytest.raises(ValueError, match="quota"):
        tx.add("quota", check("b"))
    assert len(tx) == 1


def cancelled_by(stub: Stubber, *codes: str) -> None:
    stub.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


def test_a_revoked_token_check_is_not_authenticated_whatever_else_failed(stub: Stubber) -> None:
    cancelled_by(stub, "ConditionalCheckFailed", "ConditionalCheckFailed")
    tx = Transaction().add("quota", check("quota"))
    users.check_current(tx, "u1", 3)
    with pytest.raises(NotAuthenticated, match="The token was revoked"):
        tx.commit()


def test_a_token_check_that_holds_leaves_the_other_failures_to_the_caller(stub: Stubber) -> None:
    cancelled_by(stub, "ConditionalCheckFailed", "None")
    tx = Transaction().add("quota", check("quota"))
    users.check_current(tx, "u1", 3, name="caller")
    with pytest.raises(Failed) as caught:
        tx.commit()
    assert caught.value.failed("quota")
    assert not caught.value.failed("caller")
