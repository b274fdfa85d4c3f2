"""The EventBridge bus that domain events go to: the only code that calls EventBridge."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from boxoffice import aws
from boxoffice.config import settings
from boxoffice.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "boxoffice"
MAX_ENTRIES = 10  # per PutEvents


@cache
def client() -> EventBridgeClient:
    # The endpoint comes from AWS_ENDPOINT_URL_EVENTBRIDGE when set (the local runtime sets it);
    # timeouts and retries fit in the invocation, as for DynamoDB (boxoffice.aws).
    return aws.budgeted(boto3.client("events", config=aws.config()))


def put(entries: Sequence[tuple[str, Mapping[str, Any]]]) -> int | None:
    """Put (detail-type, detail) entries on the bus in order; the index of the first one not accepted
    (None: all were). Sending stops at the first chunk with a failure: a retry sends it all again."""
    bus = settings().event_bus_name
    for start in range(0, len(entries), MAX_ENTRIES):
        chunk = entries[start : start + MAX_ENTRIES]
        try:
            answer = client().put_events(
                Entries=[
                    {"Source": SOURCE, "DetailType": name, "Detail": json.dumps(detail), "EventBusName": bus}
                    for name, detail in chunk
                ]
            )
        except (ClientError, BotoCoreError):
            logger.exception("PutEvents failed")
            return start
        failed = [i for i, entry in enumerate(answer["Entries"]) if entry.get("ErrorCode")]
        if failed:
            codes = sorted({str(answer["Entries"][i].get("ErrorCode")) for i in failed})
            logger.error("PutEvents rejected entries", extra={"codes": codes})
            return start + failed[0]
    return None
