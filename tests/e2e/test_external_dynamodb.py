"""DYNAMODB_ENDPOINT_URL points the runtime at another DynamoDB: it creates the tables there, starts no moto."""

from __future__ import annotations

import boto3

from devserver import template
from devserver.dynamodb import EmbeddedDynamoDB
from tests.support.live import start_live_server


def test_runtime_uses_the_given_endpoint_and_creates_missing_tables() -> None:
    external = EmbeddedDynamoDB().start()  # stands in for DynamoDB Local / LocalStack
    try:
        server = start_live_server(extra_env={"DYNAMODB_ENDPOINT_URL": external.endpoint})
        try:
            assert any(line.startswith("DynamoDB") and "(external)" in line for line in server.output)
            assert server.dynamodb_endpoint == external.endpoint
            tables = boto3.client("dynamodb", endpoint_url=external.endpoint).list_tables()["TableNames"]
            assert len(tables) == len(template.tables())
            body = {"name": "Ext", "email": "ext@example.com", "password": "external-pass"}
            assert server.request("POST", "/auth/register", json=body).status_code == 201
            users = next(t for t in tables if t.endswith("UsersTable"))
            claim = boto3.client("dynamodb", endpoint_url=external.endpoint).get_item(
                TableName=users, Key={"pk": {"S": "EMAIL#ext@example.com"}}
            )
            assert "Item" in claim
        finally:
            server.stop()
        # A second start finds the tables and keeps the data (door staff, with no password given, already exist).
        again = start_live_server(extra_env={"DYNAMODB_ENDPOINT_URL": external.endpoint})
        try:
            assert any(line.startswith("Staff login") and "already existed" in line for line in again.output)
            assert again.login("ext@example.com", "external-pass")
        finally:
            again.stop()
    finally:
        external.stop()
