"""Shared benchmark plumbing: a local stack to run handlers against, and DynamoDB call counting."""

from __future__ import annotations

import contextlib
import io
import statistics
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from devserver.invoke import Api
from devserver.runtime import LocalRuntime

if TYPE_CHECKING:
    from boxoffice.models.events import CreateEvent

QUIET = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


@dataclass(frozen=True)
class Caller:
    user_id: str
    token: str


def new_caller() -> Caller:
    """A new user account and its token."""
    from boxoffice import auth
    from boxoffice.logic import accounts
    from boxoffice.vocabulary import Role

    user = accounts.create_account("Bench", f"bench-{time.monotonic_ns()}@example.com", "bench-password")
    return Caller(user.id, auth.issue_token(user.id, Role.USER, 0)[0])


def new_event(
    total: int, *, starts_in: timedelta = timedelta(days=30), shards: int | None = None, **fields: int
) -> str:
    """A new event on sale (in 30 days unless told) with `total` tickets of one type in `shards` inventory shards
    (None: the event's default), and any other `fields` of POST /events."""
    from boxoffice import clock
    from boxoffice.logic import events

    starts = (clock.now() + starts_in).replace(microsecond=0).isoformat()
    body = {"name": "Bench", "venue": "Hall", "starts_at": starts, "total_tickets": total, "ticket_price": "25.00"}
    return events.add_event(event_request({**body, **shard_fields(shards), **fields})).id


def event_request(body: dict[str, Any]) -> CreateEvent:
    """POST /events' request from `body`, validated as the API does; an `inventory_shards` beyond what an admin may
    choose (only a big event's default has more, up to 90) is set past that check."""
    from boxoffice.models.events import CreateEvent
    from boxoffice.shards import MAX_CHOSEN

    shards = body.get("inventory_shards")
    if not isinstance(shards, int) or shards <= MAX_CHOSEN:
        return CreateEvent.model_validate(body)
    request = CreateEvent.model_validate({k: v for k, v in body.items() if k != "inventory_shards"})
    return request.model_copy(update={"inventory_shards": shards})


def shardable() -> bool:
    """Whether POST /events takes `inventory_shards` (issue 20's sharded inventory) in this version of the API."""
    from boxoffice.models.events import CreateEvent

    return "inventory_shards" in CreateEvent.model_fields


def shard_fields(shards: int | None) -> dict[str, int]:
    """POST /events' fields for an event of `shards` inventory shards (None: the event's default)."""
    return {"inventory_shards": shards} if shards is not None and shardable() else {}


def shards_of(event_id: str) -> int:
    """The event's inventory shards as it shows them (1 before the API had shards)."""
    from boxoffice.logic import events

    shown = events.get_event(event_id)
    return int(shown.inventory_shards) if shardable() else 1  # type: ignore[attr-defined,unused-ignore]


@contextmanager
def local_stack(**env: str) -> Iterator[LocalRuntime]:
    """The embedded DynamoDB with the template's tables and the handlers' environment, quietly."""
    env.setdefault("BCRYPT_ROUNDS", "4")  # call counts do not depend on the cost; time does
    env.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    env.setdefault("MAIL_ENABLED", "false")  # no PDF rendered per booking beside what is measured
    # EMF metric lines go to stdout; the benchmark prints its tables there.
    with LocalRuntime(0, quiet=True, extra_env=env) as runtime, contextlib.redirect_stdout(io.StringIO()):
        yield runtime


@dataclass
class Calls:
    operations: Counter[str] = field(default_factory=Counter)
    items_read: int = 0
    items_written: int = 0  # each action of a transaction (a ConditionCheck too), each item of a batch

    @property
    def total(self) -> int:
        return sum(self.operations.values())

    def describe(self) -> str:
        return ", ".join(f"{n} {op}" for op, n in sorted(self.operations.items())) or "none"


def _items_in(parsed: dict[str, Any]) -> int:
    if "Count" in parsed:  # Query / Scan
        return int(parsed["Count"])
    if "Responses" in parsed:  # BatchGetItem: by table; TransactGetItems: one per key, empty if none
        found = parsed["Responses"]
        if isinstance(found, dict):
            return sum(len(items) for items in found.values())
        return sum(1 for r in found if r.get("Item"))
    return 1 if "Item" in parsed else 0


@contextmanager
def count_calls() -> Iterator[Calls]:
    """Counts every DynamoDB call made through boxoffice's client while the block runs."""

    calls = Calls()

    def after(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        calls.operations[model.name] += 1
        calls.items_read += _items_in(parsed)

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.items_written += _items_sent(model.name, params)

    with hooked("after-call.dynamodb", after), hooked("provide-client-params.dynamodb", before):
        yield calls


def _items_sent(operation: str, params: dict[str, Any]) -> int:
    if operation == "TransactWriteItems":
        return len(params["TransactItems"])
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params["RequestItems"].values())
    return 1 if operation in {"PutItem", "UpdateItem", "DeleteItem"} else 0


@contextmanager
def sent_transactions() -> Iterator[list[dict[str, Any]]]:
    """Every action of every TransactWriteItems sent through boxoffice's client while the block runs."""
    sent: list[dict[str, Any]] = []

    def before(params: dict[str, Any], **_: Any) -> None:
        sent.extend(params["TransactItems"])

    with hooked("provide-client-params.dynamodb.TransactWriteItems", before):
        yield sent


@contextmanager
def sent_reads() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """(operation, parameters) of every GetItem and BatchGetItem sent while the block runs."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in {"GetItem", "BatchGetItem"}:
            sent.append((model.name, dict(params)))

    with hooked("provide-client-params.dynamodb", before):
        yield sent


@contextmanager
def hooked(event: str, handler: Any) -> Iterator[None]:
    """`handler` on boxoffice's DynamoDB client's botocore `event` while the block runs."""
    from boxoffice.store import dynamo

    events = dynamo.client().meta.events
    events.register(event, handler, unique_id=f"hooked-{event}")
    try:
        yield
    finally:
        events.unregister(event, unique_id=f"hooked-{event}")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


class RoundTrips:
    """A "DynamoDB calls per request" table: each request goes through the handlers with its calls counted
    beside its target; a request answered with another status than expected stops the benchmark."""

    def __init__(self, api: Api, targets: Mapping[str, str], *, items_read: bool = False) -> None:
        self.api, self.targets, self.items_read = api, targets, items_read
        self.rows: list[list[str]] = []

    def measure(self, label: str, name: str, expect: int, token: str | None = None, **kwargs: Any) -> Any:
        """The answer's body."""
        with count_calls() as calls:
            result = self.api.call(name, token=token, **kwargs)
        assert result.status == expect, (label, result.status, result.body)
        read = [str(calls.items_read)] if self.items_read else []
        self.rows.append([label, str(calls.total), *read, self.targets[label], calls.describe()])
        return result.body

    def table(self, title: str, first: str = "request") -> str:
        read = ["items read"] if self.items_read else []
        return f"{title}\n" + table([first, "calls", *read, "target", "operations"], self.rows)
