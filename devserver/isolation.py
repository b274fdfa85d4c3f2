"""Per-thread request state for Powertools resolvers running side by side in one process.

Powertools keeps the request being resolved in class attributes of BaseRouter (`current_event`,
`lambda_context`), shared by every resolver in the process. That is right for Lambda, where a
process serves one request at a time; the local runtime serves many at once on threads, so here
those attributes are made thread-local. Deployed code never imports this module.
"""

from __future__ import annotations

import threading
from typing import Any

_SHARED = ("current_event", "lambda_context")
_local = threading.local()


class _PerThread:
    """A data descriptor backed by a thread-local: serves class-level and instance-level access."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        try:
            return getattr(_local, self.name)
        except AttributeError:
            raise AttributeError(self.name) from None

    def __set__(self, obj: object, value: Any) -> None:
        setattr(_local, self.name, value)


def isolate_requests_per_thread() -> None:
    """Idempotent. `BaseRouter.current_event = e` and `app.current_event` then see the calling thread's."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    if type(BaseRouter).__name__ == "PerThreadRouterMeta":
        return
    for name in _SHARED:
        # Instance access (`self.current_event`) finds this in the class dictionary ...
        setattr(BaseRouter, name, _PerThread(name))
    # ... and class-level assignment goes through the metaclass's data descriptor.
    meta = type("PerThreadRouterMeta", (type(BaseRouter),), {name: _PerThread(name) for name in _SHARED})
    BaseRouter.__class__ = meta  # type: ignore[method-assign]
