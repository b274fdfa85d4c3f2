"""How long the current request may still wait on backing services.

Lambda stops a function at its timeout, and API Gateway then answers a bare 503 instead of our
problem+json. Every retry (botocore's and our own) must therefore fit in what is left of the
invocation, minus a reserve for answering. The edge starts the clock from the Lambda context;
without one (a hand-made call) the fixed REQUEST_BUDGET_SECONDS applies, and outside an
invocation (a script) none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from boxoffice.config import settings

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

# Time kept back to log, flush metrics and return the problem+json before Lambda's timeout.
RESERVE_SECONDS = 0.5

# A context variable, not a global: the local runtime serves many requests at once on threads.
_deadline: ContextVar[float | None] = ContextVar("deadline", default=None)


@contextmanager
def within(context: Any) -> Iterator[None]:
    """The budget of one invocation, from the Lambda context's remaining time; none outside it."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    budget = remaining_ms() / 1000 if callable(remaining_ms) else settings().request_budget_seconds
    token = _deadline.set(time.monotonic() + budget - RESERVE_SECONDS)
    try:
        yield
    finally:
        _deadline.reset(token)


def bounded(handler: LambdaHandler) -> LambdaHandler:
    """A Lambda handler whose backing-service calls and retries stay within its invocation."""

    @wraps(handler)
    def invocation(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with within(context):
            return handler(event, context)

    return invocation


def remaining() -> float | None:
    """Seconds left for backing-service calls, or None outside a request (no budget applies)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()
