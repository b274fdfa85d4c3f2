"""Fixtures: `aws` (moto tables from template.yaml), `api` (handlers by name), `live` (the local runtime over HTTP)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from moto import mock_aws

from boxoffice.observability import metrics
from devserver import flatmoto
from devserver.dynamodb import EmbeddedDynamoDB, create_tables, table_names
from devserver.runtime import SERIALISED_READ_TIMEOUT, reset_caches
from tests.support.conformance import check_result
from tests.support.handlers import Api, Result
from tests.support.live import LiveServer, start_live_server

flatmoto.install()  # every test's moto costs what the local runtime's does (tests/integration/test_flatmoto.py)

TABLE_ENV = {
    "UsersTable": "USERS_TABLE",
    "EventsTable": "EVENTS_TABLE",
    "BookingsTable": "BOOKINGS_TABLE",
    "TicketsTable": "TICKETS_TABLE",
}


def use_tables(prefix: str, endpoint: str | None) -> None:
    names = table_names(prefix)
    os.environ.update({env: names[logical] for logical, env in TABLE_ENV.items()})
    os.environ["DYNAMODB_ENDPOINT_URL"] = endpoint or ""
    reset_caches()


@contextmanager
def embedded_database(prefix: str) -> Iterator[EmbeddedDynamoDB]:
    """moto's server (every call serialised, as `make run` runs it) with the template's tables, for
    tests that race threads; yields it and restores the environment afterwards."""
    db = EmbeddedDynamoDB().start()
    try:
        with mock.patch.dict(os.environ):
            name = f"{prefix}{uuid.uuid4().hex[:8]}"
            os.environ["AWS_READ_TIMEOUT_SECONDS"] = SERIALISED_READ_TIMEOUT
            use_tables(name, db.endpoint)
            create_tables(db.endpoint, name)
            yield db
    finally:
        db.stop()
        reset_caches()


@contextmanager
def embedded_tables(prefix: str) -> Iterator[str]:
    """As embedded_database; yields its endpoint."""
    with embedded_database(prefix) as db:
        yield db.endpoint


@pytest.fixture
def aws() -> Iterator[None]:
    """Fresh in-memory DynamoDB (moto) with the tables of template.yaml, for one test."""
    # Powertools' metrics buffer is process-wide: a metric added outside a handler (a test calling
    # the store directly) would otherwise be flushed by the next test's handler.
    metrics.clear_metrics()
    with mock_aws():
        use_tables("test", None)
        create_tables(None, "test")
        yield
    reset_caches()


class CheckedApi(Api):
    """An Api whose every answer must be one the OpenAPI document declares for the route."""

    def call(self, name: str, **request: Any) -> Result:
        result = super().call(name, **request)
        check_result(name, result.status, result.headers, result.body)
        return result


@pytest.fixture
def api(aws: None) -> Api:
    """Call any function's handler by name with its events/ sample, over moto; answers are checked
    against the OpenAPI document."""
    return CheckedApi()


@pytest.fixture(scope="session")
def live() -> Iterator[LiveServer]:
    """`python -m devserver` on a free port, as `make run` starts it; one per test session."""
    server = start_live_server()
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
