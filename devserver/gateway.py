"""An HTTP server that behaves like API Gateway's HTTP API (payload format 2.0) in front of the handlers."""

from __future__ import annotations

import base64
import importlib.util
import json
import queue
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from devserver import template
from devserver.cors import Cors
from devserver.isolation import isolate_concurrent_requests

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's own request limit
_TEXT_TYPES = ("application/json", "application/problem+json", "text/", "application/javascript")
_DIGITS = re.compile(r"[0-9]+")
# The codes of the answers the runtime gives itself, where no function is asked (named here: some
# HTTPStatus names differ between Python versions).
_OWN_CODES = {
    HTTPStatus.BAD_REQUEST: "BAD_REQUEST",
    HTTPStatus.NOT_FOUND: "NOT_FOUND",
    HTTPStatus.LENGTH_REQUIRED: "LENGTH_REQUIRED",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
    HTTPStatus.REQUEST_URI_TOO_LONG: "URI_TOO_LONG",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "HEADERS_TOO_LARGE",
    HTTPStatus.INTERNAL_SERVER_ERROR: "INTERNAL",
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: "HTTP_VERSION_NOT_SUPPORTED",
}


@dataclass
class LambdaContext:
    """Enough of the Lambda context object for Powertools."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""
    # API Gateway's 30 s unless the caller sets it: the handlers budget their retries on it.
    deadline_ms: float = field(default_factory=lambda: time.time() * 1000 + 30_000)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


_import_lock = threading.RLock()


def load_module(route: template.Route, instance: int = 0) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (they are all called app.py).

    Each `instance` is a separate copy of the module, as each Lambda execution environment has its
    own: module-level state such as the resolver's current event is never shared between requests.
    """
    module_name = route.handler.rsplit(".", 1)[0]
    unique = f"fn_{route.function}" + (f"_{instance}" if instance else "")
    with _import_lock:  # a module is in sys.modules before it has finished running
        return sys.modules.get(unique) or _import(route, module_name, unique)


def _import(route: template.Route, module_name: str, unique: str) -> ModuleType:
    path = route.code_dir / f"{module_name.replace('.', '/')}.py"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[unique]
        raise
    return module


# The logical id of the function whose handler is running in this thread (tests attribute AWS calls by it).
running_function: ContextVar[str | None] = ContextVar("running_function", default=None)


def load_handler(route: template.Route, instance: int = 0) -> Handler:
    handler: Handler = getattr(load_module(route, instance), route.handler.rsplit(".", 1)[1])

    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        token = running_function.set(route.function)
        try:
            return handler(event, context)
        finally:
            running_function.reset(token)

    return run


class Instances:
    """Lambda's concurrency model in one process: one request at a time per instance of a function,
    a new instance when all are busy (up to `limit`, then requests wait for one to be free)."""

    def __init__(self, route: template.Route, limit: int = 64) -> None:
        isolate_concurrent_requests()
        self.route = route
        self.limit = limit
        self._idle: queue.LifoQueue[Handler] = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start one instance ahead of the first request."""
        with self._lock:
            if self._created == 0:
                self._created = 1
                self._idle.put(load_handler(self.route))

    def _acquire(self) -> Handler:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                if self._created < self.limit:
                    self._created += 1
                    return load_handler(self.route, self._created - 1)
            return self._idle.get()

    def invoke(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        handler = self._acquire()
        try:
            return handler(event, context)
        finally:
            self._idle.put(handler)


_instances: dict[str, Instances] = {}
_instances_lock = threading.Lock()


def instances(route: template.Route) -> Instances:
    """The process-wide pool of a function's instances."""
    with _instances_lock:
        if route.function not in _instances:
            _instances[route.function] = Instances(route)
        return _instances[route.function]


def build_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    route: template.Route,
    path_parameters: dict[str, str],
    source_ip: str,
) -> dict[str, Any]:
    """The API Gateway HTTP API v2 event for one request."""
    url = urlsplit(target)
    lowered: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        # API Gateway joins repeated headers with commas.
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    query: dict[str, str] = {}
    for pair in filter(None, url.query.split("&")):
        name, _, value = pair.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        query[name] = f"{query[name]},{value}" if name in query else value
    content_type = lowered.get("content-type", "")
    is_text = any(content_type.startswith(t) for t in _TEXT_TYPES) or content_type.endswith("+json")
    try:
        text = body.decode() if is_text else None
    except UnicodeDecodeError:
        text = None
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        if text is None:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


class Gateway:
    """Routes (from template.yaml) to in-process handlers, most specific path first."""

    def __init__(self, routes: list[template.Route], cors: Cors | None = None) -> None:
        self.cors = cors
        self.routes = sorted(routes, key=lambda r: (r.path == "$default", r.path.count("{"), -len(r.path)))
        for route in routes:  # import every function now: a broken one fails at start, not on first call
            instances(route).warm()

    def match(self, method: str, path: str) -> tuple[template.Route, dict[str, str]] | None:
        for route in self.routes:
            if route.path == "$default":
                return route, {}
            found = route.pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None

    def invoke(self, route: template.Route, event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(
            function_name=route.function,
            aws_request_id=event["requestContext"]["requestId"],
            deadline_ms=time.time() * 1000 + 30_000,
        )
        return instances(route).invoke(event, context)


def _response_parts(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Interpret a handler's return value as API Gateway does for payload 2.0."""
    if "statusCode" not in result:  # a bare JSON value means 200 application/json
        return 200, [("content-type", "application/json")], json.dumps(result).encode()
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values]
    headers += [("set-cookie", c) for c in result.get("cookies") or []]
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    return int(result["statusCode"]), headers, body


def _own_problem(status: int, detail: str) -> tuple[list[tuple[str, str]], bytes]:
    """An answer of the runtime's own, in the API's problem+json (never http.server's HTML page)."""
    from boxoffice.http import problem  # the layer is on sys.path once the runtime has started

    code = HTTPStatus(status)
    answer = problem(code, _OWN_CODES.get(code, code.name), code.phrase, detail)
    headers = [("content-type", str(answer.content_type)), *((k, str(v)) for k, v in answer.headers.items())]
    return headers, str(answer.body).encode()


def _body_length(headers: Any) -> int | tuple[HTTPStatus, str]:
    """The body's length from its one Content-Length (0 without one), or why the body is refused."""
    if "chunked" in (headers.get("transfer-encoding") or "").lower():
        return HTTPStatus.LENGTH_REQUIRED, "Send the body with a Content-Length."
    lengths = {value.strip() for value in headers.get_all("content-length") or ["0"]}
    if len(lengths) > 1 or not _DIGITS.fullmatch(next(iter(lengths))):
        return HTTPStatus.BAD_REQUEST, "The Content-Length is not valid."
    length = int(lengths.pop())
    if length > MAX_PAYLOAD:
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The body may be at most 10 MB."
    return length


def make_request_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "boxoffice-devserver"

        def _handle(self) -> None:
            length = _body_length(self.headers)
            if isinstance(length, tuple):
                self.send_error(*length)
                return
            body = self.rfile.read(length) if length else b""
            found = gateway.match(self.command, urlsplit(self.path).path)
            if found is None:
                self.send_error(HTTPStatus.NOT_FOUND, "No route matches.")
                return
            route, params = found
            event = build_event(
                self.command, self.path, list(self.headers.items()), body, route, params, self.client_address[0]
            )
            try:
                status, headers, payload = _response_parts(gateway.invoke(route, event))
            except Exception:  # noqa: BLE001 - a crashed function is API Gateway's 500, not a dead server
                traceback.print_exc()
                status = HTTPStatus.INTERNAL_SERVER_ERROR
                headers, payload = _own_problem(status, "The function failed.")
            if gateway.cors is not None:
                headers = gateway.cors.apply(self.command, event["headers"], headers)
            self._send(status, headers, payload, request_id=event["requestContext"]["requestId"])

        def __getattr__(self, name: str) -> Any:
            # http.server answers a method without a do_<METHOD> with its own HTML 501; API Gateway
            # sends every method to the routes, where an unknown one meets the $default function.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            if self.request_version == "HTTP/0.9":  # an answer to it would have no status line
                self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 is not supported.")
                return False
            return True

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """http.server's errors (bad request lines, headers too large, ...) as problem+json, with a
            status line even when the request line could not be read; the connection then closes."""
            self.request_version = self.protocol_version
            self.close_connection = True
            self._send(code, *_own_problem(code, message or HTTPStatus(code).phrase))

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, request_id: str = "") -> None:
            self.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
            for name, value in headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            if request_id:
                self.send_header("apigw-requestid", request_id)
            if self.close_connection:
                self.send_header("connection", "close")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return RequestHandler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of clients queue instead of being reset


def serve(gateway: Gateway, port: int, *, quiet: bool = False) -> Server:
    handler = make_request_handler(gateway)
    if quiet:
        handler.log_message = lambda *_: None  # type: ignore[method-assign]
    return Server(("127.0.0.1", port), handler)
