"""Every minute: holds past their expiry go back, each released once by its own condition."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from boxoffice.logic import expiry
from boxoffice.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return {"released": expiry.sweep()}
