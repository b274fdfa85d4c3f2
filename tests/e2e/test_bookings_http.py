"""Bookings over HTTP against `python -m devserver`: the whole flow, and the invariants under racing clients."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
import requests

from devserver.dynamodb import table_names
from tests.support.live import LiveServer

T = TypeVar("T")
CLIENTS = 32


def user_token(live: LiveServer) -> str:
    email = f"booker-{uuid.uuid4().hex[:10]}@example.com"
    response = live.request("POST", "/auth/register", json={"name": "Booker", "email": email, "password": "booker pw"})
    assert response.status_code == 201, response.text
    return live.login(email, "booker pw")


def new_event(live: LiveServer, total: int, per_booking: int = 10, shards: int | None = None) -> str:
    starts = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    body = {"name": "Rush", "venue": "Arena", "starts_at": starts, "total_tickets": total, "ticket_price": "30.00",
            "max_tickets_per_booking": per_booking, **({"inventory_shards": shards} if shards else {})}  # fmt: skip
    response = live.request("POST", "/events", token=live.admin_token(), json=body)
    assert response.status_code == 201, response.text
    event_id: str = response.json()["id"]
    return event_id


def race(calls: list[Callable[[], T]]) -> list[T]:
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(lambda call: call(), calls))


def book(live: LiveServer, token: str, event_id: str, quantity: int, key: str | None = None) -> requests.Response:
    headers = {"Idempotency-Key": key} if key else None
    return live.request(
        "POST", f"/events/{event_id}/bookings", token=token, json={"quantity": quantity}, headers=headers
    )


def book_as_a_client(live: LiveServer, token: str, event_id: str, quantity: int) -> requests.Response:
    """A booking as a client makes it: answered 409 BUSY or 503 (a transient answer: the request lost its
    conflicts until its time ran out, nothing written), it tries again, as Retry-After says."""
    for _ in range(10):
        answer = book(live, token, event_id, quantity)
        if answer.status_code != 503 and answer.json().get("code") != "BUSY":
            return answer
        time.sleep(random.uniform(0.01, 0.1))
    return answer


def valid_tickets(live: LiveServer, event_id: str) -> list[str]:
    """Straight from the tickets table of the local runtime's DynamoDB."""
    from boxoffice.store import tickets

    client = boto3.client("dynamodb", endpoint_url=live.dynamodb_endpoint)
    items = []
    for partition in tickets.partitions(event_id):  # its shards, and the event's own key (docs/data-model.md)
        raw = client.query(
            TableName=table_names("local")["TicketsTable"],
            # The event's own key also keeps its check-in count shards.
            KeyConditionExpression="pk = :pk AND begins_with(sk, :ticket)",
            ExpressionAttributeValues={":pk": {"S": partition}, ":ticket": {"S": "TICKET#"}},
            ConsistentRead=True,
        )
        assert "LastEvaluatedKey" not in raw
        items += raw["Items"]
    return [i["ticket_number"]["S"] for i in items if i["status"]["S"] == "VALID"]


def available(live: LiveServer, event_id: str) -> int:
    count: int = live.request("GET", f"/events/{event_id}").json()["available_tickets"]
    return count


def test_book_replay_list_read_and_cancel(live: LiveServer) -> None:
    token = user_token(live)
    event_id = new_event(live, total=20)

    made = book(live, token, event_id, 2, key="order-1")
    assert made.status_code == 201, made.text
    assert made.headers["Content-Type"] == "application/json"
    booking: dict[str, Any] = made.json()
    replay = book(live, token, event_id, 2, key="order-1")
    assert (replay.status_code, replay.json(), replay.headers["Idempotent-Replayed"]) == (201, booking, "true")
    assert available(live, event_id) == 18

    listed = live.request("GET", "/bookings", token=token, params={"limit": 10}).json()
    assert listed == {"items": [booking], "next_cursor": None}
    path = f"/bookings/{booking['id']}"
    assert live.request("GET", path, token=token).json() == booking
    assert live.request("GET", path, token=user_token(live)).status_code == 404

    cancelled = live.request("DELETE", path, token=token)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    again = live.request("DELETE", path, token=token)
    assert (again.status_code, again.json()["code"]) == (409, "ALREADY_CANCELLED")
    assert again.headers["Content-Type"] == "application/problem+json"
    assert available(live, event_id) == 20


def test_three_hundred_racing_attempts_on_the_last_hundred_tickets_of_eight_shards_sell_exactly_a_hundred(
    live: LiveServer,
) -> None:
    # Stock over 8 shards: the last tickets lie in fragments that only a take from several shards joins.
    event_id = new_event(live, total=150, shards=8)
    early = user_token(live)
    assert {book(live, early, event_id, 10).status_code for _ in range(5)} == {201}  # 50 sold before the rush
    tokens = [user_token(live) for _ in range(16)]
    rng = random.Random(2024)
    attempts = [(rng.choice(tokens), rng.randint(1, 4)) for _ in range(300)]

    responses = race([lambda t=t, q=q: book_as_a_client(live, t, event_id, q) for t, q in attempts])

    answers = Counter((r.status_code, r.json().get("code", "")) for r in responses)
    assert set(answers) <= {(201, ""), (409, "SOLD_OUT"), (409, "NOT_ENOUGH_TICKETS")}, answers
    sold = [r.json() for r in responses if r.status_code == 201]
    assert sum(b["quantity"] for b in sold) == 100
    numbers = [t["ticket_number"] for b in sold for t in b["tickets"]]
    assert len(numbers) == len(set(numbers)) == 100
    assert available(live, event_id) == 0
    assert len(set(valid_tickets(live, event_id))) == 150


def test_twenty_racing_cancels_of_one_booking_release_it_once(live: LiveServer) -> None:
    token = user_token(live)
    event_id = new_event(live, total=10)
    booking_id = book(live, token, event_id, 4).json()["id"]

    responses = race([lambda: live.request("DELETE", f"/bookings/{booking_id}", token=token)] * 20)

    answers = Counter((r.status_code, r.json().get("code", "")) for r in responses)
    assert answers == Counter({(200, ""): 1, (409, "ALREADY_CANCELLED"): 19})
    assert available(live, event_id) == 10
    assert valid_tickets(live, event_id) == []


def test_racing_single_ticket_cancels_and_a_whole_cancel_return_each_ticket_once(live: LiveServer) -> None:
    token = user_token(live)
    event_id = new_event(live, total=10)
    booking = book(live, token, event_id, 4).json()
    path = f"/bookings/{booking['id']}"
    one = [t["ticket_number"] for t in booking["tickets"]][:3]

    calls = [lambda n=n: live.request("DELETE", f"{path}/tickets/{n}", token=token) for n in one * 3]
    responses = race([*calls, lambda: live.request("DELETE", path, token=token)])

    answers = Counter((r.status_code, r.json().get("code", "")) for r in responses)
    assert set(answers) <= {(200, ""), (409, "TICKET_CANCELLED"), (409, "BUSY")}, answers
    left = valid_tickets(live, event_id)
    assert available(live, event_id) == 10 - len(left)
    shown = live.request("GET", path, token=token).json()
    assert shown["quantity"] == len(left) or shown["status"] == "CANCELLED"
    assert sorted(t["ticket_number"] for t in shown["tickets"] if t["status"] == "VALID") == sorted(left)


def test_twenty_racing_requests_with_one_idempotency_key_make_one_booking(live: LiveServer) -> None:
    token = user_token(live)
    event_id = new_event(live, total=10)

    responses = race([lambda: book(live, token, event_id, 3, key="checkout-9")] * 20)

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 19
    assert available(live, event_id) == 7
    assert len(live.request("GET", "/bookings", token=token).json()["items"]) == 1
