"""Events over HTTP against `python -m devserver`, as `make run` starts it (sample events included)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from devserver.seed import SAMPLE_EVENTS
from tests.support.live import LiveServer


def user_token(live: LiveServer) -> str:
    email = f"fan-{uuid.uuid4().hex[:10]}@example.com"
    response = live.request("POST", "/auth/register", json={"name": "Fan", "email": email, "password": "fan password"})
    assert response.status_code == 201, response.text
    return live.login(email, "fan password")


def test_sample_events_are_listed_on_first_start(live: LiveServer) -> None:
    response = live.request("GET", "/events", params={"limit": 100})
    assert response.status_code == 200
    names = {e["name"] for e in response.json()["items"]}
    assert {s["name"] for s in SAMPLE_EVENTS} <= names
    assert any(f"Sample events    {len(SAMPLE_EVENTS)} created" in line for line in live.output)


def test_an_admin_runs_an_event_from_creation_to_deletion(live: LiveServer) -> None:
    admin = live.admin_token()
    starts = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=0).isoformat()
    body = {"name": "Goldberg Variations", "venue": "Wigmore Hall", "starts_at": starts, "total_tickets": 300,
            "ticket_price": 27.5, "currency": "GBP"}  # fmt: skip
    created = live.request("POST", "/events", token=admin, json=body)
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["ticket_price"] == "27.50"
    path = f"/events/{event['id']}"

    assert live.request("GET", path).json() == event
    found = live.request("GET", "/events", params={"q": "goldb", "venue": "WIGMORE HALL"}).json()
    assert [e["id"] for e in found["items"]] == [event["id"]]

    patched = live.request("PATCH", path, token=admin, json={"total_tickets": 350, "name": "Goldberg Variations II"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["total_tickets"], patched.json()["available_tickets"]) == (350, 350)

    assert live.request("DELETE", path, token=admin).status_code == 204
    gone = live.request("GET", path)
    assert (gone.status_code, gone.json()["code"]) == (404, "EVENT_NOT_FOUND")
    assert gone.headers["Content-Type"] == "application/problem+json"
    assert live.request("DELETE", path, token=admin).status_code == 404


def test_only_admins_may_change_events(live: LiveServer) -> None:
    sample = live.request("GET", "/events", params={"limit": 1}).json()["items"][0]
    path = f"/events/{sample['id']}"
    user = user_token(live)
    valid = {"name": "x", "venue": "v", "starts_at": "2099-01-01T00:00:00Z", "total_tickets": 1, "ticket_price": "1"}
    for method, target, body in [("POST", "/events", valid), ("PATCH", path, {"name": "x"}), ("DELETE", path, None)]:
        assert live.request(method, target, json=body).status_code == 401
        assert live.request(method, target, json=body, token=user).status_code == 403
    assert live.request("GET", path).json() == sample


def test_bad_input_is_a_problem_never_a_server_error(live: LiveServer) -> None:
    admin = live.admin_token()
    checks = [
        ("GET", "/events/not-an-id", None, {}),
        ("GET", "/events/%00", None, {}),
        ("GET", "/events", None, {"cursor": "forged"}),
        ("GET", "/events", None, {"date_from": "soon"}),
        ("GET", "/events", None, {"q": "\x00"}),
        ("POST", "/events", {"name": "x" * 10_000}, {}),
        ("POST", "/events", {"name": "<script>", "venue": "v", "starts_at": "2020-01-01T00:00:00Z",
                             "total_tickets": 1, "ticket_price": "1"}, {}),
    ]  # fmt: skip
    for method, target, body, params in checks:
        response = live.request(method, target, token=admin, json=body, params=params)
        assert 400 <= response.status_code < 500, (target, params, response.status_code, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
