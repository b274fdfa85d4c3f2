"""Publish again the stream batches the domain-event mappings gave up on (docs/events.md).

    make replay-domain-events STACK=boxoffice-prod
    PYTHONPATH=layers/shared:. .venv/bin/python -m scripts.replay_domain_events --stack boxoffice-prod

After 6 hours of failed retries a mapping puts the whole batch (its records included) into the
stack's failures bucket, and S3 announces each object on the DomainEventsDeadLetters queue (whose
alarm stays in ALARM while any announcement waits). For each announcement this reads the object and
invokes the publisher's `live` alias with its records, exactly as the mapping would have: the same
code, and the only role the bus lets put `source: boxoffice`. A batch published whole has its
announcement deleted (the object stays until the bucket's lifecycle expires it); one that fails
again stays on the queue for the next run. Events already published are sent again: consumers drop
repeats by `detail.id`. Your credentials need cloudformation:DescribeStacks, sqs:ReceiveMessage and
sqs:DeleteMessage on the queue, s3:GetObject on the bucket and lambda:InvokeFunction on the alias.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import boto3

QUEUE_OUTPUT, PUBLISHER_OUTPUT = "DomainEventsDeadLettersUrl", "DomainEventsPublisher"


@dataclass
class Outcome:
    replayed: int = 0  # batches published whole, their announcements deleted
    failed: int = 0  # batches that failed again and wait on the queue
    records: int = 0


def records_of(invocation: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream records of a failed invocation as Lambda keeps it in S3 (the event under `payload`,
    as an object or as its JSON text)."""
    payload = invocation["payload"]
    event = json.loads(payload) if isinstance(payload, str) else payload
    records: list[dict[str, Any]] = event["Records"]
    return records


def objects_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of each object an S3 event notification announces (none for S3's test event)."""
    body = json.loads(message["Body"])
    return [
        (record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
        for record in body.get("Records", [])
    ]


def publish(lambda_client: Any, function: str, records: list[dict[str, Any]]) -> bool:
    """Whether the publisher took every record (no function error, no batch item failure)."""
    answer = lambda_client.invoke(FunctionName=function, Payload=json.dumps({"Records": records}).encode())
    result = json.loads(answer["Payload"].read() or b"{}")
    return "FunctionError" not in answer and not (result or {}).get("batchItemFailures")


def replay(sqs: Any, s3: Any, lambda_client: Any, queue_url: str, function: str) -> Outcome:
    """Replay every announcement on the queue once (until a receive comes back empty)."""
    outcome = Outcome()
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            return outcome
        for message in fresh:
            seen.add(message["MessageId"])
            all_published = True
            for bucket, key in objects_of(message):
                records = records_of(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
                outcome.records += len(records)
                if publish(lambda_client, function, records):
                    outcome.replayed += 1
                else:
                    outcome.failed += 1
                    all_published = False
            if all_published:  # S3's test event too: it announces nothing
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    description = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the boxoffice stack's name")
    args = parser.parse_args(argv)
    outputs = stack_outputs(boto3.client("cloudformation"), args.stack)
    if QUEUE_OUTPUT not in outputs or PUBLISHER_OUTPUT not in outputs:
        print(
            f"Stack {args.stack!r} has no {QUEUE_OUTPUT}/{PUBLISHER_OUTPUT} output: deploy it first.", file=sys.stderr
        )
        return 2
    queue, function = outputs[QUEUE_OUTPUT], outputs[PUBLISHER_OUTPUT]
    outcome = replay(boto3.client("sqs"), boto3.client("s3"), boto3.client("lambda"), queue, function)
    print(f"replayed {outcome.replayed} batches ({outcome.records} records); {outcome.failed} failed again")
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
