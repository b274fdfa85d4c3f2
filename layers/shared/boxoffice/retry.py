"""The one retry idiom: read, judge, write; when a condition of the write changed since the read, read again.

A step does all three and raises Again when the write lost to a change it can see through (the store's
failure carries the item as DynamoDB saw it, or says to read again); `retried` runs it again, at most
ATTEMPTS times in all and only while one more call fits in the request's budget (boxoffice.deadline),
then answers 409 BUSY. DynamoDB's transaction conflicts are one such change (Conflict, after a jittered
pause). A retry never runs inside another: the inner one would multiply the outer one's attempts, so a
store call that retries on its own (`once`) hands its Again to the step it runs in instead, and work that
retries on its own waits for the running retry to end (`afterwards`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

from boxoffice import deadline, errors
from boxoffice.errors import Busy

T = TypeVar("T")
R = TypeVar("R")

ATTEMPTS = 4  # steps one retry runs at most, whatever made it go round (the one bound of the package)

# The work put off until the running retry is over (`afterwards`); None while no retry runs.
_running: ContextVar[list[Callable[[], object]] | None] = ContextVar("retry_running", default=None)


class Again(Exception):
    """A step's write lost to a change since its read: run the step again (on what the failure showed)."""

    pause = False


class Conflict(Again):
    """DynamoDB cancelled the write for another one in flight: again, after a pause."""

    pause = True


class Throttled(Conflict):
    """DynamoDB throttled the call (a transaction, or keys a batch read left unprocessed): again, after a
    pause; when the retry ends on it, the answer is errors.Throttled (503), not Busy."""


class Nested(RuntimeError):
    """A retry was started inside another's step: a programming error, never an answer."""


def retried(step: Callable[[], T]) -> T:
    """`step()`'s result, run again on Again up to ATTEMPTS times and while the budget lasts; else Busy, or
    errors.Throttled when the last attempt was throttled."""
    if _running.get() is not None:
        raise Nested("a retry inside another retry's step")
    later: list[Callable[[], object]] = []
    token = _running.set(later)
    last: Again | None = None
    try:
        for attempt in range(ATTEMPTS):
            if attempt and not _time_for_another():
                break
            try:
                return step()
            except Again as again:
                last = again
                if again.pause and attempt + 1 < ATTEMPTS:
                    time.sleep(random.uniform(0, 0.025 * 2**attempt))  # noqa: S311 - full jitter, not crypto
        raise _throttled() if isinstance(last, Throttled) else Busy()
    finally:
        _running.reset(token)
        for work in later:
            work()


def once(step: Callable[[], T]) -> T:
    """`step()` once inside a running retry (its Again goes round that retry), else under its own."""
    return step() if _running.get() is not None else retried(step)


def afterwards(work: Callable[[], object]) -> None:
    """Run `work` (which may retry on its own) once the running retry is over, whatever its outcome, or now
    when none runs: what a step sets going outside its own write (the waiting list's hand-on) waits for it."""
    later = _running.get()
    if later is None:
        work()
    else:
        later.append(work)


def alone(handler: Callable[[Any, Any], R]) -> Callable[[Any, Any], R]:
    """An invocation runs none of its caller's retry: the local runtime and the tests may call one handler
    inside another's step, which Lambda never does."""

    @wraps(handler)
    def invocation(event: Any, context: Any) -> R:
        token = _running.set(None)
        try:
            return handler(event, context)
        finally:
            _running.reset(token)

    return invocation


def _throttled() -> errors.Throttled:
    from boxoffice import aws  # only once a retry ends throttled: the edge imports this module, not botocore

    return aws.throttled("DynamoDB throttled every attempt")


def _time_for_another() -> bool:
    from boxoffice import aws  # only once a retry goes round: the edge imports this module, not botocore

    left = deadline.remaining()
    return left is None or left >= aws.attempt_seconds()
