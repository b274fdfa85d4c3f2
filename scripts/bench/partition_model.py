"""A partition model of DynamoDB behind the real handlers (issue 20, proof 2), in simulated time.

Every call boxoffice's client sends is billed (scripts.bench.meter: per partition key of every table and index,
a transaction's items twice) against token buckets per partition key: 1,000 WCU/s and 3,000 RCU/s, holding at
most one second of unused capacity. DynamoDB's burst capacity (up to 300 s of unused capacity) is OFF: a
conservative model, as an on-sale starts on a partition that had nothing to save up. A call that finds a bucket
short is refused as DynamoDB refuses it: ProvisionedThroughputExceededException for a single call (which
botocore retries: its standard mode, 3 attempts, backoff random * 2**(n-1) s, emulated here in simulated time),
TransactionCanceledException with reason ThrottlingError for a transaction (the store retries those). A
transaction holds its items for HOLD seconds; another transaction touching one of them meanwhile is cancelled
with TransactionConflict (a single write: TransactionConflictException). Refused calls take no units;
conflicted ones do. Admitted calls run on the embedded DynamoDB at their simulated instant, one at a time
(scripts.bench.simulated), and boxoffice.clock reads the simulated clock.

Buyers arrive at the offered rate, each wanting one ticket; a buyer answered 503 or 409 BUSY tries again after
0.5-1.5 s, up to TRIES times; SOLD_OUT or NOT_ENOUGH_TICKETS ends them.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scripts.bench.capacity import Charge, placeholder
from scripts.bench.common import QUIET, local_stack, new_event, table
from scripts.bench.meter import Meter
from scripts.bench.simulated import Simulation

PARTITION_WCU, PARTITION_RCU = 1000.0, 3000.0
CALL_SECONDS = 0.005  # one DynamoDB round trip, as seen from a Lambda in the same region
HOLD = 0.010  # how long a transaction holds its items against others
BOTOCORE_ATTEMPTS = 3  # boxoffice.aws.MAX_ATTEMPTS, standard mode
TRIES = 10  # a buyer's requests before giving up
# Issue 20: 20,000 tickets, 50,000 attempts. Scaled down by SCALE so the section runs within ~3 minutes on a
# laptop; the rates do not depend on the event's size, only how long it sells for.
SCALE = 200
TOTAL, BUYERS = 20_000 // SCALE, 50_000 // SCALE
RATES = (100, 250, 1000)
RATES_AT_25_MS = (1000,)
# Without conflicts, the write ceiling shows once the second of units a partition starts with is spent: a sale
# of about 2 s at 1,000 offers a second (demand just above supply, to keep it short).
UNCONTENDED_TOTAL, UNCONTENDED_BUYERS, UNCONTENDED_RATE = 750, 800, 1000
Key = tuple[str, str]  # (table or table/index, partition key)


@dataclass
class Bucket:
    """Units a second, at most one second's worth saved (no burst capacity): a partition starts with that."""

    rate: float
    tokens: float = -1.0
    at: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.rate

    def refill(self, now: float) -> float:
        self.tokens = min(self.rate, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = max(self.at, now)
        return self.tokens


@dataclass
class Partitions:
    """The partitions' state: a write and a read bucket per partition key, and the items transactions hold."""

    wcu: float = PARTITION_WCU
    rcu: float = PARTITION_RCU
    hold: float = HOLD
    writes: dict[Key, Bucket] = field(default_factory=dict)
    reads: dict[Key, Bucket] = field(default_factory=dict)
    held: dict[Any, float] = field(default_factory=dict)  # item -> until when

    def short(self, now: float, charges: list[Charge]) -> set[Key]:
        """The partitions that cannot take `charges` at `now`; when none, the charges are taken."""
        need: dict[Key, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for c in charges:
            need[(c.where, c.key)][0] += c.rcu
            need[(c.where, c.key)][1] += c.wcu
        missing = set()
        for key, (rcu, wcu) in need.items():
            read = self.reads.setdefault(key, Bucket(self.rcu, at=now))
            write = self.writes.setdefault(key, Bucket(self.wcu, at=now))
            if read.refill(now) < rcu or write.refill(now) < wcu:
                missing.add(key)
        if not missing:
            self.take(need)
        return missing

    def take(self, need: dict[Key, list[float]]) -> None:
        for key, (rcu, wcu) in need.items():
            self.reads[key].tokens -= rcu
            self.writes[key].tokens -= wcu

    def conflicts(self, now: float, items: list[Any]) -> set[Any]:
        return {i for i in items if self.held.get(i, -1.0) > now}

    def hold_items(self, now: float, items: list[Any]) -> None:
        for i in items:
            self.held[i] = now + self.hold


@dataclass
class Tally:
    throttled: int = 0
    conflicted: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    short: Counter[Key] = field(default_factory=Counter)  # partitions that refused a call, how often


class ModelledDynamoDB:
    """A botocore hook on boxoffice's client: bills each call of a simulated actor and may refuse it."""

    def __init__(self, simulation: Simulation, partitions: Partitions, meter: Meter) -> None:
        self.simulation, self.partitions, self.meter = simulation, partitions, meter
        self.tally = Tally()

    def before_call(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        actor = self.simulation.actor()
        if actor is None:
            return None  # setup and checks, outside simulated time
        operation, body = model.name, json.loads(params["body"] or "{}")
        for attempt in range(1, BOTOCORE_ATTEMPTS + 1):
            self.simulation.wait()  # until no call of an earlier instant is pending
            self.tally.calls[operation] += 1
            refusal = self.refusal(operation, body, actor.time)
            actor.time += CALL_SECONDS
            if refusal is None:
                return None
            throttled = refusal[1]["Error"]["Code"] == "ProvisionedThroughputExceededException"
            if not throttled or attempt == BOTOCORE_ATTEMPTS:
                return refusal
            self.simulation.wait(random.random() * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def refusal(self, operation: str, body: dict[str, Any], now: float) -> tuple[Any, dict[str, Any]] | None:
        """None to let the call run now, or the error DynamoDB would answer."""
        writes = self.meter.writes(operation, body)
        items = [(w.table, w.key) for w in writes]
        charges = self.meter.read_charges(operation, body)
        before = self.meter.items(writes)
        charges += self.meter.write_charges(writes, before)
        short = self.partitions.short(now, charges)
        transactional = operation == "TransactWriteItems"
        if short:
            self.tally.throttled += 1
            self.tally.short.update(short)
            if not transactional:
                return _error("ProvisionedThroughputExceededException", "Throughput exceeds the partition's")
            partitions = [{(c.where, c.key) for c in self.meter.write_charges([w], before)} for w in writes]
            return _cancelled(["ThrottlingError" if p & short else "None" for p in partitions])
        held = self.partitions.conflicts(now, items)
        if held:
            self.tally.conflicted += 1
            if not transactional:
                return _error("TransactionConflictException", "Item is being modified by a transaction")
            return _cancelled(["TransactionConflict" if i in held else "None" for i in items])
        if transactional:
            self.partitions.hold_items(now, items)
        return None


def _error(code: str, message: str, **extra: Any) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}, **extra}
    return AWSResponse("http://modelled-dynamodb", 400, HTTPHeaders(), None), parsed


def _cancelled(codes: list[str]) -> tuple[Any, dict[str, Any]]:
    reasons = [{"Code": code} for code in codes]
    return _error("TransactionCanceledException", "Transaction cancelled", CancellationReasons=reasons)


@dataclass
class Outcome:
    rate: int
    hold: float
    total: int
    booked: list[tuple[float, int]] = field(default_factory=list)  # (when, the buyer's requests until then)
    refused: int = 0  # answered SOLD_OUT / NOT_ENOUGH_TICKETS
    gave_up: int = 0  # still refused as busy after TRIES requests
    available: int = 0  # on sale at the end, as the event shows it
    tally: Tally = field(default_factory=Tally)

    @property
    def oversold(self) -> int:
        return max(0, len(self.booked) - self.total)

    @property
    def stranded(self) -> int:
        """Tickets left on sale although a buyer was told there were none."""
        return self.available if self.refused else 0

    @property
    def served(self) -> float:
        """Bookings a second over the sale's last second (all of it, if shorter): what a partition serves
        once the second of units it starts with is spent."""
        last = max((when for when, _ in self.booked), default=0.0)
        window = min(1.0, last)
        return sum(1 for when, _ in self.booked if when > last - window) / window if window else 0.0

    def row(self) -> list[str]:
        tries = sorted(n for _, n in self.booked) or [0]
        p99 = tries[min(len(tries) - 1, int(len(tries) * 0.99))]
        transactions = self.tally.calls["TransactWriteItems"]
        return [
            str(self.rate),
            f"{self.served:.0f}",
            f"{len(self.booked)}/{self.total}",
            str(self.tally.throttled),
            str(self.tally.conflicted),
            f"{transactions / max(1, len(self.booked)):.1f}",
            f"{statistics.median(tries):g}",
            str(p99),
            str(self.gave_up),
            str(self.oversold),
            str(self.stranded),
        ]


HEADERS = [
    "offered/s",
    "served/s (last 1 s)",
    "sold",
    "throttled",
    "conflicted",
    "tx/booking",
    "requests/booking median",
    "p99",
    "gave up",
    "oversold",
    "stranded",
]


def buyers(count: int) -> list[str]:
    """Tokens of `count` new accounts (made outside the model)."""
    from boxoffice import auth
    from boxoffice.logic import accounts
    from boxoffice.vocabulary import Role

    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    tokens = []
    for n in range(count):
        user = accounts.create_account("Buyer", f"model-{stamp}-{n}@example.com", "bench-password")
        tokens.append(auth.issue_token(user.id, Role.USER, 0)[0])
    return tokens


@contextmanager
def modelled(simulation: Simulation, model: ModelledDynamoDB) -> Iterator[None]:
    """boxoffice's client behind the model; its clock and its conflict backoff in simulated time."""
    from boxoffice import clock, deadline, retry
    from boxoffice.store import dynamo

    real_now, start = clock.now, clock.now()

    def now() -> datetime:
        actor = simulation.actor()
        return real_now() if actor is None else start + timedelta(seconds=actor.time)

    class Monotonic:
        """The request budget's clock (boxoffice.deadline), simulated: a request waits in simulated time."""

        def monotonic(self) -> float:
            actor = simulation.actor()
            return time.monotonic() if actor is None else actor.time

    events = dynamo.client().meta.events

    class Sleep:
        """The retries' pause before a conflicted transaction goes again (boxoffice.retry), in simulated time."""

        sleep = staticmethod(simulation.wait)

    clock.now = now
    deadline.time = Monotonic()  # type: ignore[attr-defined,assignment]
    retry.time = Sleep()  # type: ignore[attr-defined,assignment]
    events.register("before-call.dynamodb", model.before_call, unique_id="partition-model")
    try:
        yield
    finally:
        events.unregister("before-call.dynamodb", unique_id="partition-model")
        retry.time = time  # type: ignore[attr-defined]
        deadline.time = time  # type: ignore[attr-defined]
        clock.now = real_now


def drive(rate: int, tokens: list[str], *, total: int = TOTAL, hold: float = HOLD) -> Outcome:
    """One on-sale: a new event of `total` tickets, a buyer per token arriving at `rate` a second."""
    from boxoffice.logic import events
    from devserver.gateway import instances
    from devserver.invoke import Api, routes_by_folder
    from scripts.bench.partitions import raw_client

    # Lambda scales out: every buyer in flight gets an instance of the function, as it would.
    pool = instances(routes_by_folder()["create_booking"])
    limit, pool.limit = pool.limit, max(pool.limit, len(tokens))
    simulation, api = Simulation(), Api()
    model = ModelledDynamoDB(simulation, Partitions(hold=hold), Meter(raw_client(), remember=True))
    outcome = Outcome(rate, hold, total, tally=model.tally)
    path = {"event_id": new_event(total)}

    def buyer(token: str) -> None:
        actor = simulation.actor()
        assert actor is not None
        for attempt in range(1, TRIES + 1):
            answer = api.call("create_booking", token=token, path=path, body={"quantity": 1})
            if answer.status == 201:
                outcome.booked.append((actor.time, attempt))
                return
            if answer.status == 409 and answer.body["code"] in ("SOLD_OUT", "NOT_ENOUGH_TICKETS"):
                outcome.refused += 1
                return
            assert answer.status == 503 or answer.body["code"] == "BUSY", answer.body
            simulation.wait(random.uniform(0.5, 1.5))
        outcome.gave_up += 1

    for n, token in enumerate(tokens):
        simulation.start_at(n / rate, lambda token=token: buyer(token))  # type: ignore[misc]
    try:
        with modelled(simulation, model):
            simulation.run()
    finally:
        pool.limit = limit
    available = events.get_event(path["event_id"]).available_tickets
    assert available + len(outcome.booked) == total, (available, len(outcome.booked))  # none lost, none invented
    outcome.available = available
    return outcome


def on_sale(rate: int, hold: float, total: int = TOTAL, people: int = BUYERS) -> Outcome:
    """One on-sale on a store of its own: moto copies each table a transaction touches, so a store that
    grew over earlier runs would make later ones slower (in real time only)."""
    # Requests refused as busy are part of the measure: their error logs are not.
    with local_stack(**QUIET | {"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as runtime:
        assert runtime.scheduler is not None
        assert runtime.domain_events is not None
        runtime.scheduler.stop()  # neither the sweeper nor the stream consumer is part of a booking
        runtime.domain_events.stop()
        return drive(rate, buyers(people), total=total, hold=hold)


def run() -> str:
    random.seed(20)
    outcomes = [on_sale(rate, HOLD) for rate in RATES]
    slower = [on_sale(rate, 0.025) for rate in RATES_AT_25_MS]
    uncontended = on_sale(UNCONTENDED_RATE, 0.0, UNCONTENDED_TOTAL, UNCONTENDED_BUYERS)
    runs = [*outcomes, *slower, uncontended]
    throttled_at: Counter[Key] = Counter()  # by kind of partition key, over every run
    for o in runs:
        throttled_at.update({(where, placeholder(key)): n for (where, key), n in o.tally.short.items()})
    out = [
        f"Partition model: one event on sale, {TOTAL:,} tickets and {BUYERS:,} buyers of 1 ticket (issue 20's "
        f"20,000 and 50,000 scaled by 1/{SCALE}), inventory as stored today (N = 1); per partition "
        f"{PARTITION_WCU:.0f} WCU/s and {PARTITION_RCU:.0f} RCU/s, burst capacity off, "
        f"{CALL_SECONDS * 1000:.0f} ms a call",
        f"transaction conflicts at {HOLD * 1000:.0f} ms hold",
        table(HEADERS, [o.row() for o in outcomes]),
        "\nthe same at 25 ms hold",
        table(HEADERS, [o.row() for o in slower]),
        f"\nwithout conflicts (0 ms hold), {UNCONTENDED_TOTAL} tickets, {UNCONTENDED_BUYERS} buyers: the write "
        "ceiling of the event's partition",
        table(HEADERS, [uncontended.row()]),
        "\nthrottled calls by partition (all runs): "
        + (", ".join(f"{where} {key} {n}" for (where, key), n in throttled_at.most_common(3)) or "none"),
    ]
    return "\n".join(out)


if __name__ == "__main__":
    print(run())
