"""The login function's IAM grants name the items it may touch (dynamodb:LeadingKeys in template.yaml).

moto does not enforce IAM conditions, so this records every DynamoDB call login makes, on every path
(a wrong password, a lock, a new window, an unknown email, a success), and checks each key against
the grants: an item of a new kind read or written by login fails here, not as AccessDenied in AWS.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.store import dynamo
from tests.support.handlers import Api
from tests.unit.test_auth_tokens import frozen_clock
from tests.unit.test_template import as_list, functions, leading_keys, statements

ADA = {"name": "Ada Lovelace", "email": "ada@example.com", "password": "correct horse"}
RIGHT = {"email": ADA["email"], "password": ADA["password"]}
WRONG = {**RIGHT, "password": "wrong horse"}
# A transaction's or a batch's parts, as the IAM actions they need.
INNER_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "PutRequest": "PutItem",
    "DeleteRequest": "DeleteItem",
}


def touched(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, partition key) for each item a call reads or writes."""

    def pk(part: dict[str, Any]) -> str:
        key: str = (part.get("Item") or part["Key"])["pk"]["S"]
        return key

    if operation == "TransactWriteItems":
        return [(INNER_ACTIONS[kind], pk(part)) for a in params["TransactItems"] for kind, part in a.items()]
    if operation == "BatchWriteItem":
        requests = [r for table in params["RequestItems"].values() for r in table]
        return [(INNER_ACTIONS[kind], pk(part)) for r in requests for kind, part in r.items()]
    if operation == "BatchGetItem":
        keys = [k for table in params["RequestItems"].values() for k in table["Keys"]]
        return [(operation, k["pk"]["S"]) for k in keys]
    return [(operation, pk(params))]


def allowed(action: str, key: str) -> bool:
    grants = statements(functions()["LoginFunction"])
    return any(
        f"dynamodb:{action}" in as_list(g["Action"]) and any(fnmatchcase(key, p) for p in leading_keys(g))
        for g in grants
    )


def test_every_item_login_touches_is_one_its_grants_allow(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api.call("register", body=ADA).status == 201
    calls: list[tuple[str, str]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.extend(touched(model.name, params))

    events = dynamo.client().meta.events
    events.register("before-parameter-build.dynamodb", record, unique_id="login-grants")
    try:
        move_clock = frozen_clock(monkeypatch)
        assert api.call("login", body=WRONG).status == 401
        assert api.call("login", body=RIGHT).status == 200
        for _ in range(settings().login_max_failures):
            api.call("login", body=WRONG)
        assert api.call("login", body=RIGHT).status == 429
        move_clock(settings().login_window_seconds)
        assert api.call("login", body=WRONG).status == 401  # a new window
        assert api.call("login", body={"email": "nobody@example.com", "password": "guess"}).status == 401
    finally:
        events.unregister("before-parameter-build.dynamodb", unique_id="login-grants")
    assert {action for action, _ in calls} >= {"GetItem", "UpdateItem", "PutItem"}
    assert [(action, key) for action, key in calls if not allowed(action, key)] == []
