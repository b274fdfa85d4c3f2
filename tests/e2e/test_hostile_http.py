"""A hostile client against `python -m devserver`: hundreds of malformed, odd and abusive requests.

Whatever arrives, the answer is never a 5xx, never HTML, and no body that is not a JSON object is
ever accepted (nor changes anything).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.e2e.test_local_runtime_protocol import exchange, request
from tests.support.live import LiveServer

MISSING_EVENT = "00000000-0000-4000-8000-000000000000"
NOT_OBJECTS = ["[]", "[{}]", '"x"', "5", "-1.5", "null", "true", "false", '""', "[null]"]
MALFORMED_JSON = [
    "{",
    "}",
    "{'quantity': 1}",
    '{"quantity": 1,}',
    '{"quantity": 01}',
    '{"quantity": 1} {"quantity": 2}',
    "[" * 10_000 + "]" * 10_000,
    '{"a":' * 5_000 + "1" + "}" * 5_000,
    '{"quantity": ' + "9" * 5_000 + "}",
    '{"quantity": 1e999999}',
    '{"quantity": "\\ud800"}',
    '{"quantity": "\\u0000"}',
    "\ufeff{}",
]
NUMBER_LITERALS = ["NaN", "Infinity", "-Infinity", "nan", "1e400", "-0", "0x10"]
ODD_METHODS = ["TRACE", "PROPFIND", "FOO", "PUT", "OPTIONS", "HEAD", "CONNECT", "MKCOL", "PURGE"]
ODD_PATHS = [
    "/events/%00",
    "/events/..%2F..%2Fusers%2Fme",
    "/events/" + "a" * 5_000,
    "/events/%F0%9F%8E%BB",
    "/bookings/%3Cscript%3E",
    "/bookings/" + MISSING_EVENT,
    "//events",
    "/events/%ZZ",
    "/users/me/../me",
    "/events?limit=1e3",
    "/events?limit=-0",
    "/events?limit=100&limit=5",
    "/events?date_from=1893456000",
    "/events?date_from=9999-12-31T23:59:59-23:59",
    "/events?q=%00",
    "/events?q=" + "\ufdfa" * 200,
    "/events?venue=" + "x" * 10_000,
    "/events?cursor=" + "A" * 2_000,
    "/bookings?limit=101",
    "/bookings?cursor=%FF%FE",
]


@dataclass
class Tally:
    """What the hostile requests got back."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    accepted_non_objects: list[str] = field(default_factory=list)

    def check(self, what: str, status: int, content_type: str, body: bytes, *, non_object: bool = False) -> None:
        self.statuses[status] += 1
        if status >= 500:
            self.failures.append(f"{status} for {what}")
        if "html" in content_type.lower() or body.lstrip()[:1] == b"<":
            self.failures.append(f"HTML for {what}")
        if status >= 400 and status != 405 and "problem+json" not in content_type and content_type:
            self.failures.append(f"{status} {content_type} (no problem) for {what}")
        if non_object and status < 400:
            self.accepted_non_objects.append(what)

    def send(self, live: LiveServer, method: str, path: str, *, non_object: bool = False, **kwargs: Any) -> None:
        what = f"{method} {path[:60]} {str(kwargs.get('data', ''))[:40]!r}"
        response = requests.request(method, live.url + path, timeout=30, **kwargs)
        self.check(what, response.status_code, response.headers.get("content-type", ""), response.content,
                   non_object=non_object)  # fmt: skip


@pytest.fixture(scope="module")
def tokens(live: LiveServer) -> dict[str, str]:
    email = f"hostile-{uuid.uuid4().hex[:10]}@example.com"
    body = {"name": "Mallory", "email": email, "password": "mallory password"}
    assert live.request("POST", "/auth/register", json=body).status_code == 201
    return {"user": live.login(email, "mallory password"), "admin": live.admin_token()}


def body_routes(live: LiveServer, tokens: dict[str, str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, token, a valid object body) for every route that takes a body."""
    starts = (datetime.now(UTC) + timedelta(days=60)).replace(microsecond=0).isoformat()
    event = {"name": "Hostile Night", "venue": "Nowhere", "starts_at": starts, "total_tickets": 5, "ticket_price": "1"}
    created = live.request("POST", "/events", token=tokens["admin"], json=event)
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    return [
        ("POST", "/auth/register", "", {"name": "Bob", "email": "bob-hostile@example.com", "password": "bob password"}),
        ("POST", "/auth/login", "", {"email": "bob-hostile@example.com", "password": "bob password"}),
        ("PATCH", "/users/me", tokens["user"], {"name": "Renamed"}),
        ("POST", "/events", tokens["admin"], {**event, "name": "Not Created"}),
        ("PATCH", f"/events/{event_id}", tokens["admin"], {"total_tickets": 50}),
        ("POST", f"/events/{event_id}/bookings", tokens["user"], {"quantity": 2}),
    ]


def test_a_hostile_batch_gets_no_5xx_no_html_and_no_non_object_body_accepted(
    live: LiveServer, tokens: dict[str, str]
) -> None:
    tally = Tally()
    routes = body_routes(live, tokens)
    me_before = live.request("GET", "/users/me", token=tokens["user"]).json()
    bookings_before = live.request("GET", "/bookings", token=tokens["user"]).json()
    for method, path, token, valid in routes:
        headers = {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})}
        send = json.dumps(valid)
        for raw in [*NOT_OBJECTS, f"[{send}]", f'[{send}, 5, "x"]']:
            tally.send(live, method, path, non_object=True, data=raw.encode(), headers=headers)
        for raw in MALFORMED_JSON:
            tally.send(live, method, path, data=raw.encode(), headers=headers)
        for key in valid:
            duplicate = send[:-1] + f", {json.dumps(key)}: {json.dumps(valid[key])}}}"
            tally.send(live, method, path, data=duplicate.encode(), headers=headers)
            for literal in NUMBER_LITERALS:
                tally.send(live, method, path, data=f'{{"{key}": {literal}}}'.encode(), headers=headers)
        odd_bodies: list[tuple[str, bytes]] = [
            ("text/plain", send.encode()),
            ("application/json; charset=latin-1", send.encode("utf-16")),
            ("application/x-www-form-urlencoded", b"quantity=1"),
            ("application/json", b"\xff\xfe\x00"),
            ("application/json", b"{" + b" " * 70_000 + b"}"),
            ("", send.encode()),
        ]
        for content_type, data in odd_bodies:
            tally.send(live, method, path, data=data, headers={**headers, "content-type": content_type})
        for forged in ["Bearer", "Bearer x.y.z", "Basic YTpi", "Bearer " + "a" * 8_000] if token else []:
            tally.send(live, method, path, data=send.encode(), headers={**headers, "authorization": forged})
    for method in ODD_METHODS:
        for path in ["/events", "/auth/login", "/users/me", f"/events/{MISSING_EVENT}", "/nowhere"]:
            tally.send(live, method, path)
    for path in ODD_PATHS:
        tally.send(live, "GET", path, headers={"authorization": f"Bearer {tokens['user']}"})
    tally.send(live, "GET", "/events", headers={"x-huge": "h" * 60_000})
    for raw in [request("GET", "/events", "X-Big: " + "b" * 70_000), request("FOO"), b"GARBAGE\r\n\r\n"]:
        answer = exchange(live, raw)
        tally.check(raw[:30].decode("latin-1"), answer.status, answer.headers.get("content-type", ""), answer.body)

    total = sum(tally.statuses.values())
    print(f"hostile requests: {total}, statuses: {dict(sorted(tally.statuses.items()))}")
    assert total >= 300
    assert tally.failures == []
    assert tally.accepted_non_objects == []
    # None of it changed anything.
    assert live.request("POST", "/auth/login", json=routes[1][3]).status_code == 401
    assert live.request("GET", "/users/me", token=tokens["user"]).json() == me_before
    assert live.request("GET", "/bookings", token=tokens["user"]).json() == bookings_before
    event = live.request("GET", routes[4][1]).json()
    assert (event["total_tickets"], event["available_tickets"]) == (5, 5)
    assert live.request("GET", "/events", params={"q": "not created"}).json()["items"] == []
