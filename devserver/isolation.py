"""Powertools state made safe for many requests at once in one process.

Powertools keeps per-request state process-wide: the request being resolved in class attributes of
BaseRouter (`current_event`, `lambda_context`), the keys every log line carries (the function's name,
the correlation id) in the Logger's formatter, and the metrics buffer in a dict shared by every
Metrics instance. That is right for Lambda, where a process serves one request at a time; the local
runtime serves many at once on threads (and makes its sample data outside any function), so here the
request state and the log keys are made thread-local and the metrics buffer is guarded by a lock.
Deployed code never imports this module.
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


class _PerThreadLogKeys:
    """The formatter's `log_format` (the keys each line carries), one per thread and formatter: a thread
    starts from the formatter's own keys, as `clear_state` leaves them, never from another thread's."""

    def __get__(self, formatter: Any, owner: type | None = None) -> Any:
        if formatter is None:
            return self
        kept: dict[int, dict[str, Any]] = _local.__dict__.setdefault("log_format", {})
        if id(formatter) not in kept:
            kept[id(formatter)] = dict.fromkeys(formatter.log_record_order) | formatter.keys_combined
        return kept[id(formatter)]

    def __set__(self, formatter: Any, value: dict[str, Any]) -> None:
        _local.__dict__.setdefault("log_format", {})[id(formatter)] = value


_METRIC_OPERATIONS = (
    "add_metric",
    "add_dimension",
    "add_metadata",
    "serialize_metric_set",
    "flush_metrics",
    "clear_metrics",
)
_metrics_lock = threading.RLock()


def isolate_concurrent_requests() -> None:
    """Idempotent. Afterwards `app.current_event` is the calling thread's, and metrics calls are atomic."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    if type(BaseRouter).__name__ == "PerThreadRouterMeta":
        return
    for name in _METRIC_OPERATIONS:
        setattr(AmazonCloudWatchEMFProvider, name, _locked(getattr(AmazonCloudWatchEMFProvider, name)))
    for name in _SHARED:
        # Instance access (`self.current_event`) finds this in the class dictionary ...
        setattr(BaseRouter, name, _PerThread(name))
    # ... and class-level assignment goes through the metaclass's data descriptor.
    meta = type("PerThreadRouterMeta", (type(BaseRouter),), {name: _PerThread(name) for name in _SHARED})
    BaseRouter.__class__ = meta  # type: ignore[method-assign]
    # A data descriptor wins over the instance's own attribute, so formatters made before this are covered.
    LambdaPowertoolsFormatter.log_format = _PerThreadLogKeys()  # type: ignore[assignment]


def _locked(operation: Any) -> Any:
    # One request's flush (check, serialise, clear) must not interleave with another's add.
    def locked(self: object, *args: Any, **kwargs: Any) -> Any:
        with _metrics_lock:
            return operation(self, *args, **kwargs)

    return locked
