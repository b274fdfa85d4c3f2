"""Transactions carry a ClientRequestToken, so a resend of a committed one is answered as the first.

moto ignores the token, so these tests play DynamoDB themselves over HTTP and look at what arrives.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest

from boxoffice.store import dynamo
from devserver.runtime import reset_caches

PUT = {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}}}}
CONFLICT = {
    "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
    "message": "Transaction cancelled",
    "CancellationReasons": [{"Code": "TransactionConflict"}],
}


class ScriptedDynamoDB:
    """Answers TransactWriteItems with the next (status, body) of a script and keeps each request."""

    def __init__(self, *answers: tuple[int, dict[str, Any]]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                scripted.requests.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                status, body = scripted.answers.pop(0)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/x-amz-json-1.0")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def tokens(self) -> list[str]:
        return [r["ClientRequestToken"] for r in self.requests]


@pytest.fixture
def scripted() -> Iterator[ScriptedDynamoDB]:
    db = ScriptedDynamoDB()
    with mock.patch.dict(os.environ, {"DYNAMODB_ENDPOINT_URL": db.url}):
        reset_caches()
        yield db
    db.server.shutdown()
    reset_caches()


def test_a_resend_after_a_server_error_carries_the_same_token(scripted: ScriptedDynamoDB) -> None:
    # The first attempt may have committed before the 500: DynamoDB recognises the resend by its token.
    scripted.answers = [(500, {"__type": "InternalServerError", "message": "boom"}), (200, {})]
    dynamo.transact([PUT])
    tokens = scripted.tokens()
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]
    assert 1 <= len(tokens[0]) <= 36  # DynamoDB's limit for ClientRequestToken


def test_a_transaction_retried_after_a_conflict_is_a_new_request(scripted: ScriptedDynamoDB) -> None:
    scripted.answers = [(400, CONFLICT), (400, CONFLICT), (200, {})]
    with mock.patch.object(time, "sleep"):
        dynamo.transact([PUT])
    tokens = scripted.tokens()
    assert len(tokens) == 3
    assert len(set(tokens)) == 3
