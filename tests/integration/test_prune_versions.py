"""scripts/prune_versions.py over moto's Lambda (the stack's resource list stubbed): after a deploy, every
version no alias points at is deleted, and what `live` serves (and what a failed deploy rolls back to) stays."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import prune_versions


class Stack:
    """Stands in for CloudFormation's ListStackResources of one stack."""

    def __init__(self, functions: list[str]) -> None:
        self.functions = functions

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_stack_resources"
        summaries = [{"ResourceType": "AWS::Lambda::Function", "PhysicalResourceId": f} for f in self.functions]
        summaries.append({"ResourceType": "AWS::Lambda::Version", "PhysicalResourceId": "not-a-function"})

        class Pages:
            def paginate(self, StackName: str) -> list[dict[str, Any]]:
                assert StackName == "boxoffice-test"
                return [{"StackResourceSummaries": summaries}]

        return Pages()


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


@pytest.fixture
def lambda_client() -> Iterator[Any]:
    with mock_aws():
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}))
        client = boto3.client("lambda")
        for name in ("booking", "sweeper"):
            client.create_function(
                FunctionName=name,
                Runtime="python3.13",
                Role=role["Role"]["Arn"],
                Handler="app.handler",
                Code={"ZipFile": code()},
            )
        yield client


def deploy(client: Any, function: str) -> str:
    """What one deploy does to a function: a new version, and `live` moved onto it."""
    client.update_function_configuration(FunctionName=function, Description=f"deploy {id(object())}")
    version: str = client.publish_version(FunctionName=function)["Version"]
    aliases = [a["Name"] for a in client.list_aliases(FunctionName=function)["Aliases"]]
    if "live" in aliases:
        client.update_alias(FunctionName=function, Name="live", FunctionVersion=version)
    else:
        client.create_alias(FunctionName=function, Name="live", FunctionVersion=version)
    return version


def versions(client: Any, function: str) -> list[str]:
    return [v["Version"] for v in client.list_versions_by_function(FunctionName=function)["Versions"]]


def test_versions_no_alias_points_at_are_deleted_and_the_live_one_stays(lambda_client: Any) -> None:
    for _ in range(3):
        live = deploy(lambda_client, "booking")
    only = deploy(lambda_client, "sweeper")
    old = sorted(set(versions(lambda_client, "booking")) - {"$LATEST", live}, key=int)
    assert len(old) == 2

    deleted = prune_versions.prune(Stack(["booking", "sweeper"]), lambda_client, "boxoffice-test")

    assert deleted == {"booking": old}
    assert sorted(versions(lambda_client, "booking")) == sorted(["$LATEST", live])
    assert sorted(versions(lambda_client, "sweeper")) == sorted(["$LATEST", only])
    assert lambda_client.get_alias(FunctionName="booking", Name="live")["FunctionVersion"] == live


def test_a_dry_run_lists_what_it_would_delete_and_deletes_nothing(lambda_client: Any) -> None:
    deploy(lambda_client, "booking")
    deploy(lambda_client, "booking")
    before = versions(lambda_client, "booking")

    assert prune_versions.prune(Stack(["booking"]), lambda_client, "boxoffice-test", dry_run=True) == {"booking": ["1"]}
    assert versions(lambda_client, "booking") == before
