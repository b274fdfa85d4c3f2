"""Cross-origin calls through the local runtime with CORS configured, as API Gateway answers them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live import NO_SAMPLES, LiveServer, start_live_server

ORIGIN = "https://tickets.example.com"


@pytest.fixture(scope="module")
def cors_server() -> Iterator[LiveServer]:
    server = start_live_server({"CORS_ALLOWED_ORIGINS": f"{ORIGIN},https://admin.example.com", **NO_SAMPLES})
    yield server
    server.stop()


def preflight(server: LiveServer, path: str, method: str, origin: str = ORIGIN) -> dict[str, str]:
    response = server.request(
        "OPTIONS",
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert 200 <= response.status_code < 300, (response.status_code, response.text)
    return {k.lower(): v for k, v in response.headers.items()}


@pytest.mark.parametrize(
    ("path", "method"),
    [("/events/e1/bookings", "POST"), ("/users/me", "PATCH"), ("/bookings/b1", "DELETE"), ("/events", "GET")],
)
def test_a_preflight_is_answered_with_what_the_browser_needs(cors_server: LiveServer, path: str, method: str) -> None:
    headers = preflight(cors_server, path, method)
    assert headers["access-control-allow-origin"] == ORIGIN
    assert method in headers["access-control-allow-methods"].split(",")
    assert {"authorization", "content-type", "idempotency-key"} <= set(
        headers["access-control-allow-headers"].split(",")
    )
    assert int(headers["access-control-max-age"]) > 0


def test_a_preflight_from_another_origin_gets_no_permission(cors_server: LiveServer) -> None:
    headers = preflight(cors_server, "/events", "POST", origin="https://evil.example.com")
    assert "access-control-allow-origin" not in headers


def test_browser_code_may_read_retry_after_replays_and_the_auth_scheme(cors_server: LiveServer) -> None:
    response = cors_server.request("GET", "/users/me", headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"retry-after", "idempotent-replayed", "www-authenticate"} <= exposed


def test_options_that_is_no_preflight_is_still_an_unknown_route(cors_server: LiveServer) -> None:
    response = cors_server.request("OPTIONS", "/events", headers={"Origin": ORIGIN})
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_without_cors_configured_no_cors_header_is_sent(live: LiveServer) -> None:
    response = live.request("OPTIONS", "/events", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
