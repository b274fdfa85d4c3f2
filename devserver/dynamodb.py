"""The embedded DynamoDB: moto's server behind one lock, with tables created from template.yaml.

moto is not safe under concurrent writes: its transactions check and write with no lock, so
parallel requests can oversell or lose writes. Every request to it is serialised here, at the
server, so every client (in-process handlers, tests, sam local containers) is covered. Its costs
are made flat first (devserver.flatmoto), since every request waits for the one before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.handlers import BUILTIN_HANDLERS
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import EnvironBuilder, run_wsgi_app

from devserver import template

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Serialised:
    """WSGI middleware: one request inside moto at a time, body read and all."""

    def __init__(self, app: WSGIApp, lock: threading.Lock) -> None:
        self.app = app
        self.lock = lock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))


class EmbeddedDynamoDB:
    """moto's DynamoDB on 127.0.0.1:<port> in a background thread.

    moto keeps its data in process-wide backends: starting one resets them, so run one at a time.
    """

    def __init__(self, port: int = 0, *, serialise: bool = True) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from devserver import flatmoto

        flatmoto.install()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per DynamoDB call otherwise

        app: WSGIApp = DomainDispatcherApplication(create_backend_app)
        self.lock = threading.Lock()  # every request holds it (when serialised), and so must direct readers
        self._app = Serialised(app, self.lock) if serialise else app
        self._server: BaseWSGIServer = make_server("127.0.0.1", port, self._app, threaded=True)
        self._server.socket.listen(128)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="moto", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> EmbeddedDynamoDB:
        from moto.backends import get_backend

        get_backend("dynamodb").reset()
        self._thread.start()
        return self

    def direct(self) -> EmbeddedDynamoDB:
        """This process's own clients of the endpoint (the handlers, the bus, the seeding) call the server's
        app in place, as the server would for them, lock and all: no socket, no HTTP parsing, no thread
        hand-off (half of what a call cost). Clients in other processes still come over HTTP."""
        _in_place[self.endpoint] = self._app
        return self

    def stop(self) -> None:
        _in_place.pop(self.endpoint, None)
        self._server.shutdown()
        self._server.server_close()


# Endpoint -> the app that serves it in this process, for the clients that call it from here.
_in_place: dict[str, WSGIApp] = {}


def _call_in_place(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
    """botocore's before-send hook: a request to an endpoint served in this process, answered by its app."""
    if not _in_place:
        return None
    parts = urlsplit(request.url)
    endpoint = f"{parts.scheme}://{parts.netloc}"
    app = _in_place.get(endpoint)
    if app is None:
        return None
    from moto.core.botocore_stubber import MockRawResponse

    raw: Any = request.body
    sent: Any = request.headers  # botocore keeps some header values as bytes
    body = raw.read() if hasattr(raw, "read") else raw
    environ = EnvironBuilder(
        path=parts.path or "/",
        query_string=parts.query,
        method=request.method,
        headers=[(k, v.decode() if isinstance(v, bytes) else str(v)) for k, v in sent.items()],
        data=bytes(body or b""),
        base_url=endpoint,
    ).get_environ()
    answer, status, headers = run_wsgi_app(app, environ, buffered=True)
    content = b"".join(answer)
    answered = HTTPHeaders()
    for name, value in headers.items():
        answered[name] = value
    return AWSResponse(request.url, int(status.split(" ", 1)[0]), answered, MockRawResponse(content))


# Every botocore session made from here on asks the hook first (moto's own stubber registers the same way).
BUILTIN_HANDLERS.append(("before-send", _call_in_place))


def table_names(prefix: str) -> dict[str, str]:
    """Logical id -> local table name."""
    return {logical: f"{prefix}-{logical}" for logical in template.tables()}


_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode")


def table_spec(props: dict[str, Any]) -> dict[str, Any]:
    """A template table's keys, indexes and billing: what CreateTable takes anywhere (moto, DynamoDB Local)."""
    spec = {k: props[k] for k in _TABLE_KEYS if k in props}
    if "GlobalSecondaryIndexes" in spec:  # pre-warming (WarmThroughput) is for deployed tables only
        spec["GlobalSecondaryIndexes"] = [
            {k: v for k, v in index.items() if k != "WarmThroughput"} for index in spec["GlobalSecondaryIndexes"]
        ]
    return spec


def create_tables(endpoint: str | None, prefix: str) -> None:
    """Create each table of template.yaml that is missing at `endpoint` (moto, DynamoDB Local ...)."""
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    existing = set(client.list_tables()["TableNames"])
    for logical, props in template.tables().items():
        name = table_names(prefix)[logical]
        if name in existing:
            continue
        client.create_table(TableName=name, **table_spec(props))
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
