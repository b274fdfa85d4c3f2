"""The local runtime's snapshot of its tables (devserver.persistence), over moto in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from devserver import persistence
from devserver.dynamodb import create_tables, table_names
from devserver.persistence import CorruptSnapshot, Snapshots

TABLES = table_names("keep")
USERS, BOOKINGS = TABLES["UsersTable"], TABLES["BookingsTable"]


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        create_tables(None, "keep")
        yield boto3.client("dynamodb")


@pytest.fixture
def snapshots(client: Any, tmp_path: Path) -> Iterator[Snapshots]:
    # Saved when a test says so: a background save would race with what the test does to the file.
    kept = Snapshots(tmp_path / "dynamodb.jsonl", TABLES.values(), threading.Lock(), delay=3600)
    kept.start()
    yield kept
    kept.stop()


def user(n: int, **extra: Any) -> dict[str, Any]:
    return {"pk": {"S": f"USER#{n}"}, "name": {"S": f"user {n}"}, **extra}


def everything(client: Any) -> dict[str, list[dict[str, Any]]]:
    return {name: client.scan(TableName=name)["Items"] for name in TABLES.values()}


def make_changes(client: Any) -> None:
    """Puts, an update, a delete, a batch, a committed and a cancelled transaction."""
    for n in range(5):
        client.put_item(TableName=USERS, Item=user(n, tags={"L": [{"S": "a"}, {"N": "1.50"}]}))
    client.update_item(
        TableName=USERS,
        Key={"pk": {"S": "USER#1"}},
        UpdateExpression="SET token_version = :v",
        ExpressionAttributeValues={":v": {"N": "3"}},
    )
    client.delete_item(TableName=USERS, Key={"pk": {"S": "USER#2"}})
    client.batch_write_item(
        RequestItems={
            BOOKINGS: [{"PutRequest": {"Item": {"pk": {"S": "U#1"}, "sk": {"S": f"B#{i}"}}}} for i in range(3)]
        }
    )
    booking = {"pk": {"S": "U#1"}, "sk": {"S": "B#9"}}
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": BOOKINGS, "Item": booking}},
            {"Delete": {"TableName": USERS, "Key": {"pk": {"S": "USER#3"}}}},
        ]
    )
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": USERS, "Item": user(7)}},
                {"Put": {"TableName": BOOKINGS, "Item": booking, "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
        )


def test_a_saved_snapshot_loads_into_empty_tables_as_it_was(client: Any, snapshots: Snapshots, tmp_path: Path) -> None:
    make_changes(client)
    snapshots.save()
    before = everything(client)

    with mock_aws():
        create_tables(None, "keep")
        restored = Snapshots(snapshots.path, TABLES.values(), threading.Lock())
        assert restored.load() == sum(map(len, before.values())) == 7
        assert everything(boto3.client("dynamodb")) == before


def test_changes_are_saved_a_moment_later_without_asking(client: Any, snapshots: Snapshots) -> None:
    snapshots.delay = 0.05
    client.put_item(TableName=USERS, Item=user(42))
    deadline = time.monotonic() + 10
    while "USER#42" not in (snapshots.path.read_text() if snapshots.path.exists() else ""):
        assert time.monotonic() < deadline, "not saved within 10 s"
        time.sleep(0.02)


def test_a_save_serialises_only_the_items_written_since_the_last_one(client: Any, snapshots: Snapshots) -> None:
    for n in range(50):
        client.put_item(TableName=USERS, Item=user(n))
    snapshots.save()
    client.put_item(TableName=USERS, Item=user(100))
    client.delete_item(TableName=USERS, Key={"pk": {"S": "USER#7"}})

    with mock.patch.object(persistence, "_line", wraps=persistence._line) as serialised:
        snapshots.save()

    assert serialised.call_count == 1
    saved = persistence.read(snapshots.path)[USERS]
    assert len(saved) == 50
    assert any('"USER#100"' in line for line in saved)
    assert not any('"USER#7"' in line for line in saved)


def test_a_snapshot_cut_anywhere_is_refused_rather_than_half_loaded(client: Any, snapshots: Snapshots) -> None:
    make_changes(client)
    snapshots.save()
    whole = snapshots.path.read_bytes()
    line_ends = [i + 1 for i, byte in enumerate(whole) if byte == ord("\n")]
    for cut in [*line_ends[:-1], len(whole) // 3, len(whole) - 3]:
        snapshots.path.write_bytes(whole[:cut])
        with pytest.raises(CorruptSnapshot):
            persistence.read(snapshots.path)
    snapshots.path.write_bytes(whole)
    assert sum(map(len, persistence.read(snapshots.path).values())) == 7


def test_a_write_that_fails_half_way_leaves_the_previous_snapshot(client: Any, snapshots: Snapshots) -> None:
    client.put_item(TableName=USERS, Item=user(1))
    snapshots.save()
    before = snapshots.path.read_text()
    client.put_item(TableName=USERS, Item=user(2))

    with mock.patch.object(persistence.os, "fsync", side_effect=OSError("disk full")), pytest.raises(OSError):
        snapshots.save()

    assert snapshots.path.read_text() == before
