"""What CloudFormation deploys: template.yaml after the SAM transform (tests/support/sam.py)."""

from __future__ import annotations

from typing import Any

from tests.support import sam

FUNCTION = "AWS::Lambda::Function"
VERSION = "AWS::Lambda::Version"
ALIAS = "AWS::Lambda::Alias"
# CloudFormation's limit of resources in one stack.
STACK_RESOURCE_LIMIT = 500
# What lets a function write its log streams (SAM attaches it to every role it generates).
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def versions(document: dict[str, Any]) -> dict[str, str]:
    """Function logical id -> the logical id of the version its `live` alias points at."""
    found = {}
    for alias in sam.of_type(document, ALIAS).values():
        props = alias["Properties"]
        found[props["FunctionName"]["Ref"]] = props["FunctionVersion"]["Fn::GetAtt"][0]
    return found


def uses_layer(document: dict[str, Any], function: str, layer_prefix: str) -> bool:
    layers = document["Resources"][function]["Properties"].get("Layers", [])
    return any(str(layer.get("Ref", "")).startswith(layer_prefix) for layer in layers)


def test_a_change_to_the_shared_layer_alone_publishes_a_new_version_of_every_function() -> None:
    # All logic lives in layers/shared: a deploy that changes only it (a fix, a CVE bump) must reach `live`.
    before = sam.deployed()
    after = sam.transform(sam.packaged({"layers/shared": "another-hash"}))
    functions = sam.of_type(before, FUNCTION)
    assert functions
    assert all(uses_layer(before, name, "SharedLayer") for name in functions)
    old, new = versions(before), versions(after)
    assert set(old) == set(functions) == set(new), "every function is published behind its alias"
    unchanged = sorted(name for name in functions if old[name] == new[name])
    assert not unchanged, f"these would keep serving the old layer: {unchanged}"


def test_a_change_to_the_ticket_codes_layer_publishes_new_versions_of_the_functions_that_carry_it() -> None:
    before = sam.deployed()
    after = sam.transform(sam.packaged({"layers/ticket_codes": "another-hash"}))
    carriers = {name for name in sam.of_type(before, FUNCTION) if uses_layer(before, name, "TicketCodesLayer")}
    assert carriers
    old, new = versions(before), versions(after)
    assert {name for name in old if old[name] != new[name]} == carriers


def test_an_unchanged_build_publishes_no_new_version() -> None:
    # The other side of the two tests above: a deploy that changes nothing leaves every alias where it is.
    assert versions(sam.deployed()) == versions(sam.transform(sam.packaged()))


def test_stream_mappings_invoke_the_published_alias_not_latest() -> None:
    document = sam.deployed()
    aliases = sam.of_type(document, ALIAS)
    mappings = sam.of_type(document, "AWS::Lambda::EventSourceMapping")
    assert mappings
    for name, mapping in mappings.items():
        target = mapping["Properties"]["FunctionName"]
        assert target.get("Ref") in aliases, f"{name} invokes {target}, not an alias"


def test_the_stack_stays_well_under_cloudformations_resource_limit() -> None:
    # Every optional resource counts (conditions are not evaluated here): the largest stack this template makes.
    used = len(sam.deployed()["Resources"])
    functions = len(sam.of_type(sam.deployed(), FUNCTION))
    headroom = STACK_RESOURCE_LIMIT - used
    print(f"resources: {used} of {STACK_RESOURCE_LIMIT}; headroom {headroom} (~{used // functions} per function)")
    # A new route adds about 7 (function, role, version, alias, permission, errors alarm, ...; its logs go
    # to the one shared group): keep room for 20 more at 8 each before the stack must be split.
    assert headroom >= 20 * 8, f"{used} resources: split the stack before adding more functions"


def test_every_function_logs_to_one_shared_group_with_retention_that_its_role_may_write() -> None:
    # One log group for all functions, not one resource each: ~40 resources of headroom.
    document = sam.deployed()
    groups = sam.of_type(document, "AWS::Logs::LogGroup")
    names = [str(group["Properties"]["LogGroupName"]) for group in groups.values()]
    assert not [name for name in names if "/aws/lambda/" in name], "a per-function log group is back"
    shared = groups["FunctionLogs"]
    assert shared["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert (shared["DeletionPolicy"], shared["UpdateReplacePolicy"]) == ("Delete", "Delete")
    # Lambda refuses a custom group whose name starts with aws/.
    assert not shared["Properties"]["LogGroupName"]["Fn::Sub"].lstrip("/").startswith("aws/")
    for name, function in sam.of_type(document, FUNCTION).items():
        props = function["Properties"]
        assert props.get("LoggingConfig") == {"LogGroup": {"Ref": "FunctionLogs"}}, name
        # The managed policy grants logs:CreateLogStream and logs:PutLogEvents, which a custom group needs too.
        role = document["Resources"][props["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert BASIC_EXECUTION in role["ManagedPolicyArns"], name
