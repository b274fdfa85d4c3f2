"""Delete the function versions a deploy superseded (docs/DEPLOY.md, "After a deploy").

    make prune-versions STACK=boxoffice-prod [DRY_RUN=1]
    PYTHONPATH=. .venv/bin/python -m scripts.prune_versions --stack boxoffice-prod [--dry-run]

Each deploy publishes a new version of every function that changed and moves its `live` alias
there; SAM keeps the old version (its resource is retained). With SnapStart, Lambda keeps billing an
old version's snapshot until 14 days without a call, and every function has at most 75 GB of code
across its versions. This deletes, for each function of the stack, every numbered version that no
alias points at. Run it after a deploy that succeeded: the version the aliases point at now is what a
failed next deploy rolls back to, and it is kept. Your credentials need
cloudformation:ListStackResources, lambda:ListVersionsByFunction, lambda:ListAliases and
lambda:DeleteFunction on the stack's functions.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import boto3


def stack_functions(cloudformation: Any, stack: str) -> list[str]:
    """The physical names of the stack's Lambda functions."""
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
    return [
        resource["PhysicalResourceId"]
        for page in pages
        for resource in page["StackResourceSummaries"]
        if resource["ResourceType"] == "AWS::Lambda::Function"
    ]


def superseded(lambda_client: Any, function: str) -> list[str]:
    """The numbered versions of `function` that no alias points at ($LATEST is never one)."""
    aliased = set()
    for page in lambda_client.get_paginator("list_aliases").paginate(FunctionName=function):
        for alias in page["Aliases"]:
            aliased.add(alias["FunctionVersion"])
            aliased.update((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}))
    found = []
    for page in lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName=function):
        found += [v["Version"] for v in page["Versions"] if v["Version"] != "$LATEST" and v["Version"] not in aliased]
    return sorted(found, key=int)


def prune(cloudformation: Any, lambda_client: Any, stack: str, *, dry_run: bool = False) -> dict[str, list[str]]:
    """Delete (or only list, with dry_run) every superseded version of the stack's functions."""
    deleted = {}
    for function in stack_functions(cloudformation, stack):
        versions = superseded(lambda_client, function)
        for version in [] if dry_run else versions:
            lambda_client.delete_function(FunctionName=function, Qualifier=version)
        if versions:
            deleted[function] = versions
    return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the boxoffice stack's name")
    parser.add_argument("--dry-run", action="store_true", help="list the versions, delete nothing")
    args = parser.parse_args(argv)
    deleted = prune(boto3.client("cloudformation"), boto3.client("lambda"), args.stack, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    for function, versions in sorted(deleted.items()):
        print(f"{function}: {verb} versions {', '.join(versions)}")
    print(f"{verb} {sum(map(len, deleted.values()))} versions of {len(deleted)} functions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
