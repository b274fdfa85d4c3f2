"""Shared benchmark plumbing: a local stack to run handlers against, and DynamoDB call counting."""

from __future__ import annotations

import contextlib
import io
import statistics
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from devserver.runtime import LocalRuntime


@contextmanager
def local_stack(**env: str) -> Iterator[LocalRuntime]:
    """The embedded DynamoDB with the template's tables and the handlers' environment, quietly."""
    env.setdefault("BCRYPT_ROUNDS", "4")  # call counts do not depend on the cost; time does
    env.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # EMF metric lines go to stdout; the benchmark prints its tables there.
    with LocalRuntime(0, quiet=True, extra_env=env) as runtime, contextlib.redirect_stdout(io.StringIO()):
        yield runtime


@dataclass
class Calls:
    operations: Counter[str] = field(default_factory=Counter)
    items_read: int = 0

    @property
    def total(self) -> int:
        return sum(self.operations.values())

    def describe(self) -> str:
        return ", ".join(f"{n} {op}" for op, n in sorted(self.operations.items())) or "none"


def _items_in(parsed: dict[str, Any]) -> int:
    if "Count" in parsed:  # Query / Scan
        return int(parsed["Count"])
    if "Responses" in parsed:  # BatchGetItem
        return sum(len(items) for items in parsed["Responses"].values())
    return 1 if "Item" in parsed else 0


@contextmanager
def count_calls() -> Iterator[Calls]:
    """Counts every DynamoDB call made through boxoffice's client while the block runs."""

    calls = Calls()

    def after(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        calls.operations[model.name] += 1
        calls.items_read += _items_in(parsed)

    with _hooked("after-call.dynamodb", after):
        yield calls


@contextmanager
def sent_transactions() -> Iterator[list[dict[str, Any]]]:
    """Every action of every TransactWriteItems sent through boxoffice's client while the block runs."""
    sent: list[dict[str, Any]] = []

    def before(params: dict[str, Any], **_: Any) -> None:
        sent.extend(params["TransactItems"])

    with _hooked("provide-client-params.dynamodb.TransactWriteItems", before):
        yield sent


@contextmanager
def _hooked(event: str, handler: Any) -> Iterator[None]:
    from boxoffice.store import dynamo

    events = dynamo.client().meta.events
    events.register(event, handler, unique_id=f"bench-{event}")
    try:
        yield
    finally:
        events.unregister(event, unique_id=f"bench-{event}")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])
