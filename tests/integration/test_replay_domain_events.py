"""scripts/replay_domain_events.py over moto's S3 and SQS, with the publisher's invoke stubbed: a batch
kept in the failures bucket is handed to the publisher whole, and its announcement leaves the queue only
once every record was taken."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import replay_domain_events as replay

BUCKET = "boxoffice-test-failed-123456789012-us-east-1"
PUBLISHER = "arn:aws:lambda:us-east-1:123456789012:function:publisher:live"


def stream_record(sequence: str) -> dict[str, Any]:
    keys = {"pk": {"S": "USER#u"}, "sk": {"S": f"BOOKING#{sequence}"}}
    return {"eventName": "INSERT", "dynamodb": {"Keys": keys, "SequenceNumber": sequence}}


class Publisher:
    """Stands in for lambda:Invoke of the publisher: answers as its handler does."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.batches: list[list[dict[str, Any]]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        assert FunctionName == PUBLISHER
        records = json.loads(Payload)["Records"]
        self.batches.append(records)
        refused = [r["dynamodb"]["SequenceNumber"] for r in records if r["dynamodb"]["SequenceNumber"] in self.refuse]
        answer = {"batchItemFailures": [{"itemIdentifier": s} for s in refused[:1]]}
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any, str]]:
    with mock_aws():
        sqs, s3 = boto3.client("sqs"), boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        yield sqs, s3, sqs.create_queue(QueueName="dead-letters")["QueueUrl"]


def keep_failed_batch(sqs: Any, s3: Any, queue: str, key: str, records: list[dict[str, Any]], *, text: bool) -> None:
    """What Lambda and S3 do when a mapping gives up: the invocation in the bucket, a notice on the queue."""
    event = {"Records": records}
    invocation = {"version": "1.0", "DDBStreamBatchInfo": {}, "payload": json.dumps(event) if text else event}
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(invocation).encode())
    notice = {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key.replace(":", "%3A")}}}]}
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(notice))


def waiting(sqs: Any, queue: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_each_kept_batch_is_published_whole_and_its_notice_deleted(aws: tuple[Any, Any, str]) -> None:
    sqs, s3, queue = aws
    first, second = [stream_record("1"), stream_record("2")], [stream_record("3")]
    keep_failed_batch(sqs, s3, queue, "aws/lambda/esm/shard-1/2026-12-07T10:00:00-a", first, text=True)
    keep_failed_batch(sqs, s3, queue, "aws/lambda/esm/shard-2/2026-12-07T10:00:00-b", second, text=False)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"Event": "s3:TestEvent"}))
    publisher = Publisher()

    outcome = replay.replay(sqs, s3, publisher, queue, PUBLISHER)

    assert sorted(publisher.batches, key=len) == [second, first]
    assert (outcome.replayed, outcome.failed, outcome.records) == (2, 0, 3)
    assert waiting(sqs, queue) == 0


def test_a_batch_the_publisher_refuses_again_stays_announced_for_the_next_run(aws: tuple[Any, Any, str]) -> None:
    sqs, s3, queue = aws
    keep_failed_batch(sqs, s3, queue, "k", [stream_record("1"), stream_record("2")], text=True)

    outcome = replay.replay(sqs, s3, Publisher(refuse=frozenset({"2"})), queue, PUBLISHER)

    assert (outcome.replayed, outcome.failed) == (0, 1)
    assert waiting(sqs, queue) == 1
