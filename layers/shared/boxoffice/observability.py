"""Structured logs and EMF metrics, configured by Powertools' environment variables.

POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL and POWERTOOLS_METRICS_NAMESPACE come from the
template's Globals. Log records never carry tokens, passwords or hashes: nothing here logs a
request body or the Authorization header, and the store never logs items.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

# Most requests (reads, rejected input) emit no business metric; that is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")
