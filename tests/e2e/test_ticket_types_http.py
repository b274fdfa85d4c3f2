"""Ticket types over HTTP against `python -m devserver` (the session's `live` server, which drains its
output as it comes): three types racing for one event quota, and one user racing their own cap."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.support.live import LiveServer

CLIENTS = 32


def user_token(live: LiveServer) -> str:
    email = f"buyer-{uuid.uuid4().hex[:10]}@example.com"
    response = live.request("POST", "/auth/register", json={"name": "Buyer", "email": email, "password": "buyer pw1"})
    assert response.status_code == 201, response.text
    return live.login(email, "buyer pw1")


def new_event(live: LiveServer, **extra: Any) -> dict[str, Any]:
    starts = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    types = [
        {"name": "Early bird", "price": "30.00", "total_tickets": 60},
        {"name": "Standard", "price": "45.00", "total_tickets": 50},
        {"name": "VIP", "price": "120.00", "total_tickets": 40},
    ]
    body = {"name": "Tiers", "venue": "Arena", "starts_at": starts, "total_tickets": 100, "ticket_types": types}
    response = live.request("POST", "/events", token=live.admin_token(), json={**body, **extra})
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event


def book(live: LiveServer, token: str, event_id: str, quantity: int, type_id: str) -> requests.Response:
    body = {"quantity": quantity, "ticket_type_id": type_id}
    return live.request("POST", f"/events/{event_id}/bookings", token=token, json=body)


def outcome(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "") if response.status_code >= 400 else ""


def test_three_hundred_attempts_over_three_types_sell_exactly_the_event_quota_over_http(live: LiveServer) -> None:
    event = new_event(live)
    kinds = {t["id"]: t for t in event["ticket_types"]}
    tokens = [user_token(live) for _ in range(20)]
    rng = random.Random(20)
    jobs = [(rng.choice(tokens), rng.randint(1, 4), rng.choice(list(kinds))) for _ in range(300)]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        responses = list(pool.map(lambda job: book(live, job[0], event["id"], job[1], job[2]), jobs))

    answers = Counter(outcome(r) for r in responses)
    assert set(answers) <= {(201, ""), (409, "SOLD_OUT"), (409, "NOT_ENOUGH_TICKETS")}, answers
    sold = Counter[str]()
    for r in responses:
        if r.status_code == 201:
            sold[r.json()["ticket_type"]["id"]] += r.json()["quantity"]
    assert sum(sold.values()) == 100
    after = live.request("GET", f"/events/{event['id']}").json()
    assert (after["available_tickets"], after["total_tickets"]) == (0, 100)
    for shown in after["ticket_types"]:
        assert sold[shown["id"]] <= shown["total_tickets"]
        assert shown["available_tickets"] + sold[shown["id"]] == shown["total_tickets"]


def test_twenty_parallel_bookings_by_one_user_against_a_cap_of_four_sell_four_over_http(live: LiveServer) -> None:
    event = new_event(live, max_tickets_per_user=4)
    standard = next(t["id"] for t in event["ticket_types"] if t["name"] == "Standard")
    token = user_token(live)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda _: book(live, token, event["id"], 1, standard), range(20)))

    assert Counter(outcome(r) for r in responses) == Counter({(201, ""): 4, (409, "USER_LIMIT_REACHED"): 16})
    assert live.request("GET", f"/events/{event['id']}").json()["available_tickets"] == 96
