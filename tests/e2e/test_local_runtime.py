"""`make run`'s runtime: docs offline, unknown routes, bursts of clients, and a stop that frees the port."""

from __future__ import annotations

import signal
import socket
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.live import NO_SAMPLES, LiveServer, start_live_server


def test_swagger_ui_is_served_without_any_external_asset(live: LiveServer) -> None:
    response = live.request("GET", "/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in response.text
    assert "<script src=" not in response.text
    assert "<link rel='stylesheet'" not in response.text


def test_swagger_ui_forgets_the_bearer_token_when_the_page_closes(live: LiveServer) -> None:
    # Kept in localStorage, a token outlives the tab and is open to any script on the origin.
    page = live.request("GET", "/docs").text
    assert "persistAuthorization: false" in page


def test_openapi_document_lists_the_api(live: LiveServer) -> None:
    document = live.request("GET", "/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/auth/register" in document["paths"]
    # Swagger UI links its document as /docs?format=json: that serves the same document.
    assert live.request("GET", "/docs?format=json").json() == document


def test_unknown_route_is_a_404_problem(live: LiveServer) -> None:
    response = live.request("GET", "/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "NOT_FOUND"
    assert live.request("DELETE", "/users/me").status_code == 404


def test_a_burst_of_clients_is_queued_not_reset(live: LiveServer) -> None:
    def get(_: int) -> int:
        return requests.get(live.url + "/no/such/thing", timeout=60).status_code

    with ThreadPoolExecutor(max_workers=150) as pool:
        statuses = list(pool.map(get, range(300)))
    assert statuses == [404] * 300


def test_sigint_stops_everything_and_the_port_is_free_at_once() -> None:
    server = start_live_server(NO_SAMPLES)
    port = int(server.url.rsplit(":", 1)[1])
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=15) == 0
    server.stop()  # nothing left to stop but its scratch data folder
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # nothing still listens
    again = start_live_server(extra_env={"PORT": str(port), **NO_SAMPLES})
    try:
        assert again.request("GET", "/openapi.json").status_code == 200
    finally:
        again.stop()
        assert again.process.wait(timeout=15) in (0, -signal.SIGTERM)
