"""Every minute: holds past their expiry go back, each released once by its own condition."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from boxoffice import deadline
from boxoffice.logic import expiry
from boxoffice.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
@deadline.bounded  # the sweep runs while the invocation has time left (expiry.SWEEP_RESERVE_SECONDS)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return {"released": expiry.sweep()}
