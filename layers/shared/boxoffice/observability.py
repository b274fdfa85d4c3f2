"""Structured logs and EMF metrics, configured by Powertools' environment variables.

POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL and POWERTOOLS_METRICS_NAMESPACE come from the
template's Globals. Log records never carry tokens, passwords or hashes: nothing here logs a
request body or the Authorization header, and the store never logs items.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()

# Most requests (reads, rejected input) emit no business metric; that is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def backing_service_failed(operation: str) -> None:
    """Count a DynamoDB or Secrets Manager failure answered as 503.

    The function handles it, so Lambda's Errors metric never sees it; this metric (alarmed in
    template.yaml) does. The operation goes with it as metadata: a dimension per operation would
    split the one series the alarm watches.
    """
    metrics.add_metric(name="BackingServiceFailures", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="failed_operation", value=operation)


def request_throttled(operation: str) -> None:
    """Count a request answered 503 THROTTLED (DynamoDB throttled it past the retries): apart from
    BackingServiceFailures, as a rush's throttling is load to shed, not a fault."""
    metrics.add_metric(name="RequestsThrottled", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="throttled_operation", value=operation)
