"""No password, hash or token reaches a log line, even with every log turned up to DEBUG."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from boxoffice.observability import logger
from boxoffice.store import dynamo
from tests.integration.test_accounts import ADA, ADA_LOGIN, stored_users
from tests.support.handlers import Api

NEW_PASSWORD = "brand new secret"


class Logs:
    def __init__(self, stream: io.StringIO, caplog: pytest.LogCaptureFixture) -> None:
        self._stream = stream
        self._caplog = caplog

    @property
    def text(self) -> str:
        records = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.__dict__}" for r in self._caplog.records)
        return self._stream.getvalue() + "\n" + records

    def lines(self, message: str) -> list[dict[str, Any]]:
        """Our logger's JSON lines with this message, in order."""
        written = (json.loads(line) for line in self._stream.getvalue().splitlines() if line.startswith('{"'))
        return [line for line in written if line.get("message") == message]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[Logs]:
    """Our Powertools logger at DEBUG into a buffer, and every other logger's records.

    botocore is left at INFO: its DEBUG output is a wire dump of each request (item values
    included), is never on in Lambda (its root logger stays at WARNING) and is not our log.
    """
    stream = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous_stream, previous_level = handler.setStream(stream), logger.log_level
    logger.setLevel("DEBUG")
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="aws_lambda_powertools")
    caplog.set_level(logging.DEBUG, logger=logger.name)
    try:
        yield Logs(stream, caplog)
    finally:
        handler.setStream(previous_stream)
        logger.setLevel(previous_level)


def fail_dynamodb(monkeypatch: pytest.MonkeyPatch, operation: str) -> None:
    """The next `operation` call fails as DynamoDB would, so the error paths log too."""
    client = dynamo.client()

    def broken(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, operation)

    monkeypatch.setattr(client, operation, broken)


def test_accounts_log_no_password_hash_or_token(api: Api, logs: Logs, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = [ADA["password"], NEW_PASSWORD, "wrong horse"]
    assert api.call("register", body=ADA).status == 201
    assert api.call("login", body={**ADA_LOGIN, "password": "wrong horse"}).status == 401
    login = api.call("login", body=ADA_LOGIN)
    token = login.body["access_token"]
    assert (
        api.call("update_me", token=token, body={"password": NEW_PASSWORD, "current_password": "wrong horse"}).status
        == 403
    )
    assert (
        api.call("update_me", token=token, body={"password": NEW_PASSWORD, "current_password": ADA["password"]}).status
        == 200
    )
    fresh = api.call("login", body={**ADA_LOGIN, "password": NEW_PASSWORD}).body["access_token"]
    assert api.call("get_me", token=token).status == 401
    assert api.call("register", body={**ADA, "password": "short"}).status == 422
    hashes = [item["password_hash"] for item in stored_users() if "password_hash" in item]
    with monkeypatch.context() as broken:
        fail_dynamodb(broken, "transact_write_items")
        assert api.call("register", body={**ADA, "email": "grace@example.com"}).status == 503
    with monkeypatch.context() as broken:
        fail_dynamodb(broken, "update_item")
        body = {"password": "another secret", "current_password": NEW_PASSWORD}
        assert api.call("update_me", token=fresh, body=body).status == 503
    secrets += ["another secret", token, fresh, *hashes]

    text = logs.text
    assert "TransactWriteItems failed" in text  # the capture works: the failure was logged
    assert "RegisterRequest" in text  # ... down to Powertools' own debug lines about the body
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []
    assert "$2b$" not in text
    assert "password_hash" not in text
