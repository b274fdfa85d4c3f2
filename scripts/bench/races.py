"""Races on a sharded event at issue 20's sizes (proof 3), through the handlers and over HTTP.

The suite runs the same races scaled down to its CPU budget (tests/integration/test_sharded_inventory.py,
tests/e2e/test_bookings_http.py); here they run at the issue's sizes against a local runtime (its embedded
DynamoDB answers one call at a time, as moto must): 2,000 one-ticket attempts on 500 tickets in 16 shards,
and 300 attempts of 1-4 tickets on 60 tickets in 8 shards. Each must sell exactly its tickets, each ticket
once, with `available + held + reserved + sold == total` on every shard at the end, and a refusal for lack
of tickets only when fewer than asked were on sale in all shards together (the `available` it names). A
buyer answered BUSY or 503 tries again, as a client would.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from scripts.bench.common import local_stack, new_caller, new_event, table

THREADS = 16
RETRIES = 20  # a buyer's tries after BUSY / 503 THROTTLED
SIZES = [(500, 16, 2000, (1, 1)), (60, 8, 300, (1, 4))]  # tickets, shards, attempts, tickets per attempt
REFUSED = ("SOLD_OUT", "NOT_ENOUGH_TICKETS")

Answer = tuple[int, dict[str, Any]]


@dataclass
class Outcome:
    path: str
    total: int
    shards: int
    attempts: int
    answers: Counter[str] = field(default_factory=Counter)
    sold: int = 0
    tickets: set[str] = field(default_factory=set)
    wrong_refusals: int = 0  # refused for lack of tickets while as many as asked were on sale
    seconds: float = 0.0
    available: int = -1
    balanced: bool = False

    def row(self) -> list[str]:
        answers = ", ".join(f"{code} {n}" for code, n in sorted(self.answers.items()))
        ok = (
            self.sold == self.total
            and len(self.tickets) == self.total
            and self.available == 0
            and self.balanced
            and not self.wrong_refusals
        )
        return [
            self.path,
            f"{self.attempts:,} on {self.total} in {self.shards}",
            f"{self.sold}/{self.total}",
            str(len(self.tickets)),
            answers,
            str(self.wrong_refusals),
            "yes" if self.balanced else "NO",
            f"{self.attempts / self.seconds:.0f}",
            "ok" if ok else "FAILED",
        ]


def _race(outcome: Outcome, attempt: Callable[[str, int], Answer], tokens: list[str], sizes: tuple[int, int]) -> None:
    rng = random.Random(20)
    wanted = [(rng.choice(tokens), rng.randint(*sizes)) for _ in range(outcome.attempts)]

    def buyer(token: str, quantity: int) -> tuple[int, Answer]:
        for _ in range(RETRIES):
            status, body = attempt(token, quantity)
            if status != 503 and body.get("code") != "BUSY":
                return quantity, (status, body)
            time.sleep(random.uniform(0.01, 0.05))
        return quantity, (status, body)

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda w: buyer(*w), wanted))
    outcome.seconds = time.perf_counter() - started
    for quantity, (status, body) in results:
        code = body.get("code", str(status))
        outcome.answers[code] += 1
        if status == 201:
            outcome.sold += body["quantity"]
            outcome.tickets.update(t["ticket_number"] for t in body["tickets"])
        elif code == "NOT_ENOUGH_TICKETS" and body.get("available", 0) >= quantity:
            outcome.wrong_refusals += 1


def _check(outcome: Outcome, event_id: str, reader: str) -> None:
    """The event's counters, summed over its shards as its stats are."""
    from boxoffice.store import stats

    _, record = stats.read(event_id, reader)
    assert record is not None
    event = record.event
    outcome.available = event.available_tickets
    counted = event.available_tickets + event.held + event.reserved + event.sold
    outcome.balanced = counted == event.total_tickets == outcome.total and event.sold == outcome.sold


def run() -> str:
    from devserver.invoke import Api

    rows = []
    with local_stack() as runtime:
        api = Api()
        callers = [new_caller() for _ in range(THREADS * 2)]
        tokens = [c.token for c in callers]

        def through_handler(event_id: str) -> Callable[[str, int], Answer]:
            def attempt(token: str, quantity: int) -> Answer:
                result = api.call(
                    "create_booking", token=token, path={"event_id": event_id}, body={"quantity": quantity}
                )
                return result.status, result.body

            return attempt

        def over_http(event_id: str) -> Callable[[str, int], Answer]:
            session = requests.Session()
            session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=THREADS))
            url = f"{runtime.url}/events/{event_id}/bookings"

            def attempt(token: str, quantity: int) -> Answer:
                answer = session.post(url, json={"quantity": quantity}, headers={"Authorization": f"Bearer {token}"})
                return answer.status_code, answer.json()

            return attempt

        for path, make in (("handlers", through_handler), ("HTTP", over_http)):
            for total, shards, attempts, sizes in SIZES:
                event_id = new_event(total, shards=shards, max_tickets_per_booking=4)
                outcome = Outcome(path, total, shards, attempts)
                _race(outcome, make(event_id), tokens, sizes)
                _check(outcome, event_id, callers[0].user_id)
                rows.append(outcome.row())
    headers = [
        "through",
        "attempts on tickets in shards",
        "sold",
        "distinct tickets",
        "answers",
        "refused wrongly",
        "balanced",
        "attempts/s",
        "verdict",
    ]
    report = "Races on a sharded event at issue 20's sizes (proof 3), 16 threads\n" + table(headers, rows)
    assert all(row[-1] == "ok" for row in rows), report  # a broken promise fails the bench, not just a row
    return report


if __name__ == "__main__":
    print(run())
