"""moto's server loses writes or fails under concurrent transactions; the devserver's lock fixes it.

Threads switch every 10 us here instead of every 5 ms, so the interleavings that a long day of
requests would hit show up in a few hundred transactions, both for moto's whole-table copies and
for the flat rollback (devserver.flatmoto) that the embedded server runs.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError

from devserver.dynamodb import EmbeddedDynamoDB

STOCK = 40
THREADS = 16
ATTEMPTS_PER_THREAD = 8


@contextmanager
def racy_threads() -> Iterator[None]:
    # moto's crashes under races are the point of the test; keep their tracebacks out of the output.
    logger = logging.getLogger("werkzeug")
    level, interval = logger.level, sys.getswitchinterval()
    logger.setLevel(logging.CRITICAL)
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        logger.setLevel(level)
        sys.setswitchinterval(interval)


def race_sell(serialise: bool, *, in_place: bool = False) -> list[str]:
    """Sell STOCK tickets to THREADS x ATTEMPTS buyers; return every anomaly seen (empty when correct).
    `in_place`: the buyers call the server's app in this process (as the local runtime's own clients do)."""
    db = EmbeddedDynamoDB(serialise=serialise).start().direct()  # the table is set up in place
    buyers = db.endpoint if in_place else db.endpoint.replace("127.0.0.1", "localhost")  # not in place: HTTP
    config = Config(retries={"max_attempts": 1})
    try:
        client = boto3.client("dynamodb", endpoint_url=db.endpoint, config=config)
        client.create_table(
            TableName="t",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="t", Item={"pk": {"S": "counter"}, "n": {"N": str(STOCK)}})
        for i in range(300):  # a bigger table widens moto's copy-and-restore window
            client.put_item(TableName="t", Item={"pk": {"S": f"filler-{i}"}})
        anomalies: list[str] = []
        sold: list[int] = []

        def buyer(worker: int) -> None:
            own = boto3.client("dynamodb", endpoint_url=buyers, config=config)
            for attempt in range(ATTEMPTS_PER_THREAD):
                try:
                    own.transact_write_items(
                        TransactItems=[
                            {
                                "Update": {
                                    "TableName": "t",
                                    "Key": {"pk": {"S": "counter"}},
                                    "UpdateExpression": "SET n = n - :one",
                                    "ConditionExpression": "n >= :one",
                                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                                }
                            },
                            {"Put": {"TableName": "t", "Item": {"pk": {"S": f"sold-{worker}-{attempt}"}}}},
                        ]
                    )
                    sold.append(1)
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "TransactionCanceledException":
                        anomalies.append(f"error {exc.response['Error']['Code']}")

        with racy_threads():
            threads = [threading.Thread(target=buyer, args=(w,)) for w in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        left = int(client.get_item(TableName="t", Key={"pk": {"S": "counter"}})["Item"]["n"]["N"])
        pages = client.get_paginator("scan").paginate(TableName="t")
        tickets = sum(1 for page in pages for item in page["Items"] if item["pk"]["S"].startswith("sold-"))
        if left + tickets != STOCK or tickets != len(sold) or left < 0:
            anomalies.append(f"left={left} tickets={tickets} successes={len(sold)}")
        return anomalies
    finally:
        db.stop()


def test_unserialised_moto_breaks_under_concurrent_transactions() -> None:
    # The race is probabilistic; in practice every round shows it, five rounds make a miss negligible.
    for _ in range(5):
        if race_sell(serialise=False, in_place=True):
            return
    raise AssertionError("moto stayed consistent without the lock: re-check whether the lock is still needed")


@pytest.mark.parametrize("in_place", [False, True], ids=["over HTTP", "in place"])
def test_serialised_moto_keeps_every_invariant(in_place: bool) -> None:
    assert race_sell(serialise=True, in_place=in_place) == []


def test_the_runtimes_own_clients_are_answered_in_place_under_the_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    db = EmbeddedDynamoDB().start().direct()
    try:
        client = boto3.client("dynamodb", endpoint_url=db.endpoint)

        def no_socket(*_: object, **__: object) -> None:
            raise AssertionError("a call to the embedded endpoint went over a socket")

        monkeypatch.setattr(urllib3.util.connection, "create_connection", no_socket)
        client.create_table(
            TableName="t",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="t", Item={"pk": {"S": "a"}})
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            client.put_item(TableName="t", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.append(client.scan(TableName="t")["Items"][0]["pk"]["S"]))
        with db.lock:  # held as a request over HTTP would hold it
            reader.start()
            reader.join(0.3)
            assert reader.is_alive()
            assert seen == []
        reader.join(5)
        assert seen == ["a"]
        monkeypatch.undo()
        other = boto3.client("dynamodb", endpoint_url=db.endpoint.replace("127.0.0.1", "localhost"))
        assert other.list_tables()["TableNames"] == ["t"]  # another host name: over HTTP, as other processes
    finally:
        db.stop()
