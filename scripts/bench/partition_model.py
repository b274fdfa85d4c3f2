"""A partition model of DynamoDB behind the real handlers (issue 20, proof 2), in simulated time.

Every call boxoffice's client sends is billed (scripts.bench.meter: per partition key of every table and index,
a transaction's items twice) against token buckets: per partition key 1,000 WCU/s and 3,000 RCU/s, and per table
and per index (the on-demand table quota, applied by AWS to a table and to each of its GSIs on its own) 40,000
WCU/s and 40,000 RCU/s. A bucket saves at most one second of unused units (DynamoDB's burst capacity, up to 300 s,
is off) and starts an on-sale with START seconds of them: an on-sale meets partitions that saved nothing, so a
sale scaled down to well under a second still shows the steady rate, not a second of savings (conservative
both ways). A call that finds a bucket short is refused as DynamoDB refuses it: a single call with
ProvisionedThroughputExceededException (a partition) or ThrottlingException (a table's quota), which botocore
retries (its standard mode, 3 attempts, backoff random * 2**(n-1) s, emulated here in simulated time); a
transaction with TransactionCanceledException, reason ThrottlingError on the actions that met a short bucket
(the store retries those). A transaction holds its items for HOLD seconds; another transaction touching one of
them meanwhile is cancelled with TransactionConflict (a single write: TransactionConflictException). Refused
calls take no units; conflicted ones do. Admitted calls run on moto in this process at their simulated instant,
one at a time (scripts.bench.simulated), and boxoffice.clock reads the simulated clock.

Buyers arrive at the offered rate, each wanting one ticket; a buyer answered 503 or 409 BUSY tries again after
0.5-1.5 s, up to TRIES times; SOLD_OUT or NOT_ENOUGH_TICKETS ends them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from scripts.bench.capacity import Charge, placeholder
from scripts.bench.common import QUIET, new_event, shardable, shards_of, table
from scripts.bench.meter import Meter
from scripts.bench.simulated import Simulation

PARTITION_WCU, PARTITION_RCU = 1000.0, 3000.0
TABLE_WCU, TABLE_RCU = 40_000.0, 40_000.0  # on-demand default quotas, per table and per index (adjustable)
SAVED, START = 1.0, 0.010  # seconds of units a bucket keeps at most, and has when the sale starts
TABLE = "(table quota)"  # the key of a table's (or index's) own bucket
THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException"}  # botocore retries these
CALL_SECONDS = 0.005  # one DynamoDB round trip, as seen from a Lambda in the same region
HOLD = 0.010  # how long a transaction holds its items against others
BOTOCORE_ATTEMPTS = 3  # boxoffice.aws.MAX_ATTEMPTS, standard mode
TRIES = 10  # a buyer's requests before giving up
# Issue 20: 20,000 tickets, 50,000 attempts; no run of that size fits the bench's ~3 minutes on 2 cores (a
# booking costs ~35 ms of CPU on moto). Two kinds of run instead, each at the real event's shard sizes:
# - the rate rows: the FULL_TOTAL event itself, at its default N (90: 222 tickets a shard) or the N given, for
#   only the first WINDOW seconds of its sale (rate x WINDOW buyers, far fewer than its tickets): no shard
#   drains, so a row shows what the partitions and the conflicts let through at that offered rate;
# - the sell-out row: an event scaled down WITH its shards (SELL_OUT tickets, its default N, about 200 tickets
#   a shard as at 20,000), with more buyers than tickets: shards drain, bookings join fragments across shards,
#   and the never-oversold and never-stranded promises are checked at the end of a real sell-out.
FULL_TOTAL = 20_000
WINDOW = 0.1  # seconds of arrivals in a rate row
RATES = {1: (500, 1000), 4: (1000, 2500), 16: (2500, 5000)}
DEFAULT_RATES = (5000, 7500)
SELL_OUT, SELL_OUT_BUYERS, SELL_OUT_RATE = 800, 1000, 1000
SLOWER = 0.025  # the conflict hold of the second table, at the default N's first rate
Key = tuple[str, str]  # (table or table/index, partition key)


@dataclass
class Bucket:
    """Units a second, at most SAVED seconds' worth kept (no burst capacity)."""

    rate: float
    tokens: float
    at: float = 0.0

    def refill(self, now: float) -> float:
        self.tokens = min(self.rate * SAVED, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = max(self.at, now)
        return self.tokens


@dataclass
class Partitions:
    """The buckets' state: a write and a read bucket per partition key and per table or index (key TABLE), and
    the items transactions hold."""

    wcu: float = PARTITION_WCU
    rcu: float = PARTITION_RCU
    table_wcu: float = TABLE_WCU
    table_rcu: float = TABLE_RCU
    hold: float = HOLD
    start: float = START  # seconds of units each bucket starts with
    writes: dict[Key, Bucket] = field(default_factory=dict)
    reads: dict[Key, Bucket] = field(default_factory=dict)
    held: dict[Any, tuple[float, object]] = field(default_factory=dict)  # item -> until when, by whom

    def short(self, now: float, charges: list[Charge]) -> set[Key]:
        """The partitions and tables (key TABLE) that cannot take `charges` at `now`; when none, they are taken."""
        need: dict[Key, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for c in charges:
            for key in ((c.where, c.key), (c.where, TABLE)):
                need[key][0] += c.rcu
                need[key][1] += c.wcu
        missing = set()
        for key, (rcu, wcu) in need.items():
            read, write = self._buckets(key, now)
            if read.refill(now) < rcu or write.refill(now) < wcu:
                missing.add(key)
        if not missing:
            for key, (rcu, wcu) in need.items():
                self.reads[key].tokens -= rcu
                self.writes[key].tokens -= wcu
        return missing

    def _buckets(self, key: Key, now: float) -> tuple[Bucket, Bucket]:
        if key not in self.reads:
            rcu, wcu = (self.table_rcu, self.table_wcu) if key[1] == TABLE else (self.rcu, self.wcu)
            self.reads[key] = Bucket(rcu, rcu * self.start, now)
            self.writes[key] = Bucket(wcu, wcu * self.start, now)
        return self.reads[key], self.writes[key]

    def conflicts(self, now: float, items: list[Any], holder: object = None) -> set[Any]:
        """The items another holder's transaction holds at `now` (a caller's own transaction has answered it
        before it sends the next call)."""
        return {i for i in items if i in self.held and self.held[i][0] > now and _other(self.held[i][1], holder)}

    def hold_items(self, now: float, items: list[Any], holder: object = None) -> None:
        for i in items:
            self.held[i] = (now + self.hold, holder)


def _other(holder: object, caller: object) -> bool:
    return holder is None or holder is not caller  # None: a holder nobody is


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
            refusal = self.refusal(operation, body, actor.time, actor)
            actor.time += CALL_SECONDS
            if refusal is None:
                return None
            if refusal[1]["Error"]["Code"] not in THROTTLED or attempt == BOTOCORE_ATTEMPTS:
                return refusal
            self.simulation.wait(random.random() * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def refusal(
        self, operation: str, body: dict[str, Any], now: float, caller: object = None
    ) -> tuple[Any, dict[str, Any]] | None:
        """None to let the call run now, or the error DynamoDB would answer. A transaction's answer names each
        action's reason: a TransactGetItems is refused as a TransactWriteItems is, and conflicts with the items
        a write transaction holds."""
        writes = self.meter.writes(operation, body)
        reads = self.meter.read_charges(operation, body)
        before = self.meter.items(writes)
        per_action = [self.meter.write_charges([w], before) for w in writes]
        items = [(w.table, w.key) for w in writes]
        charges = reads + [c for action in per_action for c in action]
        if operation == "TransactGetItems":  # reads only: one charge per action, in order
            per_action, items = [[c] for c in reads], [(g.table, g.key) for g in self.meter.gets(body)]
        short = self.partitions.short(now, charges)
        transactional = operation in ("TransactWriteItems", "TransactGetItems")
        if short:
            self.tally.throttled += 1
            self.tally.short.update(short)
            if not transactional:
                if any(key != TABLE for _, key in short):
                    return _error("ProvisionedThroughputExceededException", "Throughput exceeds the partition's")
                return _error("ThrottlingException", "Throughput exceeds the table's throughput quota")
            return _cancelled(["ThrottlingError" if _buckets(c) & short else "None" for c in per_action])
        held = self.partitions.conflicts(now, items, caller)
        if held:
            self.tally.conflicted += 1
            if not transactional:
                return _error("TransactionConflictException", "Item is being modified by a transaction")
            return _cancelled(["TransactionConflict" if i in held else "None" for i in items])
        if operation == "TransactWriteItems":  # a read in flight does not hold its items against writes
            self.partitions.hold_items(now, items, caller)
        return None


def _buckets(charges: list[Charge]) -> set[Key]:
    """The buckets `charges` draw on: their partitions' and their tables'."""
    return {(c.where, c.key) for c in charges} | {(c.where, TABLE) for c in charges}


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
    shards: int = 1  # the event's inventory shards, as it shows them
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

    window: float | None = None  # seconds of arrivals of a rate row (None: a sell-out)

    @property
    def served(self) -> float:
        """Bookings a second: in a rate row, those made within `window` seconds from the first (the first waits
        out a booking's calls); in a sell-out, over its second half (by bookings), as the first spends what
        the buckets start with."""
        times = sorted(when for when, _ in self.booked)
        if not times:
            return 0.0
        if self.window is not None:
            return sum(1 for t in times if t <= times[0] + self.window) / self.window
        half = len(times) // 2
        span = times[-1] - times[half - 1] if half else 0.0
        return (len(times) - half) / span if span else 0.0

    def row(self) -> list[str]:
        tries = sorted(n for _, n in self.booked) or [0]
        p99 = tries[min(len(tries) - 1, int(len(tries) * 0.99))]
        transactions = self.tally.calls["TransactWriteItems"]
        return [
            str(self.shards),
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
    "N",
    "offered/s",
    "served/s",
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


def drive(
    rate: int,
    tokens: list[str],
    *,
    total: int = FULL_TOTAL,
    hold: float = HOLD,
    shards: int | None = None,
    window: float | None = None,
) -> Outcome:
    """One on-sale: a new event of `total` tickets in `shards` inventory shards (None: its default; ignored
    before the API had shards), a buyer per token arriving at `rate` a second."""
    from boxoffice.logic import events
    from devserver.gateway import instances
    from devserver.invoke import Api, routes_by_folder
    from scripts.bench.partitions import raw_client

    # Lambda scales out: every buyer in flight gets an instance of the function, as it would.
    pool = instances(routes_by_folder()["create_booking"])
    limit, pool.limit = pool.limit, max(pool.limit, len(tokens))
    simulation, api = Simulation(), Api()
    model = ModelledDynamoDB(simulation, Partitions(hold=hold), Meter(raw_client(), remember=True))
    path = {"event_id": new_event(total, shards=shards)}
    outcome = Outcome(rate, hold, total, shards_of(path["event_id"]), tally=model.tally, window=window)

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


@contextmanager
def in_memory(**env: str) -> Iterator[None]:
    """moto in this process (as the tests' `aws` fixture), with the template's tables and the handlers'
    environment. The simulation runs one call at a time, so the local runtime's serialising server is not
    needed: without its HTTP round trip, a new connection and a thread per call, a call costs a third less."""
    from moto import mock_aws

    from devserver import flatmoto
    from devserver.dynamodb import create_tables
    from devserver.isolation import isolate_concurrent_requests
    from devserver.local_keys import local_keys
    from devserver.runtime import function_environment, reset_caches, use_layer

    use_layer()
    flatmoto.install()
    isolate_concurrent_requests()
    credentials = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}
    with mock.patch.dict(os.environ), mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        os.environ.update(function_environment("", "model", local_keys(None)) | credentials)
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        os.environ.update({"BCRYPT_ROUNDS": "4", "MAIL_ENABLED": "false", **env})
        reset_caches()
        create_tables(None, "model")
        try:
            yield
        finally:
            reset_caches()


@contextmanager
def _unlogged() -> Iterator[None]:
    """A store of its own whose requests log nothing: those refused as busy or throttled are part of the
    measure, their warnings are not. The handlers' logger may be set up already (an earlier section made it
    at WARNING), so its level is lowered here too, not only in the environment a new one reads."""
    logger = logging.getLogger("boxoffice")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with in_memory(**QUIET | {"POWERTOOLS_LOG_LEVEL": "CRITICAL"}):
            yield
    finally:
        logger.setLevel(level)


def on_sale(rate: int, hold: float = HOLD, *, shards: int | None = None) -> Outcome:
    """A rate row: the first WINDOW seconds of the FULL_TOTAL event's sale, on a store of its own (a store grown
    by earlier runs would make later ones slower)."""
    with _unlogged():
        tokens = buyers(round(rate * WINDOW))
        return drive(rate, tokens, total=FULL_TOTAL, hold=hold, shards=shards, window=WINDOW)


def sell_out() -> Outcome:
    """The sell-out row: SELL_OUT tickets at their default N, SELL_OUT_BUYERS buyers at SELL_OUT_RATE."""
    with _unlogged():
        return drive(SELL_OUT_RATE, buyers(SELL_OUT_BUYERS), total=SELL_OUT)


def default_shards(total: int) -> int:
    """The inventory shards an event of `total` tickets gets by default (1 before the API had shards)."""
    with in_memory(**QUIET):
        return shards_of(new_event(total))


def run() -> str:
    random.seed(20)
    default = default_shards(FULL_TOTAL)
    out = [
        f"Partition model: one event on sale, buyers of 1 ticket; per partition key {PARTITION_WCU:,.0f} WCU/s and "
        f"{PARTITION_RCU:,.0f} RCU/s, per table and index {TABLE_WCU:,.0f} of each; buckets start with "
        f"{START * 1000:.0f} ms of units and keep at most {SAVED:.0f} s (no burst capacity); "
        f"{CALL_SECONDS * 1000:.0f} ms a call. Rate rows: issue 20's {FULL_TOTAL:,}-ticket event in N inventory "
        f"shards ({default} by default), the first {WINDOW * 1000:.0f} ms of its sale (offered/s x "
        f"{WINDOW:g} s buyers); served/s: bookings made within {WINDOW * 1000:.0f} ms of the first",
    ]
    if not shardable():
        out.append("POST /events has no inventory_shards in this version: N = 1 only, the other rows are skipped")
    rates = RATES | ({} if default in RATES else {default: DEFAULT_RATES})
    runs = [on_sale(rate, shards=n) for n, each in rates.items() if shardable() or n == 1 for rate in each]
    out += [f"\ntransaction conflicts at {HOLD * 1000:.0f} ms hold", table(HEADERS, [o.row() for o in runs])]
    slower = [on_sale(DEFAULT_RATES[0], SLOWER, shards=default)]
    out += [f"\nthe same at {SLOWER * 1000:.0f} ms hold", table(HEADERS, [o.row() for o in slower])]
    whole = sell_out()
    out += [
        f"\na sell-out scaled down with its shards: {SELL_OUT:,} tickets at their default N ({whole.shards}: "
        f"{SELL_OUT // whole.shards} a shard, as at {FULL_TOTAL:,}), {SELL_OUT_BUYERS:,} buyers; served/s over "
        "its second half",
        table(HEADERS, [whole.row()]),
    ]
    throttled_at: Counter[Key] = Counter()  # by kind of partition key, over every run
    for o in [*runs, *slower, whole]:
        throttled_at.update({(where, placeholder(key)): n for (where, key), n in o.tally.short.items()})
    out.append(
        "\nthrottled calls by partition (all runs): "
        + (", ".join(f"{where} {key} {n}" for (where, key), n in throttled_at.most_common(4)) or "none")
    )
    return "\n".join(out)


if __name__ == "__main__":
    print(run())
