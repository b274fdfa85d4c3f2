"""Fixtures: `aws` (moto tables from template.yaml), `api` (handlers by name), `live` (the local runtime over HTTP)."""

from __future__ import annotations

import copy
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from moto import mock_aws
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict
from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.models.table import Table

from boxoffice.observability import metrics
from devserver import flatmoto
from devserver.dynamodb import EmbeddedDynamoDB, create_tables, table_names
from devserver.runtime import SERIALISED_READ_TIMEOUT, reset_caches
from tests.support.conformance import check_result
from tests.support.handlers import Api, Result
from tests.support.live import NO_SAMPLES, LiveServer, start_live_server

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


def _new_tables(prefix: str, endpoint: str | None) -> None:
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    use_tables(name, endpoint)
    create_tables(endpoint, name)


@contextmanager
def embedded_database(prefix: str) -> Iterator[EmbeddedDynamoDB]:
    """moto's server (every call serialised, as `make run` runs it) with the template's tables, for tests
    of what the local runtime adds around it (streams, the bus); yields it and restores the environment."""
    db = EmbeddedDynamoDB().start()
    try:
        with mock.patch.dict(os.environ):
            os.environ["AWS_READ_TIMEOUT_SECONDS"] = SERIALISED_READ_TIMEOUT
            _new_tables(prefix, db.endpoint)
            yield db
    finally:
        db.stop()
        reset_caches()


@dataclass(frozen=True)
class SerialisedMoto:
    lock: threading.Lock  # held by every call, and so must be by a test reading moto's memory directly


@contextmanager
def serialised_moto(prefix: str) -> Iterator[SerialisedMoto]:
    """moto in this process with the template's tables and every call serialised (as the local runtime's
    server serialises them: moto's backends are not thread-safe), for tests that race threads. Threads still
    interleave between any two calls; what is saved is the HTTP round trip of each (half a call's CPU)."""
    lock = threading.Lock()
    dispatch = BotocoreStubber.process_request

    def one_at_a_time(stubber: BotocoreStubber, request: Any) -> Any:
        with lock:
            return dispatch(stubber, request)

    with mock_aws(), mock.patch.object(BotocoreStubber, "process_request", one_at_a_time), mock.patch.dict(os.environ):
        _new_tables(prefix, None)
        yield SerialisedMoto(lock)
    reset_caches()


class SharedMoto:
    """One mock_aws per worker, kept on from one `aws` test to the next, and the template's tables made
    once: starting moto (its URL patterns, a new boto3 session that loads every service model again)
    and creating four tables took 0.16 CPU-s of each test (1.6 s on a busy machine); this takes 7 ms.

    Each `aws` test still starts from what a fresh mock_aws gives it: every backend is reset, as moto's
    own start resets them, and the tables are put back as copies of the empty ones made at first.
    Before any other test moto is stopped, so a test that starts mock_aws itself or runs moto's server
    finds moto exactly as it would without this (mock_aws nested in a running one would not reset).
    """

    def __init__(self) -> None:
        self._mock: Any = None
        self._empty: dict[str, Table] = {}  # the template's tables as create_tables leaves them

    def fresh(self) -> None:
        """Every backend as a new mock_aws leaves it, and the template's tables, empty."""
        if self._mock is None:
            self._mock = mock_aws()
            self._mock.start()  # resets every backend
        else:
            BackendDict.reset()
        use_tables("test", None)
        if not self._empty:
            create_tables(None, "test")
            self._empty = {name: copy.deepcopy(table) for name, table in self._tables().items()}
        else:
            self._tables().update({name: copy.deepcopy(table) for name, table in self._empty.items()})

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    @staticmethod
    def _tables() -> dict[str, Table]:
        tables: dict[str, Table] = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].tables
        return tables


_moto = SharedMoto()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Stops the shared moto before a test that does not ask for `aws` (the next that does starts it
    again), ahead of every fixture: a module's moto server must not be reset under it by moto's stop."""
    if "aws" not in getattr(item, "fixturenames", ()):
        _moto.stop()


@pytest.fixture(scope="session", autouse=True)
def _moto_stopped_at_the_end() -> Iterator[None]:
    yield
    _moto.stop()


def empty_tables() -> None:
    """Within an `aws` test: every backend reset and the template's tables empty, as the test began (to run
    one script twice, say)."""
    _moto.fresh()


@pytest.fixture
def aws() -> Iterator[None]:
    """Fresh in-memory DynamoDB (moto) with the tables of template.yaml, for one test."""
    # Powertools' metrics buffer is process-wide: a metric added outside a handler (a test calling
    # the store directly) would otherwise be flushed by the next test's handler.
    metrics.clear_metrics()
    _moto.fresh()
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


@pytest.fixture(scope="session")
def quick() -> Iterator[LiveServer]:
    """The local runtime with holds and offers of one second (HOLD_SECONDS=1, as `HOLD_SECONDS=20 make run` is
    tried by hand); one per test session, started when first asked for."""
    server = start_live_server({"HOLD_SECONDS": "1", **NO_SAMPLES})
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
