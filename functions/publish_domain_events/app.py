"""The bookings and tickets tables' streams -> the domain event bus (BookingConfirmed, TicketCheckedIn, ...)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from boxoffice import deadline
from boxoffice.logic import domain_events
from boxoffice.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
@deadline.bounded
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    # ReportBatchItemFailures: the stream resumes from the first record that was not published.
    failed = domain_events.publish(event["Records"])
    return {"batchItemFailures": [{"itemIdentifier": failed}] if failed else []}
