"""Domain events from the bus (an EventBridge rule) -> e-mails to buyers through SES, once per event."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from boxoffice import deadline
from boxoffice.logic import mail
from boxoffice.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
@deadline.bounded
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # What was sent, for the local runtime's console line; EventBridge ignores an async answer.
    sent = mail.deliver(event["detail-type"], event["detail"])
    return {"sent": [{"to": sent.to, "subject": sent.subject, "where": sent.where}] if sent else []}
