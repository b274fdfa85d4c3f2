"""Concurrent requests in the local runtime never see each other's event (Powertools keeps it per class)."""

from __future__ import annotations

import sys
import threading

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from devserver.isolation import isolate_concurrent_requests


def event(path: str) -> dict[str, object]:
    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {},
        "requestContext": {
            "http": {"method": "GET", "path": path, "sourceIp": "127.0.0.1"},
            "requestId": path,
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def test_interleaved_requests_on_two_resolvers_each_see_their_own_event() -> None:
    isolate_concurrent_requests()
    first_resolved, second_resolved = threading.Event(), threading.Event()
    seen: dict[str, str] = {}

    def make(name: str, mine: threading.Event, other: threading.Event) -> APIGatewayHttpResolver:
        app = APIGatewayHttpResolver()

        @app.get(f"/{name}")
        def route() -> dict[str, str]:
            mine.set()
            other.wait(5)  # the other request is now inside its own resolve()
            seen[name] = app.current_event.raw_path
            return {}

        return app

    a = make("a", first_resolved, second_resolved)
    b = make("b", second_resolved, first_resolved)
    threads = [
        threading.Thread(target=a.resolve, args=(event("/a"), None)),
        threading.Thread(target=b.resolve, args=(event("/b"), None)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": "/a", "b": "/b"}


def test_concurrent_requests_adding_and_flushing_metrics_never_fail(capsys: pytest.CaptureFixture[str]) -> None:
    isolate_concurrent_requests()
    metrics = Metrics(namespace="isolation-test")
    failures: list[str] = []

    @metrics.log_metrics
    def handler(event: object, context: object) -> dict[str, str]:
        metrics.add_metric(name="A", unit="Count", value=1)
        metrics.add_metric(name="B", unit="Count", value=2)
        return {}

    def requests() -> None:
        for _ in range(300):
            try:
                handler({}, None)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                failures.append(repr(exc))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible to widen every race
    try:
        threads = [threading.Thread(target=requests) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    capsys.readouterr()
    assert failures == []


def test_log_lines_carry_the_function_of_their_own_thread_and_none_outside_a_function(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from aws_lambda_powertools import Logger

    from devserver.gateway import LambdaContext

    isolate_concurrent_requests()
    logger = Logger(service="isolation-test")
    inside, outside = threading.Event(), threading.Event()

    @logger.inject_lambda_context
    def handler(event: dict[str, object], context: object) -> None:
        inside.set()
        outside.wait(5)  # another thread logs while this function's keys are set
        logger.info("in the function")

    worker = threading.Thread(target=handler, args=({}, LambdaContext("BookingFunction", "r-1")))
    worker.start()
    inside.wait(5)
    logger.info("outside any function")
    outside.set()
    worker.join()

    lines = {r["message"]: r.get("function_name") for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert lines == {"outside any function": None, "in the function": "BookingFunction"}
