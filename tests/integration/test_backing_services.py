"""Backing-service failures: a 503 problem+json that is counted, and never later than the function's timeout."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from boxoffice import deadline
from boxoffice.config import settings
from boxoffice.errors import ServiceUnavailable
from boxoffice.store import dynamo
from devserver.gateway import LambdaContext
from devserver.runtime import reset_caches
from tests.support.handlers import Api, sample_event

PROBLEM_JSON = "application/problem+json"


def emitted_metrics(printed: str) -> list[dict[str, Any]]:
    """The EMF documents Powertools printed: one per flush, with its metric names and metadata."""
    documents = [json.loads(line) for line in printed.splitlines() if line.startswith('{"_aws"')]
    return [{**doc, "names": [m["Name"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]]} for doc in documents]


def test_a_failing_dynamodb_call_is_a_503_that_emits_a_backing_service_failure(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    # What AccessDenied or a KMS key DynamoDB may not use look like from here: every call refused.
    dynamo.client().delete_table(TableName=settings().events_table)
    capsys.readouterr()
    result = api.call("get_event", path={"event_id": str(uuid.uuid4())})
    assert (result.status, result.content_type, result.body["code"]) == (503, PROBLEM_JSON, "SERVICE_UNAVAILABLE")
    failures = [m for m in emitted_metrics(capsys.readouterr().out) if "BackingServiceFailures" in m["names"]]
    assert len(failures) == 1
    assert failures[0]["BackingServiceFailures"] == [1.0]
    assert failures[0]["failed_operation"] == "dynamodb:Query"
    assert failures[0]["service"] == "boxoffice"


def test_a_request_that_reaches_dynamodb_emits_no_failure(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert api.call("get_event", path={"event_id": str(uuid.uuid4())}).status == 404
    assert not [m for m in emitted_metrics(capsys.readouterr().out) if "BackingServiceFailures" in m["names"]]


class SilentEndpoint:
    """A DynamoDB endpoint that accepts every connection and never answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def _accept(self) -> None:
        self.server.settimeout(0.05)
        while not self._stop.is_set():
            try:
                self.connections.append(self.server.accept()[0])
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.connections:
            conn.close()
        self.server.close()


@pytest.fixture
def silent_dynamodb() -> Iterator[SilentEndpoint]:
    """DynamoDB that hangs: each attempt ends at the read timeout (1 s here; connecting is instant)."""
    endpoint = SilentEndpoint()
    timeouts = {"AWS_CONNECT_TIMEOUT_SECONDS": "0.2", "AWS_READ_TIMEOUT_SECONDS": "1"}
    with mock.patch.dict(os.environ, {**timeouts, "DYNAMODB_ENDPOINT_URL": endpoint.url}):
        reset_caches()
        yield endpoint
    endpoint.close()
    reset_caches()


def invoke_with_timeout(function: str, seconds: float) -> tuple[dict[str, Any], float]:
    """Call a function's handler as Lambda would with `seconds` left, and how long it took."""
    handler, event = Api().handler(function), sample_event(function)
    dynamo.client()  # made at the first call of an instance; here ahead of the clock
    context = LambdaContext(
        function_name=function, aws_request_id="slow", deadline_ms=time.time() * 1000 + seconds * 1000
    )
    started = time.monotonic()
    response = handler(event, context)
    return response, time.monotonic() - started


def test_a_hanging_dynamodb_is_a_503_problem_before_the_function_times_out(silent_dynamodb: SilentEndpoint) -> None:
    # botocore alone would go on for 3 attempts of 1 s and their backoff, past this 3 s timeout;
    # here the first attempt fits and a retry (up to 1 s of backoff, then up to 1.2 s) does not.
    response, took = invoke_with_timeout("get_event", 3)
    assert response["statusCode"] == 503
    assert response["headers"]["Content-Type"] == PROBLEM_JSON
    assert json.loads(response["body"])["code"] == "SERVICE_UNAVAILABLE"
    assert took < 3 - deadline.RESERVE_SECONDS
    assert len(silent_dynamodb.connections) == 1


def test_retries_go_on_while_they_fit_in_the_budget(silent_dynamodb: SilentEndpoint) -> None:
    response, took = invoke_with_timeout("get_event", 10)
    assert response["statusCode"] == 503
    assert len(silent_dynamodb.connections) == 3  # botocore's three attempts, all inside the budget
    assert took < 10 - deadline.RESERVE_SECONDS


def test_no_call_starts_when_one_attempt_no_longer_fits(silent_dynamodb: SilentEndpoint) -> None:
    context = LambdaContext(function_name="t", aws_request_id="t", deadline_ms=time.time() * 1000 + 900)
    with deadline.within(context), pytest.raises(ServiceUnavailable):
        dynamo.get(settings().events_table, {"pk": "EVENT#x", "sk": "EVENT"})
    time.sleep(0.1)  # the accept loop would have seen a connection by now
    assert silent_dynamodb.connections == []
