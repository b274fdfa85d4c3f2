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
    from boxoffice.store import dynamo

    calls = Calls()

    def after(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        calls.operations[model.name] += 1
        calls.items_read += _items_in(parsed)

    events = dynamo.client().meta.events
    events.register("after-call.dynamodb", after, unique_id="bench-count")
    try:
        yield calls
    finally:
        events.unregister("after-call.dynamodb", unique_id="bench-count")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])
