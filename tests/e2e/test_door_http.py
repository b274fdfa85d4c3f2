"""At the door over HTTP against `python -m devserver`, as `make run` starts it: roles, codes, scans, stats."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import requests

from devserver.seed import SAMPLE_DOOR_EVENT
from tests.support.live import LiveServer


def staff_login(live: LiveServer) -> str:
    """The staff login `make run` printed."""
    line = next(line for line in live.output if line.startswith("Staff login"))
    email, _, password = line.removeprefix("Staff login").strip().partition(" / ")
    return live.login(email, password)


def register(live: LiveServer) -> tuple[str, str]:
    email = f"door-{uuid.uuid4().hex[:10]}@example.com"
    response = live.request("POST", "/auth/register", json={"name": "Guest", "email": email, "password": "guest pw 1"})
    assert response.status_code == 201, response.text
    return email, live.login(email, "guest pw 1")


def new_event(live: LiveServer, total: int = 100) -> str:
    starts = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0).isoformat()
    body = {"name": "Door Night", "venue": "Hall", "starts_at": starts, "total_tickets": total, "ticket_price": "20.00"}
    response = live.request("POST", "/events", token=live.admin_token(), json=body)
    assert response.status_code == 201, response.text
    event_id: str = response.json()["id"]
    return event_id


def book(live: LiveServer, token: str, event_id: str, quantity: int) -> dict[str, Any]:
    response = live.request("POST", f"/events/{event_id}/bookings", token=token, json={"quantity": quantity})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def code_of(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "") if response.status_code >= 400 else ""


def sample_event_id(live: LiveServer) -> str:
    found = live.request("GET", "/events", params={"q": "blue note"}).json()["items"]
    event_id: str = next(e["id"] for e in found if e["name"] == SAMPLE_DOOR_EVENT)
    return event_id


def test_make_run_prints_a_staff_login_and_seeds_checked_in_tickets(live: LiveServer) -> None:
    assert any(line.startswith("Sample check-ins 3 tickets") for line in live.output)
    staff, event_id = staff_login(live), sample_event_id(live)
    tickets = live.request("GET", f"/events/{event_id}/tickets", token=staff, params={"limit": 100}).json()["items"]
    assert Counter(t["status"] for t in tickets)["CHECKED_IN"] >= 3
    stats = live.request("GET", f"/events/{event_id}/stats", token=live.admin_token()).json()
    assert stats["checked_in"] >= 3
    assert stats["sold"] + stats["available"] == stats["total_tickets"]


def test_a_door_from_hiring_staff_to_the_last_scan(live: LiveServer) -> None:
    admin = live.admin_token()
    staff_email, old_token = register(live)
    found = live.request("GET", "/users", token=admin, params={"email": staff_email.upper()})
    assert found.status_code == 200, found.text
    hired = live.request("PUT", f"/users/{found.json()['id']}/role", token=admin, json={"role": "staff"})
    assert hired.json()["role"] == "staff"
    assert live.request("GET", "/users/me", token=old_token).status_code == 401
    staff = live.login(staff_email, "guest pw 1")

    _, buyer = register(live)
    event_id = new_event(live)
    booking = book(live, buyer, event_id, 2)
    first, second = booking["tickets"]

    jwks = live.request("GET", "/.well-known/jwks.json")
    assert jwks.headers["Cache-Control"].startswith("public")
    keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(jwks.json()).keys}
    claims = jwt.decode(first["code"], keys[jwt.get_unverified_header(first["code"])["kid"]].key, ["EdDSA"])
    assert claims == {"tn": first["ticket_number"], "ev": event_id}

    scans = f"/events/{event_id}/check-ins"
    scanned = live.request("POST", scans, token=staff, json={"code": first["code"]})
    assert scanned.status_code == 200, scanned.text
    assert scanned.json()["status"] == "CHECKED_IN"
    assert code_of(live.request("POST", scans, token=staff, json={"code": first["code"]})) == (
        409,
        "ALREADY_CHECKED_IN",
    )
    manual = live.request("POST", scans, token=staff, json={"ticket_number": second["ticket_number"].lower()})
    assert manual.status_code == 200
    assert code_of(live.request("DELETE", f"/bookings/{booking['id']}", token=buyer)) == (409, "TICKET_USED")

    for ticket in (first, second):
        undone = live.request("DELETE", f"{scans}/{ticket['ticket_number']}", token=admin)
        assert undone.json()["status"] == "VALID"
    assert live.request("DELETE", f"/bookings/{booking['id']}", token=buyer).status_code == 200
    assert code_of(live.request("POST", scans, token=staff, json={"code": first["code"]})) == (409, "TICKET_CANCELLED")

    stats = live.request("GET", f"/events/{event_id}/stats", token=admin).json()
    assert (stats["sold"], stats["checked_in"], stats["cancelled"], stats["revenue"]) == (0, 0, 2, {"EUR": "0.00"})
    synced = live.request("GET", f"/events/{event_id}/tickets", token=staff).json()["items"]
    assert {t["status"] for t in synced} == {"CANCELLED"}


def test_who_may_do_what_at_the_door(live: LiveServer) -> None:
    admin, staff = live.admin_token(), staff_login(live)
    user_email, user = register(live)
    event_id = new_event(live)
    ticket = book(live, user, event_id, 1)["tickets"][0]
    user_id = live.request("GET", "/users/me", token=user).json()["id"]
    calls = {
        "check in": ("POST", f"/events/{event_id}/check-ins", {"json": {"ticket_number": ticket["ticket_number"]}}),
        "tickets": ("GET", f"/events/{event_id}/tickets", {}),
        "stats": ("GET", f"/events/{event_id}/stats", {}),
        "undo": ("DELETE", f"/events/{event_id}/check-ins/{ticket['ticket_number']}", {}),
        "find user": ("GET", "/users", {"params": {"email": user_email}}),
        "set role": ("PUT", f"/users/{user_id}/role", {"json": {"role": "admin"}}),
    }
    allowed = {
        "user": set(),
        "staff": {"check in", "tickets"},
    }
    for who, token in (("user", user), ("staff", staff)):
        for name, (method, path, kwargs) in calls.items():
            status = live.request(method, path, token=token, **kwargs).status_code
            assert (status != 403) == (name in allowed[who]), (who, name, status)
    for name, (method, path, kwargs) in calls.items():
        assert live.request(method, path, **kwargs).status_code == 401, name
    assert live.request("GET", f"/events/{event_id}/stats", token=admin).status_code == 200


def test_fifty_scanners_at_once_let_one_ticket_in_once(live: LiveServer) -> None:
    staff = staff_login(live)
    _, buyer = register(live)
    event_id = new_event(live)
    code = book(live, buyer, event_id, 1)["tickets"][0]["code"]

    def scan(_: int) -> tuple[int, str]:
        return code_of(live.request("POST", f"/events/{event_id}/check-ins", token=staff, json={"code": code}))

    with ThreadPoolExecutor(max_workers=25) as pool:
        outcomes = Counter(pool.map(scan, range(50)))
    assert outcomes == {(200, ""): 1, (409, "ALREADY_CHECKED_IN"): 49}, outcomes
