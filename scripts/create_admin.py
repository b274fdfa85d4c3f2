"""Create the first admin of a deployed stack, through the same domain code as `make run`'s admin.

    make create-admin STACK=boxoffice-prod [ADMIN_EMAIL=ops@example.com] [PROMOTE=1]
    PYTHONPATH=layers/shared:. .venv/bin/python -m scripts.create_admin --stack boxoffice-prod [--promote]

The region is your AWS configuration's (AWS_DEFAULT_REGION, AWS_PROFILE), as for `make deploy`;
only the direct call also takes --region.

It reads the table names from the stack's outputs and the bcrypt cost from its BcryptRounds
parameter (CloudFormation DescribeStacks), then calls devserver.seed.ensure_admin, which creates
the account with accounts.create_account: the email is claimed by a conditional write, so a second
run keeps the existing account and changes nothing. With --promote an existing account of that email
becomes an admin instead (accounts.change_role: its password stays, its older tokens stop working).
The password is ADMIN_PASSWORD when set, else typed in on a terminal, else generated and printed
once. Your usual AWS credentials are used; they need cloudformation:DescribeStacks,
dynamodb:PutItem and dynamodb:UpdateItem (the admin count) on the users table (dynamodb:GetItem too
for --promote), and with the stack's KmsKeyArn set the use of that key through DynamoDB
(docs/DEPLOY.md).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pydantic import ValidationError

from devserver.runtime import reset_caches
from devserver.seed import AdminLogin, ensure_admin

# Stack output -> the environment variable the shared package reads it from.
OUTPUTS = {
    "UsersTableName": "USERS_TABLE",
    "EventsTableName": "EVENTS_TABLE",
    "BookingsTableName": "BOOKINGS_TABLE",
    "TicketsTableName": "TICKETS_TABLE",
}


class StackError(Exception):
    """The stack is missing, not finished, or lacks an output this script needs."""


def stack_environment(cloudformation: Any, stack: str) -> dict[str, str]:
    """The settings the domain code needs to write to this stack's tables, as environment variables."""
    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise StackError(f"Cannot read stack {stack!r}: {error}") from error
    description = found[0]
    if not description["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in description["StackStatus"]:
        raise StackError(f"Stack {stack!r} is {description['StackStatus']}; deploy it first.")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in description.get("Parameters", [])}
    missing = sorted(set(OUTPUTS) - set(outputs))
    if missing:
        raise StackError(f"Stack {stack!r} has no output {', '.join(missing)}: is it a boxoffice stack?")
    if not parameters.get("BcryptRounds"):
        raise StackError(f"Stack {stack!r} has no BcryptRounds parameter: is it a boxoffice stack?")
    return {
        **{variable: outputs[key] for key, variable in OUTPUTS.items()},
        "BCRYPT_ROUNDS": parameters["BcryptRounds"],
        "STAGE": parameters.get("Stage", ""),
        "DYNAMODB_ENDPOINT_URL": "",  # the real DynamoDB of the stack's region
    }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """The shared package reads its settings from the environment once: set them, then put them back."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    reset_caches()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_caches()


def create_admin(
    stack: str, email: str, password: str | None, region: str | None = None, *, promote: bool = False
) -> AdminLogin:
    settings = stack_environment(boto3.client("cloudformation", region_name=region), stack)
    if region:
        settings["AWS_DEFAULT_REGION"] = region
    with environment(settings):
        return ensure_admin(email, password, promote=promote)


def _password() -> str | None:
    """ADMIN_PASSWORD, or typed twice on a terminal; None lets ensure_admin generate one."""
    if os.environ.get("ADMIN_PASSWORD"):
        return os.environ["ADMIN_PASSWORD"]
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("Admin password (empty to generate one): ")
    if first and getpass.getpass("Again: ") != first:
        raise SystemExit("The passwords differ; nothing was written.")
    return first or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create the first admin account of a deployed boxoffice stack.")
    parser.add_argument("--stack", required=True, help="CloudFormation stack name, e.g. boxoffice-prod")
    parser.add_argument("--email", default=os.environ.get("ADMIN_EMAIL") or "admin@example.com")
    parser.add_argument("--region", default=None, help="default: your AWS configuration's region")
    parser.add_argument("--promote", action="store_true", help="make an existing account with this email an admin")
    args = parser.parse_args(argv)
    try:
        admin = create_admin(args.stack, args.email, _password(), args.region, promote=args.promote)
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    except ValidationError as error:  # never echo the input: it may be the password
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))} {e['msg']}" for e in error.errors())
        print(f"Nothing was written: {problems}", file=sys.stderr)
        return 1
    if admin.promoted:
        print(f"{admin.email} is now an admin; its password is unchanged and its older tokens no longer work.")
    elif not admin.created and args.promote:
        print(f"{admin.email} is already an admin; nothing was changed.")
    elif not admin.created:
        print(f"{admin.email} already exists; nothing was changed (--promote makes an existing account an admin).")
    elif admin.generated:
        print(f"Created admin {admin.email} with password {admin.password}  (shown once: store it now)")
    else:
        print(f"Created admin {admin.email}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
