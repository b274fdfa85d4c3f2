"""store.dynamo.batch_get: any number of keys, 100 per call, unprocessed keys asked again."""

from __future__ import annotations

import time
from typing import Any

import pytest

from boxoffice import retry
from boxoffice.errors import Throttled
from boxoffice.store import dynamo


class FakeDynamoDB:
    """Answers each key with an item holding it; the first `throttled` calls leave their last key unprocessed."""

    def __init__(self, throttled: int = 0) -> None:
        self.calls: list[int] = []
        self.throttled = throttled

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        keys = [(table, key) for table, request in RequestItems.items() for key in request["Keys"]]
        assert all(request["ConsistentRead"] for request in RequestItems.values())
        self.calls.append(len(keys))
        left = keys[-1:] if len(self.calls) <= self.throttled else []
        responses: dict[str, list[Any]] = {}
        for table, key in keys:
            if (table, key) not in left:
                responses.setdefault(table, []).append(key)
        unprocessed = {table: {"Keys": [key]} for table, key in left}
        return {"Responses": responses, "UnprocessedKeys": unprocessed}


def fake_dynamodb(monkeypatch: pytest.MonkeyPatch, throttled: int = 0) -> FakeDynamoDB:
    fake = FakeDynamoDB(throttled)
    monkeypatch.setattr(dynamo, "client", lambda: fake)
    monkeypatch.setattr(time, "sleep", lambda _: None)
    return fake


def keys(n: int) -> list[dict[str, str]]:
    return [{"pk": f"K{i}"} for i in range(n)]


def test_more_than_100_keys_over_several_tables_go_100_a_call(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_dynamodb(monkeypatch)
    found = dynamo.batch_get({"a": keys(150), "b": keys(1), "c": []})
    assert fake.calls == [100, 51]
    assert sorted(i["pk"] for i in found["a"]) == sorted(k["pk"] for k in keys(150))
    assert (found["b"], found["c"]) == ([{"pk": "K0"}], [])


def test_unprocessed_keys_are_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_dynamodb(monkeypatch, throttled=retry.ATTEMPTS - 1)
    assert len(dynamo.batch_get({"a": keys(3)})["a"]) == 3
    assert fake.calls == [3] + [1] * (retry.ATTEMPTS - 1)


def test_keys_still_unprocessed_after_the_retries_are_throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_dynamodb(monkeypatch, throttled=retry.ATTEMPTS)
    with pytest.raises(Throttled):
        dynamo.batch_get({"a": keys(3)})
    assert len(fake.calls) == retry.ATTEMPTS
