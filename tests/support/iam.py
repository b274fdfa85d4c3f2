"""Least privilege that is also sufficient: every AWS call a function's handler makes in the tests is
held against that function's inline policy in template.yaml, both ways.

moto enforces no IAM, and AWS authorises a TransactWriteItems by each action inside it and a Query on
an index by the index's ARN, so a missing grant would show only as AccessDenied once deployed. Every
call made while a handler runs (devserver.gateway.running_function) is mapped here to the actions and
resources AWS authorises it by, and
- refused at once, as AWS would refuse it (AccessDeniedException), when the function's policy lacks
  one: the test that made it then fails at teardown, naming the grant;
- recorded, with the partition keys and (for reads) the attributes each call names, so that after a
  run of the whole integration suite every grant of every function must have been needed by some call
  of that function, and every key pattern of a `dynamodb:LeadingKeys` condition matched by some key
  it touched: a grant or a pattern nothing needs is privilege nobody should hold.
Under pytest-xdist each worker writes what it recorded to a directory the controller reads at the end.

Policies, resource names and key schemas come from template.yaml, so a function added later is
covered without touching this file; a policy form it cannot read fails loudly instead of passing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.handlers import BUILTIN_HANDLERS

from devserver import template
from devserver.gateway import running_function

FUNCTION = "AWS::Serverless::Function"
INTEGRATION = template.ROOT / "tests" / "integration"
# Inside a transaction, each action is authorised as the single-item operation it performs.
_TRANSACT = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_LEADING_KEYS = "dynamodb:LeadingKeys"
_ATTRIBUTES = "dynamodb:Attributes"
_SELECT = "dynamodb:Select"
_FROM_ADDRESS = "ses:FromAddress"
_READS = {"GetItem", "Query", "Scan"}  # what a projection narrows (BatchGetItem: per table)
_STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}


@dataclass(frozen=True, order=True)
class Need:
    """One permission a call needs: an IAM action on a resource (its logical id, `/index/<name>` for an
    index, `*` for calls on no resource), the partition keys it touches, when the call names them, and
    the attributes a read asks for (its projection; None: every attribute)."""

    function: str
    action: str
    resource: str
    leading_keys: tuple[str, ...] | None = None
    attributes: tuple[str, ...] | None = None
    sender: str | None = None  # an SES send's From address (the template parameter that names it)

    def __str__(self) -> str:
        keys = f" (partition keys {', '.join(self.leading_keys)})" if self.leading_keys else ""
        read = f" (attributes {', '.join(self.attributes)})" if self.attributes else ""
        sender = f" (from {self.sender})" if self.sender else ""
        return f"{self.function}: {self.action} on {self.resource}{keys}{read}{sender}"


@dataclass(frozen=True)
class Grant:
    action: str
    resource: str  # logical, as Need.resource; may hold IAM wildcards
    leading_keys: tuple[str, ...] | None = None  # patterns a dynamodb:LeadingKeys condition allows
    # The attributes a dynamodb:Attributes condition allows; with it, dynamodb:Select must be
    # SPECIFIC_ATTRIBUTES (if present), so a read that projects nothing (every attribute) is refused.
    attributes: tuple[str, ...] | None = None
    sender: str | None = None  # the From address an ses:FromAddress condition requires

    def allows(self, need: Need) -> bool:
        if need.action != self.action or not fnmatchcase(need.resource, self.resource):
            return False
        if self.sender is not None and need.sender != self.sender:
            return False
        if self.attributes is not None and (
            need.attributes is None or not set(need.attributes) <= set(self.attributes)
        ):
            return False
        if self.leading_keys is None:
            return True
        return need.leading_keys is not None and all(
            any(fnmatchcase(key, pattern) for pattern in self.leading_keys) for key in need.leading_keys
        )

    def patterns(self) -> list[Grant]:
        """The grant as one grant per key pattern: each must be needed on its own."""
        if self.leading_keys is None:
            return [self]
        return [replace(self, leading_keys=(pattern,)) for pattern in self.leading_keys]

    def __str__(self) -> str:
        keys = f" if partition keys match {', '.join(self.leading_keys)}" if self.leading_keys else ""
        read = f" reading only {', '.join(self.attributes)}" if self.attributes is not None else ""
        return f"{self.action} on {self.resource}{keys}{read}"


class UnreadablePolicy(Exception):
    """A policy form this check does not understand: teach it, rather than skip the function."""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _logical_resource(resource: Any) -> str:
    if resource == "*":
        return "*"
    if isinstance(resource, dict) and "Ref" in resource:
        return str(resource["Ref"])
    if isinstance(resource, dict) and "Fn::GetAtt" in resource and resource["Fn::GetAtt"][1] == "Arn":
        return str(resource["Fn::GetAtt"][0])
    sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    found = re.fullmatch(r"\$\{(\w+)\.Arn\}(/.+)?", sub) if isinstance(sub, str) else None
    if found:
        return found.group(1) + (found.group(2) or "")
    ses = _ses_resource(resource)
    if ses is not None:
        return ses
    raise UnreadablePolicy(f"resource {resource!r}")


_SES_ARN = re.compile(r"arn:\$\{AWS::Partition\}:ses:\$\{AWS::Region\}:\$\{AWS::AccountId\}:([a-z-]+)/\$\{(\w+)\}")


def _ses_resource(resource: Any) -> str | None:
    """An SES identity or configuration set ARN as "ses:<kind>/<what names it>": the parameter or resource
    its `${...}` refers to, or "domain of <parameter>" for a domain taken from an address parameter."""
    sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    text, variables = (sub[0], sub[1]) if isinstance(sub, list) else (sub, {})
    found = _SES_ARN.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        return None
    kind, name = found.groups()
    value = variables.get(name)
    if value is None:
        return f"ses:{kind}/{name}"
    if value == {"Fn::Select": [1, {"Fn::Split": ["@", value["Fn::Select"][1]["Fn::Split"][1]]}]}:
        return f"ses:{kind}/domain of {value['Fn::Select'][1]['Fn::Split'][1]['Ref']}"
    raise UnreadablePolicy(f"resource {resource!r}")


def _sender(condition: Any) -> str | None:
    """The template parameter an ses:FromAddress condition requires the From address to be."""
    tests = (condition or {}).get("StringEquals", {})
    return str(tests[_FROM_ADDRESS]["Ref"]) if set(tests) == {_FROM_ADDRESS} else None


def _conditions(condition: Any) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """(key patterns of dynamodb:LeadingKeys, attributes of dynamodb:Attributes) a condition allows."""
    patterns: list[str] | None = None
    attributes: list[str] | None = None
    for operator, tests in (condition or {}).items():
        if operator == "StringEqualsIfExists" and tests == {_SELECT: "SPECIFIC_ATTRIBUTES"}:
            continue  # goes with dynamodb:Attributes (checked below)
        if operator == "StringEquals" and set(tests) == {_FROM_ADDRESS}:
            continue  # the sender (_sender)
        if operator not in ("ForAllValues:StringLike", "ForAllValues:StringEquals") or not set(tests) <= {
            _LEADING_KEYS,
            _ATTRIBUTES,
        }:
            raise UnreadablePolicy(f"condition {operator} {tests!r}")
        literal = operator.endswith("StringEquals")
        if _LEADING_KEYS in tests:
            # StringEquals is literal: bracket the characters fnmatch would read as wildcards.
            values = _as_list(tests[_LEADING_KEYS])
            patterns = (patterns or []) + [re.sub(r"([*?\[])", r"[\1]", v) if literal else v for v in values]
        if _ATTRIBUTES in tests:
            if not literal:
                raise UnreadablePolicy(f"condition {operator} on {_ATTRIBUTES}: name the attributes")
            attributes = (attributes or []) + _as_list(tests[_ATTRIBUTES])
    if attributes is not None and (condition or {}).get("StringEqualsIfExists") != {_SELECT: "SPECIFIC_ATTRIBUTES"}:
        # Without it, a read that projects nothing is allowed and returns every attribute.
        raise UnreadablePolicy(f"{_ATTRIBUTES} without {_SELECT} SPECIFIC_ATTRIBUTES")
    return (tuple(patterns) if patterns is not None else None), (tuple(attributes) if attributes is not None else None)


def _statements(function: str, policy: Any) -> list[dict[str, Any]]:
    """An inline policy's statements, or those of the stack's managed policy that an `!If` attaches."""
    if isinstance(policy, dict) and set(policy) == {"Statement"}:
        return list(policy["Statement"])
    chosen = policy.get("Fn::If", [None, None, None])[1] if isinstance(policy, dict) else None
    managed = template.load()["Resources"].get(chosen.get("Ref")) if isinstance(chosen, dict) else None
    if managed is None or managed["Type"] != "AWS::IAM::ManagedPolicy":
        raise UnreadablePolicy(f"{function}: policy {policy!r}")
    return list(managed["Properties"]["PolicyDocument"]["Statement"])


def _for_a_service(statement: dict[str, Any]) -> bool:
    """A grant only a service uses on the function's behalf (kms:ViaService): no call of the function's
    own needs it, so this check cannot see it used."""
    condition = statement.get("Condition") or {}
    return bool(condition) and all(set(tests) == {"kms:ViaService"} for tests in condition.values())


def _mapped(function: str) -> tuple[list[Any], list[Any]]:
    """The streams `function`'s event source mappings read, and where they send a batch they give up on."""
    sources, destinations = [], []
    for mapping in template.resources("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        if props["FunctionName"] == {"Ref": f"{function}.Alias"}:  # the published `live` version
            sources.append(props["EventSourceArn"])
            destinations += [props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")]
    return sources, [d for d in destinations if d is not None]


def _for_its_mappings(function: str, statement: dict[str, Any]) -> bool:
    """A grant Lambda uses with the function's role to run its event source mappings (read the streams,
    record a batch given up on): no call of the function's own needs it, so this check cannot see it
    used. Only the mapped streams and their on-failure destinations qualify."""
    sources, destinations = _mapped(function)
    actions, resources = set(_as_list(statement["Action"])), _as_list(statement["Resource"])
    if actions <= _STREAM_READS:
        return all(resource in sources for resource in resources)
    if actions == {"s3:ListBucket"}:  # what Lambda needs beside PutObject to keep a batch in a bucket
        return all(resource in destinations for resource in resources)
    objects = [{"Fn::Sub": f"${{{d['Fn::GetAtt'][0]}.Arn}}/*"} for d in destinations]
    return actions == {"s3:PutObject"} and all(resource in objects for resource in resources)


@cache
def grants(function: str) -> tuple[Grant, ...]:
    """What `function`'s policies in template.yaml allow, one action on one resource at a time."""
    found: list[Grant] = []
    for policy in template.resources(FUNCTION)[function]["Properties"].get("Policies", []):
        for statement in _statements(function, policy):
            if statement.get("Effect") != "Allow" or set(statement) - {"Effect", "Action", "Resource", "Condition"}:
                raise UnreadablePolicy(f"{function}: statement {statement!r}")
            if _for_a_service(statement) or _for_its_mappings(function, statement):
                continue
            keys, attributes = _conditions(statement.get("Condition"))
            sender = _sender(statement.get("Condition"))
            for action in _as_list(statement["Action"]):
                found += [
                    Grant(action, _logical_resource(r), keys, attributes, sender)
                    for r in _as_list(statement["Resource"])
                ]
    return tuple(found)


def allowed(need: Need) -> bool:
    return any(grant.allows(need) for grant in grants(need.function))


# --- what a call needs ---


def _physical_to_logical(function: str) -> dict[str, str]:
    """The names the handlers see in their environment (table names, secret ARNs) -> the logical ids
    the template's `!Ref`s give them."""
    variables = {
        **template.load().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}),
        **template.resources(FUNCTION)[function]["Properties"].get("Environment", {}).get("Variables", {}),
    }
    names = {}
    for variable, value in variables.items():
        physical = os.environ.get(variable)
        if physical and isinstance(value, dict) and "Ref" in value:
            names[physical] = value["Ref"]
    return names


def _hash_attribute(table: str, index: str | None) -> str | None:
    props = template.tables().get(table)
    if props is None:
        return None
    schema = props["KeySchema"]
    if index is not None:
        indexes = props.get("GlobalSecondaryIndexes", []) + props.get("LocalSecondaryIndexes", [])
        schema = next((i["KeySchema"] for i in indexes if i["IndexName"] == index), [])
    return next((k["AttributeName"] for k in schema if k["KeyType"] == "HASH"), None)


def _scalar(value: Mapping[str, Any]) -> str:
    (wire,) = value.values()
    return str(wire)


def _key_values(hash_attribute: str | None, items: Iterable[Mapping[str, Any] | None]) -> tuple[str, ...] | None:
    """The partition key values of keys or items in DynamoDB's wire format."""
    values = []
    for item in items:
        if hash_attribute is None or item is None or hash_attribute not in item:
            return None
        values.append(_scalar(item[hash_attribute]))
    return tuple(sorted(set(values)))


def _queried_key(hash_attribute: str | None, params: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The partition key value of a Query (`#h = :h` or `pk = :pk` in its key condition)."""
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    for name, value in re.findall(r"([#\w]+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", "")):
        if names.get(name, name) == hash_attribute and value in values:
            return (_scalar(values[value]),)
    return None


def _projected(request: Mapping[str, Any], names: Mapping[str, str]) -> tuple[str, ...] | None:
    """The top-level attributes a read's ProjectionExpression names (None: no projection, all of them)."""
    expression = request.get("ProjectionExpression")
    if expression is None:
        return None
    paths = [path.strip() for path in expression.split(",")]
    return tuple(sorted({names.get(top, top) for top in (re.split(r"[.\[]", path)[0] for path in paths)}))


@dataclass(frozen=True)
class _Touch:
    """One table (or index) a DynamoDB call touches, with the keys or items it names."""

    action: str
    table: str
    index: str | None = None
    keys: tuple[Mapping[str, Any] | None, ...] | None = None  # None: keys from the key condition, or none
    attributes: tuple[str, ...] | None = None  # what a read projects; None: every attribute (or a write)


def _dynamodb(operation: str, params: Mapping[str, Any]) -> list[_Touch]:
    if "TransactItems" in params:
        touches = []
        for entry in params["TransactItems"]:
            ((kind, body),) = entry.items()
            touches.append(
                _Touch(f"dynamodb:{_TRANSACT[kind]}", body["TableName"], keys=(body.get("Key", body.get("Item")),))
            )
        return touches
    if "RequestItems" in params:  # BatchGetItem {table: {"Keys": [...]}}; BatchWriteItem {table: [requests]}
        touches = []
        for table, requests in params["RequestItems"].items():
            if isinstance(requests, dict):
                names = requests.get("ExpressionAttributeNames", {})
                touches.append(
                    _Touch(f"dynamodb:{operation}", table, None, tuple(requests["Keys"]), _projected(requests, names))
                )
                continue
            keys = tuple(r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key") for r in requests)
            touches.append(_Touch(f"dynamodb:{operation}", table, keys=keys))
        return touches
    if "TableName" in params:
        key = params.get("Key", params.get("Item"))
        read = _projected(params, params.get("ExpressionAttributeNames", {})) if operation in _READS else None
        return [
            _Touch(f"dynamodb:{operation}", params["TableName"], params.get("IndexName"), (key,) if key else None, read)
        ]
    return [_Touch(f"dynamodb:{operation}", "*")]


def needs(function: str, service: str, operation: str, params: Mapping[str, Any]) -> list[Need]:
    """What AWS authorises one call of `function` by: one Need per action and resource."""
    logical = _physical_to_logical(function)
    if service == "events":  # PutEvents: each bus its entries name
        buses = sorted({entry.get("EventBusName", "default") for entry in params.get("Entries", [])})
        return [Need(function, f"events:{operation}", logical.get(bus, f"?{bus}")) for bus in buses]
    if service == "ses":  # SendEmail: the sender's identity and the configuration set, if one is named
        return _ses(function, operation, params, logical)
    if service != "dynamodb":
        resource = params.get("SecretId") if service == "secretsmanager" else None
        named = logical.get(resource, f"?{resource}") if resource else "*"
        return [Need(function, f"{service}:{operation}", named)]
    found = []
    for touch in _dynamodb(operation, params):
        if touch.table == "*":
            found.append(Need(function, touch.action, "*"))
            continue
        table = logical.get(touch.table, f"?{touch.table}")  # not one of the stack's: never granted
        attribute = _hash_attribute(table, touch.index)
        keys = _key_values(attribute, touch.keys) if touch.keys is not None else _queried_key(attribute, params)
        resource = f"{table}/index/{touch.index}" if touch.index else table
        found.append(Need(function, touch.action, resource, keys, touch.attributes))
    return found


def _ses(function: str, operation: str, params: Mapping[str, Any], logical: Mapping[str, str]) -> list[Need]:
    """SES authorises a send by the identity it sends as: the From address's own when that address is
    verified, else its domain's; so a function that sends from a parameter's address needs both (which
    one a deployment uses is the operator's choice: docs/DEPLOY.md)."""
    sender = logical.get(params["FromEmailAddress"], f"?{params['FromEmailAddress']}")
    resources = [f"ses:identity/{sender}", f"ses:identity/domain of {sender}"]
    if params.get("ConfigurationSetName"):
        named = params["ConfigurationSetName"]
        resources.append(f"ses:configuration-set/{logical.get(named, f'?{named}')}")
    return [Need(function, f"ses:{operation}", resource, sender=sender) for resource in resources]


def unused(recorded: Iterable[Need]) -> dict[str, list[Grant]]:
    """Each function's grants that no recorded call needed (a function with grants and no calls: all of
    them), a grant with key patterns reported by the patterns no key of its recorded calls matched."""
    by_function: dict[str, list[Need]] = {}
    for need in recorded:
        by_function.setdefault(need.function, []).append(need)
    found = {}
    for function in template.resources(FUNCTION):
        needed = by_function.get(function, [])
        idle = [
            narrow
            for grant in grants(function)
            for narrow in grant.patterns()
            if not any(grant.allows(n) and _matches_some_key(narrow, n) for n in needed)
        ]
        if idle:
            found[function] = idle
    return found


def _matches_some_key(narrow: Grant, need: Need) -> bool:
    if narrow.leading_keys is None:
        return True
    (pattern,) = narrow.leading_keys
    return any(fnmatchcase(key, pattern) for key in need.leading_keys or ())


# --- recording during the run ---

_recorded: dict[Need, str] = {}  # need -> the first test that made it
_denied: list[tuple[Need, str]] = []


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]


def _on_call(params: dict[str, Any], model: Any, **_: Any) -> None:
    """botocore's provide-client-params hook, on every client: record, and refuse what IAM would."""
    function = running_function.get()
    if function is None:  # the test's own setup and checks, not a function
        return
    for need in needs(function, model.service_model.signing_name, model.name, params):
        _recorded.setdefault(need, _current_test())
        if not allowed(need):
            _denied.append((need, _current_test()))
            message = f"not authorized to perform {need.action} on {need.resource} (template.yaml)"
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, model.name)


# Every botocore session registers the built-in handlers when it is made, so every client made from
# here on (boxoffice's DynamoDB client, Powertools' Secrets Manager provider) calls _on_call.
BUILTIN_HANDLERS.append(("provide-client-params", _on_call))
if boto3.DEFAULT_SESSION is not None:
    boto3.DEFAULT_SESSION.events.register("provide-client-params", _on_call)


@pytest.fixture(autouse=True)
def _calls_are_granted(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test that made a call its function's policy does not allow."""
    start = len(_denied)
    yield
    denied = [str(need) for need, _ in _denied[start:]]
    assert not denied, "AWS would deny (AccessDenied), template.yaml grants no:\n  " + "\n  ".join(denied)


# --- the check over the whole run ---

_DIRECTORY = pytest.StashKey[Path]()
_COLLECTED = pytest.StashKey[set[str]]()
_REPORT = pytest.StashKey[list[str]]()


def _flush(config: pytest.Config) -> None:
    rows = [
        [n.function, n.action, n.resource, n.leading_keys, n.attributes, n.sender, test]
        for n, test in sorted(_recorded.items(), key=lambda row: repr(row[0]))
    ]
    (config.stash[_DIRECTORY] / f"calls-{os.getpid()}.json").write_text(json.dumps(rows))


def _read_all(directory: Path) -> dict[Need, str]:
    found: dict[Need, str] = {}
    for path in sorted(directory.glob("calls-*.json")):
        for function, action, resource, keys, attributes, sender, test in json.loads(path.read_text()):
            as_tuple = (tuple(v) if v is not None else None for v in (keys, attributes))
            found.setdefault(Need(function, action, resource, *as_tuple, sender=sender), test)
    return found


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    directory = workerinput["iam_calls"] if workerinput else tempfile.mkdtemp(prefix="iam-calls-")
    config.stash[_DIRECTORY] = Path(directory)
    config.stash[_COLLECTED] = set()
    config.stash[_REPORT] = []


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist's controller: each worker writes its calls where the controller reads them at the end."""
    node.workerinput["iam_calls"] = str(node.config.stash[_DIRECTORY])


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[_COLLECTED].update(item.nodeid for item in session.items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    node.config.stash[_COLLECTED].update(ids)


def _whole_integration_suite(config: pytest.Config) -> bool:
    files = {nodeid.split("::", 1)[0] for nodeid in config.stash[_COLLECTED]}
    wanted = {p.relative_to(config.rootpath).as_posix() for p in INTEGRATION.glob("test_*.py")}
    narrowed = config.option.keyword or config.option.markexpr or config.getoption("deselect", None)
    return wanted <= files and not narrowed and not config.getoption("lf", False)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    _flush(config)
    if hasattr(config, "workerinput"):
        return
    recorded = _read_all(config.stash[_DIRECTORY])
    shutil.rmtree(config.stash[_DIRECTORY], ignore_errors=True)
    report = config.stash[_REPORT]
    if exitstatus != pytest.ExitCode.OK or not _whole_integration_suite(config):
        report.append("IAM grants: usage not checked (not a passing run of the whole integration suite)")
        return
    idle = unused(recorded)
    if not idle:
        count = sum(len(grants(f)) for f in template.resources(FUNCTION))
        report.append(f"IAM grants: all {count} grants of template.yaml were needed by some test's calls")
        return
    report.append("IAM grants that no test's call needed (remove them, or test what needs them):")
    for function, idle_grants in idle.items():
        called = "" if any(n.function == function for n in recorded) else " (no recorded call at all)"
        report += [f"  {function}{called}: {grant}" for grant in idle_grants]
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for line in config.stash.get(_REPORT, []):
        terminalreporter.write_line(line)
