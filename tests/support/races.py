"""Races made deterministic: run another request's change between a request's read and its write,
on a clock the test controls."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from boxoffice import clock


def between_read_and_write(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, read: str, change: Callable[[], object]
) -> None:
    """Run `change` once, right after the next call of `module.read` returns: what a concurrent
    request could do after our read and before our conditional write. It runs in a context of its own,
    as another request would: none of ours (its retry, its deadline) is running in it."""
    original = getattr(module, read)

    def read_then_change(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(module, read, original)
        found = original(*args, **kwargs)
        contextvars.Context().run(change)
        return found

    monkeypatch.setattr(module, read, read_then_change)


class Clock:
    """boxoffice.clock stopped at `at`; `behind` runs a block on an instance whose clock is slow."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
        self.at = at
        monkeypatch.setattr(clock, "now", lambda: self.at)

    @contextmanager
    def behind(self, by: timedelta) -> Iterator[None]:
        kept = self.at
        self.at = kept - by
        try:
            yield
        finally:
            self.at = kept
