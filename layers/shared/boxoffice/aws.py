"""AWS clients under one retry policy: every attempt and every retry fits in the request's budget.

botocore retries throttling, 5xx and network errors itself (up to MAX_ATTEMPTS, with backoff), and
the store retries transaction conflicts and unprocessed keys on top. Alone, each could outlast
the function: 3 attempts of a 2 s connect and a 5 s read timeout are 21 s against a 10 s timeout.
Here a call starts only if one attempt (connect + read timeout) still fits in boxoffice.deadline,
and botocore retries only if the backoff and another attempt fit; otherwise the caller gets the
failure at once, answered as 503 problem+json while the function still runs.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from boxoffice import deadline
from boxoffice.config import settings
from boxoffice.errors import ServiceUnavailable, Throttled
from boxoffice.observability import backing_service_failed, logger, request_throttled

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.model import OperationModel

ClientT = TypeVar("ClientT", bound="BaseClient")

MAX_ATTEMPTS = 3
# What DynamoDB answers a call over a partition's, a table's or the account's throughput.
THROTTLING = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
_operation: ContextVar[str] = ContextVar("operation", default="none")


class OutOfTime(BotoCoreError):
    """Not even one attempt fits in what is left of the request: the call is not made."""

    fmt = "{operation}: {remaining:.2f} s left, one attempt may take {needed:.2f} s"


def current_operation() -> str:
    """The AWS call this request made last ("dynamodb:GetItem"), to name what failed."""
    return _operation.get()


def unavailable(message: str, **extra: Any) -> ServiceUnavailable:
    """The 503 for a failed call, logged (with the exception in flight) and counted, once."""
    logger.exception(message, extra=extra)
    backing_service_failed(current_operation())
    return ServiceUnavailable()


def throttling(exc: BaseException) -> bool:
    """Whether a failed call was throttled (botocore's retries of it spent)."""
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in THROTTLING


def throttled(message: str) -> Throttled:
    """The 503 THROTTLED for a request DynamoDB throttled past the retries, logged and counted apart from
    failures: during an on-sale it is load shed, and it wrote nothing."""
    logger.warning(message, extra={"operation": current_operation()})
    request_throttled(current_operation())
    return Throttled()


def attempt_seconds() -> float:
    """The longest one attempt can take before botocore gives up on it."""
    config = settings()
    return config.aws_connect_timeout_seconds + config.aws_read_timeout_seconds


def _before_call(model: OperationModel, **_: Any) -> None:
    _operation.set(f"{model.service_model.service_id.hyphenize()}:{model.name}")
    left = deadline.remaining()
    if left is not None and left < attempt_seconds():
        raise OutOfTime(operation=model.name, remaining=left, needed=attempt_seconds())


def _before_retry(attempts: int, **_: Any) -> bool | None:
    # Registered ahead of botocore's own handler: False vetoes the retry, None leaves it to botocore.
    # botocore's backoff before retry n is at most 2**(n-1) s (full jitter), whatever the error.
    left = deadline.remaining()
    if left is not None and left < 2 ** (attempts - 1) + attempt_seconds():
        return False
    return None


def config() -> Config:
    """Timeouts and botocore's retries for every client the functions make."""
    settings_ = settings()
    return Config(
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        connect_timeout=settings_.aws_connect_timeout_seconds,
        read_timeout=settings_.aws_read_timeout_seconds,
    )


def budgeted(client: ClientT) -> ClientT:
    """The client, its calls and retries held to the request's budget."""
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}", _before_call)
    # botocore's stubs type handlers as returning None; needs-retry handlers return a delay or False.
    client.meta.events.register_first(f"needs-retry.{service}", _before_retry)  # type: ignore[arg-type]
    return client
