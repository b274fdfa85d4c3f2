"""scripts/create_admin.py against a CloudFormation stack (moto) that holds the template's tables."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import bcrypt
import boto3
import pytest
from moto import mock_aws

from boxoffice.logic import accounts
from devserver import template
from devserver.dynamodb import table_spec
from scripts import create_admin

STACK = "boxoffice-test"


def _stack_template(rounds: int) -> str:
    """The template's tables and the outputs and parameters the script reads, for moto's CloudFormation."""
    tables = {
        logical: {"Type": "AWS::DynamoDB::Table", "Properties": table_spec(props)}
        for logical, props in template.tables().items()
    }
    parameters = {"BcryptRounds": {"Type": "Number", "Default": rounds}, "Stage": {"Type": "String", "Default": "test"}}
    outputs = {name: {"Value": {"Ref": name.removesuffix("Name")}} for name in create_admin.OUTPUTS}
    return json.dumps({"Parameters": parameters, "Resources": tables, "Outputs": outputs})


@pytest.fixture
def stack() -> Iterator[dict[str, str]]:
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        cloudformation.create_stack(StackName=STACK, TemplateBody=_stack_template(rounds=10))
        outputs = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
        yield {o["OutputKey"]: o["OutputValue"] for o in outputs}


def _users(stack: dict[str, str]) -> list[dict[str, str]]:
    table = boto3.resource("dynamodb").Table(stack["UsersTableName"])
    return [item for item in table.scan()["Items"] if str(item["pk"]).startswith("USER#")]  # type: ignore[misc]


def test_creates_an_admin_in_the_stacks_users_table_at_the_deployed_bcrypt_cost(
    stack: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "first-admin-password")

    assert create_admin.main(["--stack", STACK, "--email", "Ops@Example.com"]) == 0

    [user] = _users(stack)
    assert user["role"] == "admin"
    assert user["email"] == "ops@example.com"
    # The stack says 10 rounds; the tests' own BCRYPT_ROUNDS=4 must not leak into a deployed hash.
    assert user["password_hash"].startswith("$2b$10$")
    assert bcrypt.checkpw(b"first-admin-password", user["password_hash"].encode())
    assert "first-admin-password" not in capsys.readouterr().out
    assert os.environ["BCRYPT_ROUNDS"] == "4", "the script must put the caller's environment back"


def test_a_second_run_keeps_the_existing_admin(
    stack: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "first-admin-password")
    assert create_admin.main(["--stack", STACK]) == 0
    first = _users(stack)

    monkeypatch.setenv("ADMIN_PASSWORD", "another-password")
    assert create_admin.main(["--stack", STACK]) == 0

    assert _users(stack) == first
    assert "already exists" in capsys.readouterr().out


def test_generates_and_prints_a_password_when_none_is_given(
    stack: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)

    assert create_admin.main(["--stack", STACK]) == 0

    printed = capsys.readouterr().out.split("with password ")[1].split()[0]
    [user] = _users(stack)
    assert bcrypt.checkpw(printed.encode(), user["password_hash"].encode())


def test_a_too_short_password_writes_nothing_and_is_not_echoed(
    stack: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "short")

    assert create_admin.main(["--stack", STACK]) == 1

    assert _users(stack) == []
    err = capsys.readouterr().err
    assert "password" in err
    assert "short" not in err.replace("password", "")


def test_an_unknown_stack_is_an_error_not_a_traceback(
    stack: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert create_admin.main(["--stack", "no-such-stack"]) == 1
    assert "no-such-stack" in capsys.readouterr().err


def test_a_stack_without_the_table_outputs_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        body = {
            "Parameters": {"BcryptRounds": {"Type": "Number", "Default": 12}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        }
        cloudformation.create_stack(StackName="other", TemplateBody=json.dumps(body))

        assert create_admin.main(["--stack", "other"]) == 1

    assert "UsersTableName" in capsys.readouterr().err


def test_promote_makes_an_existing_user_an_admin_and_revokes_its_tokens(
    stack: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with create_admin.environment(create_admin.stack_environment(boto3.client("cloudformation"), STACK)):
        accounts.create_account("Ada", "ada@example.com", "a user's own password")  # as a registration does
    [before] = _users(stack)
    monkeypatch.setenv("ADMIN_PASSWORD", "first-admin-password")

    assert create_admin.main(["--stack", STACK, "--email", "Ada@Example.com"]) == 0
    assert "--promote" in capsys.readouterr().out
    assert _users(stack) == [before]

    assert create_admin.main(["--stack", STACK, "--email", "Ada@Example.com", "--promote"]) == 0
    [after] = _users(stack)
    assert (after["role"], after["token_version"]) == ("admin", before["token_version"] + 1)
    assert after["password_hash"] == before["password_hash"]
    assert "is now an admin" in capsys.readouterr().out

    assert create_admin.main(["--stack", STACK, "--email", "ada@example.com", "--promote"]) == 0
    assert _users(stack) == [after]
    assert "already an admin" in capsys.readouterr().out
