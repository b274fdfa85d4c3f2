"""template.yaml stays production-grade: least privilege, logs with retention, alarms per function, safe tables."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from devserver import streams, template

FUNCTION = "AWS::Serverless::Function"
# What a request path may do to DynamoDB: keyed reads and writes, never Scan or table management.
DYNAMODB_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
}
# What Lambda does with a stream consumer's role to read its mapped streams (on those streams only).
STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
API_GATEWAY_TIMEOUT = 30
TABLES_KEY_ACCESS = {"Fn::If": ["UseCustomerKey", {"Ref": "TablesKeyAccess"}, {"Ref": "AWS::NoValue"}]}
NOTIFY_TOPIC = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def resources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.load()["Resources"]
    return found


def functions() -> dict[str, dict[str, Any]]:
    return template.resources(FUNCTION)


def statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in function["Properties"].get("Policies", []):
        found += policy.get("Statement", []) if isinstance(policy, dict) else []
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def handler_source(function: dict[str, Any]) -> str:
    return (template.ROOT / function["Properties"]["CodeUri"] / "app.py").read_text()


def verifies_or_issues_tokens(function: dict[str, Any]) -> bool:
    """Handlers that take the caller (CurrentPrincipal/AdminPrincipal/StaffPrincipal), and login, which signs tokens."""
    source = handler_source(function)
    takes_caller = re.search(r"\b(CurrentPrincipal|AdminPrincipal|StaffPrincipal)\b", source)
    return bool(takes_caller) or "accounts.login" in source


def mappings_of(name: str) -> list[dict[str, Any]]:
    """The properties of the event source mappings that invoke function `name`."""
    mappings = template.resources("AWS::Lambda::EventSourceMapping").values()
    return [m["Properties"] for m in mappings if m["Properties"]["FunctionName"] == {"Ref": f"{name}.Alias"}]


def objects_of_failure_buckets(name: str) -> list[dict[str, str]]:
    """`<bucket ARN>/*` of each S3 bucket where function `name`'s stream mappings keep what they give up on."""
    destinations = [
        m.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", {}) for m in mappings_of(name)
    ]
    buckets = [d["Fn::GetAtt"][0] for d in destinations if resources()[d["Fn::GetAtt"][0]]["Type"] == "AWS::S3::Bucket"]
    return [{"Fn::Sub": f"${{{bucket}.Arn}}/*"} for bucket in buckets]


def by_function() -> list[Any]:
    return [pytest.param(name, res, id=name) for name, res in functions().items()]


def test_the_template_has_functions_to_check() -> None:
    assert {"RegisterFunction", "LoginFunction", "GetMeFunction", "UpdateMeFunction"} <= set(functions())


@pytest.mark.parametrize(("name", "function"), by_function())
def test_policies_are_inline_statements_never_managed_or_sam_policy_templates(
    name: str, function: dict[str, Any]
) -> None:
    for policy in function["Properties"].get("Policies", []):
        if policy == TABLES_KEY_ACCESS:  # the stack's own managed policy, for the optional KMS key
            continue
        # "AmazonDynamoDBFullAccess", {"DynamoDBCrudPolicy": ...}, {"DynamoDBReadPolicy": ...} all grant too much.
        assert isinstance(policy, dict), f"{name}: managed policy {policy}"
        assert set(policy) == {"Statement"}, f"{name}: {policy}"
    assert "Role" not in function["Properties"], f"{name}: a shared role hides what the function may do"


@pytest.mark.parametrize(("name", "function"), by_function())
def test_no_wildcard_actions_or_resources(name: str, function: dict[str, Any]) -> None:
    for statement in statements(function):
        assert statement["Effect"] == "Allow", f"{name}: {statement}"
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name}: wildcard action {action}"
        for resource in as_list(statement["Resource"]):
            if resource in objects_of_failure_buckets(name):  # Lambda names the objects it keeps there
                continue
            assert "*" not in str(resource), f"{name}: wildcard resource {resource}"
            # Intrinsics only: a literal ARN would hard-code an account and region.
            assert isinstance(resource, dict), f"{name}: literal resource {resource}"


@pytest.mark.parametrize(("name", "function"), by_function())
def test_dynamodb_grants_are_keyed_operations_on_the_stacks_own_tables_and_indexes(
    name: str, function: dict[str, Any]
) -> None:
    tables = template.tables()
    for statement in statements(function):
        actions = as_list(statement["Action"])
        if not any(a.startswith("dynamodb:") for a in actions):
            continue
        if set(actions) <= STREAM_READS:
            streams = [m["EventSourceArn"] for m in mappings_of(name)]
            for resource in as_list(statement["Resource"]):
                assert resource in streams, f"{name}: {resource} is not a stream its event source mappings read"
            continue
        assert set(actions) <= DYNAMODB_ACTIONS, f"{name}: {sorted(set(actions) - DYNAMODB_ACTIONS)}"
        for resource in as_list(statement["Resource"]):
            if "Fn::GetAtt" in resource:
                table, attribute = resource["Fn::GetAtt"]
                assert table in tables, f"{name}: {resource} is not one of the stack's tables"
                assert attribute == "Arn", f"{name}: {resource}"
                continue
            found = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/(\w+)", resource.get("Fn::Sub", ""))
            assert found, f"{name}: {resource} is neither a table ARN nor one index's ARN"
            table, index = found.groups()
            indexes = {i["IndexName"] for i in tables[table].get("GlobalSecondaryIndexes", [])}
            assert index in indexes, f"{name}: {table} has no index {index}"


@pytest.mark.parametrize(("name", "function"), by_function())
def test_functions_that_use_the_tables_may_use_their_customer_managed_key(name: str, function: dict[str, Any]) -> None:
    # With KmsKeyArn set, DynamoDB refuses every call of a role that may not use the key.
    uses_tables = any(a.startswith("dynamodb:") for s in statements(function) for a in as_list(s["Action"]))
    attached = TABLES_KEY_ACCESS in function["Properties"].get("Policies", [])
    assert attached == uses_tables, f"{name}: attach TablesKeyAccess exactly when the function uses DynamoDB"


def test_the_tables_key_is_usable_through_dynamodb_only_and_only_when_given() -> None:
    policy = resources()["TablesKeyAccess"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert policy["Condition"] == "UseCustomerKey"
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"}
    assert statement["Resource"] == {"Ref": "KmsKeyArn"}
    via = statement["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}


@pytest.mark.parametrize(
    ("arn", "accepted"),
    [
        ("", True),
        ("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", True),
        ("arn:aws:kms:eu-west-1:111122223333:alias/tables", False),  # DynamoDB needs the key itself
        ("1234abcd-12ab-34cd-56ef-1234567890ab", False),  # the IAM grant needs the whole ARN
    ],
)
def test_the_kms_key_parameter_takes_single_and_multi_region_key_arns(arn: str, accepted: bool) -> None:
    pattern = template.load()["Parameters"]["KmsKeyArn"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, arn)) == accepted


# bcrypt at cost 12 takes 0.64 s on one full vCPU (docs/DEPLOY.md), and Lambda gives one vCPU per
# 1,769 MB. A password change checks the old password and hashes the new one.
BCRYPT_COST_12_SECONDS, FULL_VCPU_MB, BCRYPT_RUNS = 0.64, 1769, 2
BCRYPT_ROUTES = {("POST", "/auth/register"), ("POST", "/auth/login"), ("PATCH", "/users/me")}


def test_the_highest_bcrypt_cost_allowed_fits_in_half_of_each_hashing_functions_timeout() -> None:
    highest = template.load()["Parameters"]["BcryptRounds"]["MaxValue"]
    globals_ = template.load()["Globals"]["Function"]
    hashing = {r.function for r in template.routes() if (r.method, r.path) in BCRYPT_ROUTES}
    assert len(hashing) == len(BCRYPT_ROUTES)
    for name in hashing:
        props = functions()[name]["Properties"]
        memory, timeout = props.get("MemorySize", globals_["MemorySize"]), props.get("Timeout", globals_["Timeout"])
        seconds = BCRYPT_RUNS * BCRYPT_COST_12_SECONDS * 2 ** (highest - 12) * FULL_VCPU_MB / memory
        # Half: the rest is for DynamoDB, cold start, and Graviton cores slower than the x86 measured.
        assert seconds <= timeout / 2, f"{name}: cost {highest} takes ~{seconds:.1f} s of its {timeout} s"


# Who may read which secret besides the JWT secret (which every function that takes a caller or signs
# tokens reads): the private ticket keys only where codes are signed, their public half where they are
# verified or published, the cursor key where pages are listed.
SIGNERS = {"CreateBookingFunction", "ConfirmHoldFunction"}
SECRET_READERS = {
    "TicketSigningKeys": SIGNERS,
    "TicketPublicKeys": {"CheckInFunction", "JwksFunction"},
    "CursorKey": {"ListEventsFunction", "ListBookingsFunction", "ListTicketsFunction", "ListWaitingListFunction"},
}


def readable_secrets(function: dict[str, Any]) -> set[str]:
    grants = [s for s in statements(function) if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
    for grant in grants:
        assert as_list(grant["Action"]) == ["secretsmanager:GetSecretValue"], grant
    return {resource["Ref"] for grant in grants for resource in as_list(grant["Resource"])}


@pytest.mark.parametrize(("name", "function"), by_function())
def test_functions_read_the_secrets_they_use_and_nothing_else(name: str, function: dict[str, Any]) -> None:
    expected = {secret for secret, readers in SECRET_READERS.items() if name in readers}
    if verifies_or_issues_tokens(function):
        expected.add("JwtSecret")
    assert readable_secrets(function) == expected


def test_the_public_listing_holds_no_signing_secret() -> None:
    assert readable_secrets(functions()["ListEventsFunction"]) == {"CursorKey"}


def test_only_the_signing_functions_roles_and_the_named_admins_may_read_the_private_ticket_keys() -> None:
    policies = [r["Properties"] for r in template.resources("AWS::SecretsManager::ResourcePolicy").values()]
    (policy,) = [p for p in policies if p["SecretId"] == {"Ref": "TicketSigningKeys"}]
    assert policy["BlockPublicPolicy"] is True
    (statement,) = policy["ResourcePolicy"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
        "Deny",
        "*",
        "secretsmanager:GetSecretValue",
    )
    delimiter, listed = statement["Condition"]["StringNotEquals"]["aws:PrincipalArn"]["Fn::Split"]
    roles = {name[2:-5] for name in re.findall(r"\$\{\w+\.Arn\}", listed["Fn::Sub"])}
    assert roles == {f"{name}Role" for name in SIGNERS}
    assert listed["Fn::Sub"].split(delimiter)[-1] == "${TicketKeyAdmins}"


@pytest.mark.parametrize(("name", "initial"), [("TicketSigningKeys", "{}"), ("TicketPublicKeys", '{"keys": []}')])
def test_the_ticket_keys_are_retained_and_never_generated_by_the_stack(name: str, initial: str) -> None:
    # A generated value is generated again when its settings change, and a SecretString edited here
    # is written over the ring: either replaces the keys every issued code was signed with.
    secret = resources()[name]
    assert (secret["DeletionPolicy"], secret["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert "GenerateSecretString" not in secret["Properties"]
    assert secret["Properties"]["SecretString"] == initial


@pytest.mark.parametrize(("name", "function"), by_function())
def test_timeouts_stay_below_api_gateways_limit(name: str, function: dict[str, Any]) -> None:
    timeout = function["Properties"].get("Timeout", template.load()["Globals"]["Function"]["Timeout"])
    if name == "SendMailFunction":  # invoked by the bus, asynchronously: no API Gateway waits for it
        return
    assert timeout < API_GATEWAY_TIMEOUT, f"{name}: {timeout} s; API Gateway gives up at {API_GATEWAY_TIMEOUT} s"


@pytest.mark.parametrize(("name", "function"), by_function())
def test_each_function_has_an_errors_alarm(name: str, function: dict[str, Any]) -> None:
    alarms = [
        alarm["Properties"]
        for alarm in template.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "Errors"
        and {"Name": "FunctionName", "Value": {"Ref": name}} in alarm["Properties"].get("Dimensions", [])
    ]
    assert alarms, f"{name} has no alarm on its Lambda Errors metric"


def test_functions_run_on_arm64_python_3_13() -> None:
    globals_ = template.load()["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    for name, function in functions().items():
        assert "Runtime" not in function["Properties"], name
        assert "Architectures" not in function["Properties"], name


def stream_mappings() -> list[dict[str, Any]]:
    return [m["Properties"] for m in template.resources("AWS::Lambda::EventSourceMapping").values()]


def test_stream_consumers_are_explicit_mappings_that_resume_at_a_failure_and_keep_what_they_give_up() -> None:
    # SAM's `Type: DynamoDB` event attaches AWSLambdaDynamoDBExecutionRole (stream actions on "*").
    for name, function in functions().items():
        kinds = {event["Type"] for event in function["Properties"].get("Events", {}).values()}
        assert "DynamoDB" not in kinds, name
    assert stream_mappings()
    for mapping in stream_mappings():
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        table = mapping["EventSourceArn"]["Fn::GetAtt"][0]
        # The mapping reads both images: a domain event is a transition (CONFIRMED -> CANCELLED, ...).
        assert template.tables()[table]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_a_failing_record_is_isolated_and_retried_for_hours_never_discarding_its_healthy_neighbours() -> None:
    for mapping in stream_mappings():
        # Split a failing batch until the bad record is alone: the records beside it are published meanwhile.
        assert mapping["BisectBatchOnFunctionError"] is True
        # Retries are bounded by age, not count: an EventBridge outage of an hour is waited out, and a
        # record is given up on well inside the stream's 24 hours, so it can still be read there too.
        assert mapping["MaximumRetryAttempts"] == -1
        assert 3600 <= mapping["MaximumRecordAgeInSeconds"] <= 12 * 3600


def test_what_the_streams_give_up_on_is_kept_whole_and_announced_on_a_queue_an_alarm_watches() -> None:
    for mapping in stream_mappings():
        bucket = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        # An S3 destination receives the batch's records themselves; SQS and SNS only their positions.
        assert resources()[bucket]["Type"] == "AWS::S3::Bucket"
        queues = [
            q["Queue"] for q in resources()[bucket]["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
        ]
        assert queues == [{"Fn::GetAtt": ["DomainEventsDeadLetters", "Arn"]}]
    [alarm] = [
        a["Properties"]
        for a in template.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DomainEventsDeadLetters", "QueueName"]}}]
    ]
    # SQS stops sending metrics for a queue idle for 6 hours: missing data must keep an ALARM an ALARM.
    assert (alarm["MetricName"], alarm["TreatMissingData"]) == ("ApproximateNumberOfMessagesVisible", "ignore")


def stream_record(event_name: str, sk: str) -> dict[str, Any]:
    return {"eventName": event_name, "dynamodb": {"Keys": {"pk": {"S": "USER#u"}, "sk": {"S": sk}}}}


# Which changes can be a domain event (docs/events.md), by the item key shapes of docs/data-model.md.
PUBLISHED_CHANGES = {
    "BookingsTable": [("INSERT", "BOOKING#b"), ("MODIFY", "BOOKING#b"), ("INSERT", "HOLD#h"), ("MODIFY", "HOLD#h")],
    "TicketsTable": [("MODIFY", "TICKET#7KQ4")],
}
SILENT_CHANGES = {
    "BookingsTable": [
        ("INSERT", "HOLDING#e"),
        ("MODIFY", "HOLDING#e"),
        ("INSERT", "IDEMPOTENCY#k"),
        ("REMOVE", "IDEMPOTENCY#k"),
        ("MODIFY", "WAITING#e"),
        ("INSERT", "BENCH#x"),
    ],
    "TicketsTable": [("INSERT", "TICKET#7KQ4"), ("MODIFY", "CHECKINS#3"), ("INSERT", "CHECKINS#3")],
}


@pytest.mark.parametrize("table", sorted(PUBLISHED_CHANGES))
def test_only_changes_that_can_be_domain_events_invoke_the_publisher(table: str) -> None:
    [mapping] = [m for m in streams.stream_mappings() if m.table == table]
    assert mapping.filters, f"{table}: every holding, key and counter change would invoke the publisher"
    for event_name, sk in PUBLISHED_CHANGES[table]:
        assert mapping.accepts(stream_record(event_name, sk)), (event_name, sk)
    for event_name, sk in SILENT_CHANGES[table]:
        assert not mapping.accepts(stream_record(event_name, sk)), (event_name, sk)


@pytest.mark.parametrize(
    "pattern", [{"sk": [{"anything-but": "x"}]}, {"sk": "BOOKING#"}, {"sk": [{"prefix": "A", "suffix": "B"}]}]
)
def test_the_local_runtime_refuses_filter_patterns_it_cannot_evaluate_rather_than_guess(pattern: Any) -> None:
    with pytest.raises(ValueError, match="unsupported filter pattern"):
        streams.matches(pattern, {"sk": "BOOKING#1"})


def test_stream_reads_grant_no_list_streams_which_takes_no_stream_arn() -> None:
    # dynamodb:ListStreams has no resource-level permission: granted on a stream ARN it allows nothing.
    for name, function in functions().items():
        for statement in statements(function):
            assert "dynamodb:ListStreams" not in as_list(statement["Action"]), name


def test_only_stream_consumers_publish_domain_events_so_no_request_writes_twice() -> None:
    buses = set(template.resources("AWS::Events::EventBus"))
    assert buses
    for name, function in functions().items():
        puts = [s for s in statements(function) if any(a.startswith("events:") for a in as_list(s["Action"]))]
        if not puts:
            continue
        routes = [e for e in function["Properties"].get("Events", {}).values() if e["Type"] == "HttpApi"]
        assert not routes, f"{name} publishes on a request path"
        assert mappings_of(name), f"{name} publishes but no stream feeds it"
        for statement in puts:
            assert as_list(statement["Action"]) == ["events:PutEvents"], name
            for resource in as_list(statement["Resource"]):
                bus, attribute = resource["Fn::GetAtt"]
                assert (bus in buses, attribute) == (True, "Arn"), f"{name} may publish to {resource}"


@pytest.mark.parametrize("name", sorted(template.tables()))
def test_tables_are_retained_recoverable_on_demand_and_encrypted(name: str) -> None:
    table = resources()[name]
    props = table["Properties"]
    assert table.get("DeletionPolicy") == "Retain", name
    assert table.get("UpdateReplacePolicy") == "Retain", name
    assert props["BillingMode"] == "PAY_PER_REQUEST", name
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
    # AWS-owned key unless KmsKeyArn is given, then that customer-managed key.
    sse = props["SSESpecification"]["Fn::If"]
    assert sse[0] == "UseCustomerKey", name
    assert sse[1] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "KmsKeyArn"}}, name
    assert sse[2] == {"SSEEnabled": False}, name


def test_api_access_logs_go_to_a_log_group_with_retention_and_carry_no_headers() -> None:
    api = resources()["HttpApi"]["Properties"]
    settings = api["AccessLogSettings"]
    group = settings["DestinationArn"]["Fn::GetAtt"][0]
    assert resources()[group]["Properties"]["RetentionInDays"]
    log_format = settings["Format"].lower()
    for leak in ("header", "authorization", "$request", "$input", "querystring"):
        assert leak not in log_format, leak


def test_api_throttles_and_allows_no_cross_origin_calls_unless_configured() -> None:
    api = resources()["HttpApi"]["Properties"]
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    cors = api["CorsConfiguration"]["Fn::If"]
    assert cors[0] == "HasCors"
    assert cors[2] == {"Ref": "AWS::NoValue"}
    assert template.load()["Parameters"]["CorsAllowedOrigins"]["Default"] == ""
    assert "*" not in str(cors[1])


SELLING_ROUTES = {"POST /events/{event_id}/bookings", "POST /events/{event_id}/holds", "POST /holds/{hold_id}/confirm"}


def test_the_bcrypt_routes_have_their_own_lower_throttles() -> None:
    api = resources()["HttpApi"]["Properties"]
    default = api["DefaultRouteSettings"]
    own = api["RouteSettings"]
    assert set(own) == {"POST /auth/login", "POST /auth/register", *SELLING_ROUTES}
    assert set(own) <= {route.route_key for route in template.routes()}, "a throttle for a route that is gone"
    for route in ("POST /auth/login", "POST /auth/register"):
        assert 0 < own[route]["ThrottlingRateLimit"] < default["ThrottlingRateLimit"]
        assert 0 < own[route]["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"]


def test_an_on_sale_raises_the_selling_routes_throttle_and_reserves_their_concurrency_by_parameters() -> None:
    document = template.load()
    api, parameters = resources()["HttpApi"]["Properties"], document["Parameters"]
    for route in SELLING_ROUTES:
        assert api["RouteSettings"][route] == {
            "ThrottlingRateLimit": {"Ref": "SellingRouteRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "SellingRouteBurstLimit"},
        }
    # Until raised, the selling routes throttle as every other route does.
    assert parameters["SellingRouteRateLimit"]["Default"] == api["DefaultRouteSettings"]["ThrottlingRateLimit"]
    assert parameters["SellingRouteBurstLimit"]["Default"] == api["DefaultRouteSettings"]["ThrottlingBurstLimit"]
    selling = {r.function for r in template.routes() if r.route_key in SELLING_ROUTES}
    assert parameters["SellingReservedConcurrency"]["Default"] == 0  # off: a reservation is also a ceiling
    for name, function in functions().items():
        reserved = function["Properties"].get("ReservedConcurrentExecutions")
        if name in selling:
            assert reserved == {
                "Fn::If": ["ReserveSellingConcurrency", {"Ref": "SellingReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
            }
        else:
            assert name == "SweepHoldsFunction" or reserved is None, name


WARM = {
    "Fn::If": [
        "WarmTables",
        {"ReadUnitsPerSecond": {"Ref": "WarmReadUnits"}, "WriteUnitsPerSecond": {"Ref": "WarmWriteUnits"}},
        {"Ref": "AWS::NoValue"},
    ]
}


def test_tables_and_the_selling_indexes_are_pre_warmed_by_parameters_off_by_default() -> None:
    parameters = template.load()["Parameters"]
    assert (parameters["WarmReadUnits"]["Default"], parameters["WarmWriteUnits"]["Default"]) == (0, 0)
    tables = template.resources("AWS::DynamoDB::Table")
    assert set(tables) == {"UsersTable", "EventsTable", "BookingsTable", "TicketsTable"}
    for table in tables.values():
        assert table["Properties"]["WarmThroughput"] == WARM
    indexes = {
        index["IndexName"]: index.get("WarmThroughput")
        for table in tables.values()
        for index in table["Properties"].get("GlobalSecondaryIndexes", [])
    }
    # The indexes a booking, hold, confirm or cancel writes; the listings' are written by admins only.
    assert {name for name, warm in indexes.items() if warm == WARM} == {"by_update", "by_expiry", "by_event_expiry"}
    assert {name for name, warm in indexes.items() if warm is None} == {"by_time", "by_venue", "by_pool"}


DYNAMODB_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def leading_keys(statement: dict[str, Any]) -> list[str]:
    """The partition keys a statement's dynamodb:LeadingKeys condition allows (KeyError without one)."""
    keys: list[str] = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    return keys


def test_login_reads_only_accounts_and_email_claims_and_writes_only_its_throttle_counters() -> None:
    """tests/integration/test_login_grants.py checks every key login touches against these grants."""
    grants = [s for s in statements(functions()["LoginFunction"]) if str(s["Action"]).count("dynamodb:")]
    assert grants
    for grant in grants:
        writes = DYNAMODB_WRITES & set(as_list(grant["Action"]))
        assert leading_keys(grant) == (["THROTTLE#*"] if writes else ["EMAIL#*", "USER#*"]), grant


def test_browsers_may_call_every_route_and_read_the_headers_the_api_sets() -> None:
    cors = resources()["HttpApi"]["Properties"]["CorsConfiguration"]["Fn::If"][1]
    methods = {r.method for r in template.routes() if r.method != "ANY"}
    assert methods <= set(cors["AllowMethods"])
    # Set by boxoffice.http (429 and 409 BUSY, 401) and by the booking function (a replayed booking).
    assert {"retry-after", "www-authenticate", "idempotent-replayed"} <= {h.lower() for h in cors["ExposeHeaders"]}
    assert {"authorization", "content-type", "idempotency-key"} <= set(cors["AllowHeaders"])


@pytest.mark.parametrize("name", sorted(template.resources("AWS::Serverless::LayerVersion")))
def test_layers_go_with_the_stack(name: str) -> None:
    # SAM retains every LayerVersion by default: `sam delete` and each update would leave them behind.
    assert resources()[name]["Properties"]["RetentionPolicy"] == "Delete"


def test_backing_service_failures_alarm_on_the_metric_the_functions_emit() -> None:
    variables = template.load()["Globals"]["Function"]["Environment"]["Variables"]
    [alarm] = [
        a["Properties"]
        for a in template.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "BackingServiceFailures"
    ]
    assert alarm["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_unknown_routes_reach_a_function_that_answers_404() -> None:
    assert any(route.path == "$default" for route in template.routes())


def test_alarms_cover_the_api_lambda_and_dynamodb_and_notify_the_optional_topic() -> None:
    alarms = template.resources("AWS::CloudWatch::Alarm")
    watched = set()
    for alarm in alarms.values():
        props = alarm["Properties"]
        for query in props.get("Metrics", [{"MetricStat": {"Metric": props}}]):
            metric = query.get("MetricStat", {}).get("Metric", {})
            watched.add((str(metric.get("Namespace")), metric.get("MetricName")))  # a Sub namespace too
        assert props["AlarmActions"] == NOTIFY_TOPIC, props.get("AlarmName")
    assert {
        ("AWS/ApiGateway", "5xx"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("AWS/DynamoDB", "TransactionConflict"),
    } <= watched
    p99 = [a["Properties"] for a in alarms.values() if a["Properties"].get("ExtendedStatistic") == "p99"]
    assert any(p["MetricName"] == "Duration" and _is_booking_function(p["Dimensions"]) for p in p99)


def _is_booking_function(dimensions: list[dict[str, Any]]) -> bool:
    booking = [r.function for r in template.routes() if r.method == "POST" and r.path == "/events/{event_id}/bookings"]
    return {"Name": "FunctionName", "Value": {"Ref": booking[0]}} in dimensions if booking else False


# The one region the template names: AWS WAF for CloudFront exists in us-east-1 only.
CLOUDFRONT_WAF_REGION = 'Assert: !Equals [!Ref "AWS::Region", us-east-1]'


def test_no_account_ids_or_regions_are_hard_coded() -> None:
    text = (template.ROOT / "template.yaml").read_text()
    assert text.count(CLOUDFRONT_WAF_REGION) == 1
    text = text.replace(CLOUDFRONT_WAF_REGION, "")
    assert not re.search(r"\b\d{12}\b", text.replace("[0-9]{12}", "")), "an account id"
    region = r"\b(us|eu|ap|sa|ca|me|af|il|mx)-(east|west|north|south|central|northeast|southeast)-\d\b"
    assert not re.search(region, text), "a region"


def test_samconfig_deploys_each_stage_with_its_own_stack_and_confirms_prod() -> None:
    import tomllib

    config = tomllib.loads(Path(template.ROOT / "samconfig.toml").read_text())
    stacks = {env: config[env]["global"]["parameters"]["stack_name"] for env in ("default", "dev", "prod")}
    assert stacks["default"] == stacks["dev"] != stacks["prod"]
    for env in ("dev", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert f"Stage={env}" in deploy["parameter_overrides"], env
        assert "region" not in deploy, env
        assert "region" not in config[env]["global"]["parameters"], env
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


def test_holds_last_a_parameter_and_expire_by_a_scheduled_sweep_over_a_sparse_index() -> None:
    document = template.load()
    assert document["Parameters"]["HoldSeconds"]["Default"] == 600
    assert document["Globals"]["Function"]["Environment"]["Variables"]["HOLD_SECONDS"] == {"Ref": "HoldSeconds"}
    indexes = {i["IndexName"]: i for i in template.tables()["BookingsTable"]["GlobalSecondaryIndexes"]}
    assert [k["AttributeName"] for k in indexes["by_expiry"]["KeySchema"]] == ["held", "held_until"]
    # A request reads only its own event's lapsed holds; the platform-wide index is the sweeper's alone.
    assert [k["AttributeName"] for k in indexes["by_event_expiry"]["KeySchema"]] == ["held_event", "held_until"]
    readers = {
        name
        for name, function in functions().items()
        for statement in function["Properties"].get("Policies", [])
        if isinstance(statement, dict)
        for grant in statement.get("Statement", [])
        if "index/by_expiry" in json.dumps(grant.get("Resource"))
    }
    assert readers == {"SweepHoldsFunction"}
    sweeper = functions()["SweepHoldsFunction"]["Properties"]
    assert [e["Properties"]["Schedule"] for e in sweeper["Events"].values()] == ["rate(1 minute)"]


def test_the_bus_archives_every_domain_event_and_only_the_publisher_may_put_boxoffice_events() -> None:
    [bus] = template.resources("AWS::Events::EventBus")
    archives = [a["Properties"] for a in template.resources("AWS::Events::Archive").values()]
    assert [a["SourceArn"] for a in archives] == [{"Fn::GetAtt": [bus, "Arn"]}]
    assert archives[0]["RetentionDays"] > 0
    publishers = [
        name
        for name, function in functions().items()
        if any("events:PutEvents" in as_list(s["Action"]) for s in statements(function))
    ]
    assert publishers
    [deny] = [s for s in resources()[bus]["Properties"]["Policy"]["Statement"] if s["Effect"] == "Deny"]
    assert (deny["Principal"], deny["Action"]) == ("*", "events:PutEvents")
    bus_arn = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${AWS::StackName}-domain-events"
    assert deny["Resource"] == {"Fn::Sub": bus_arn}
    assert deny["Condition"]["StringEquals"] == {"events:source": "boxoffice"}
    roles = [{"Fn::GetAtt": [f"{name}Role", "Arn"]} for name in publishers]
    assert deny["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": roles}


def test_the_sweeper_never_retries_or_overlaps_and_an_alarm_fires_when_it_stops_running() -> None:
    document = template.load()
    sweeper = functions()["SweepHoldsFunction"]["Properties"]
    # A failed or late run is not worth repeating: the next one comes a minute later.
    assert sweeper["EventInvokeConfig"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
    # One run at a time where the account can reserve concurrency (0 turns the reservation off).
    reservation = document["Parameters"]["SweeperReservedConcurrency"]
    assert (reservation["Default"], reservation["MinValue"], reservation["MaxValue"]) == (1, 0, 1)
    assert sweeper["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReserveSweeperConcurrency", {"Ref": "SweeperReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    [stopped] = [
        a["Properties"]
        for a in template.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "Invocations"
        and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "SweepHoldsFunction"}}]
    ]
    assert (stopped["Statistic"], stopped["ComparisonOperator"]) == ("Sum", "LessThanThreshold")
    assert stopped["Threshold"] == 1
    # No data is what a sweeper that stopped looks like.
    assert stopped["TreatMissingData"] == "breaching"
    assert stopped["Period"] * stopped["EvaluationPeriods"] <= 600


# The buying path of an on-sale, where a scale-out's cold starts meet buyers (docs/DEPLOY.md, SnapStart).
BUYING_PATH = {
    ("POST", "/auth/login"),
    ("GET", "/events"),
    ("GET", "/events/{event_id}"),
    ("POST", "/events/{event_id}/holds"),
    ("POST", "/holds/{hold_id}/confirm"),
    ("POST", "/events/{event_id}/bookings"),
}


def snapstart_gigabytes() -> float:
    globals_ = template.load()["Globals"]["Function"]
    on = [f["Properties"] for f in functions().values() if "SnapStart" in f["Properties"]]
    return sum(props.get("MemorySize", globals_["MemorySize"]) for props in on) / 1024


def test_snapstart_is_on_the_buying_path_only_and_deploy_md_prices_what_it_caches() -> None:
    assert "SnapStart" not in template.load()["Globals"]["Function"]
    buying = {r.function for r in template.routes() if (r.method, r.path) in BUYING_PATH}
    assert len(buying) == len(BUYING_PATH)
    for name, function in functions().items():
        snapstart = function["Properties"].get("SnapStart")
        expected = {"ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}} if name in buying else None
        assert snapstart == expected, name
    # DEPLOY.md's arithmetic starts from the cached gigabytes: it must be this template's.
    guide = (template.ROOT / "docs" / "DEPLOY.md").read_text()
    assert f"{len(buying)} functions, {snapstart_gigabytes():g} GB cached" in guide


def dashboard_metrics() -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every metric the stack's dashboard draws (`...` repeats the row above)."""
    import json

    [dashboard] = template.resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(dashboard["Properties"]["DashboardBody"]["Fn::Sub"])
    found = []
    for widget in body["widgets"]:
        previous: list[Any] = []
        for row in widget["properties"].get("metrics", []):
            fields = [f for f in row if not isinstance(f, dict)]
            fields = [p if f == "..." else f for f, p in zip(fields, previous + [None] * len(fields), strict=False)]
            previous = fields
            found.append((fields[0], fields[1], dict(zip(fields[2::2], fields[3::2], strict=True))))
    return found


def test_the_dashboard_shows_sales_errors_throttles_conflicts_lag_and_dead_letters() -> None:
    drawn = {(namespace, metric) for namespace, metric, _ in dashboard_metrics()}
    ours = "boxoffice-${Stage}"
    assert {
        (ours, "BookingsCreated"),
        (ours, "HoldsPlaced"),
        (ours, "ApiThrottled"),
        ("AWS/ApiGateway", "5xx"),
        ("AWS/ApiGateway", "4xx"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/DynamoDB", "TransactionConflict"),
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    } <= drawn
    # Index throttles: a throttled index throttles the writes of its table too.
    throttled = {
        (dims.get("TableName"), dims.get("GlobalSecondaryIndexName"))
        for _, metric, dims in dashboard_metrics()
        if metric in {"ReadThrottleEvents", "WriteThrottleEvents"}
    }
    for table, props in template.tables().items():
        assert (f"${{{table}}}", None) in throttled, table
        for index in props.get("GlobalSecondaryIndexes", []):
            assert (f"${{{table}}}", index["IndexName"]) in throttled, (table, index["IndexName"])
    # Per route: each route is its own function, so Lambda's per-function metrics are per-route metrics.
    per_function = {dims.get("FunctionName") for _, metric, dims in dashboard_metrics() if metric == "Invocations"}
    assert {f"${{{route.function}}}" for route in template.routes()} <= per_function


def test_the_dashboard_queries_the_functions_log_group_and_the_access_log() -> None:
    [dashboard] = template.resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(dashboard["Properties"]["DashboardBody"]["Fn::Sub"])
    queries = [w["properties"]["query"] for w in body["widgets"] if w["type"] == "log"]
    sources = {re.match(r"SOURCE '\$\{(\w+)\}'", query).group(1) for query in queries}  # type: ignore[union-attr]
    assert sources == {"ApiAccessLogs", "FunctionLogs"}
    for group in sources:
        assert resources()[group]["Type"] == "AWS::Logs::LogGroup", group


def test_429s_are_counted_from_the_access_log_and_4xx_and_429_rates_alarm() -> None:
    [counted] = template.resources("AWS::Logs::MetricFilter").values()
    assert counted["Properties"]["LogGroupName"] == {"Ref": "ApiAccessLogs"}
    assert counted["Properties"]["FilterPattern"] == '{ $.status = "429" }'
    [transformation] = counted["Properties"]["MetricTransformations"]
    assert (transformation["MetricName"], transformation["MetricValue"]) == ("ApiThrottled", "1")
    expressions = [
        q["Expression"]
        for a in template.resources("AWS::CloudWatch::Alarm").values()
        for q in a["Properties"].get("Metrics", [])
        if "Expression" in q
    ]
    assert any("throttled" in e and "requests" in e for e in expressions), "no alarm on the 429 rate"
    assert any("client" in e and "requests" in e for e in expressions), "no alarm on the 4xx rate"


@pytest.mark.parametrize("table", ["EventsTable", "BookingsTable"])
def test_contributor_insights_on_the_hot_tables_is_an_option_off_by_default(table: str) -> None:
    assert template.load()["Parameters"]["ContributorInsights"]["Default"] == "false"
    spec = template.tables()[table]["ContributorInsightsSpecification"]
    assert spec == {"Enabled": {"Fn::If": ["UseContributorInsights", True, False]}}


def edge(name: str) -> dict[str, Any]:
    resource = resources()[name]
    assert resource.get("Condition") in {"UseEdge", "CreateEdgeWebAcl"}, f"{name} must exist only with EdgeProtection"
    return resource["Properties"]


def test_edge_protection_is_an_option_off_by_default_that_closes_the_execute_api_endpoint() -> None:
    parameters = template.load()["Parameters"]
    assert parameters["EdgeProtection"]["Default"] == "false"
    api = resources()["HttpApi"]["Properties"]
    # With CloudFront in front, the API answers only on its custom domain, which CloudFront uses as origin.
    assert api["DisableExecuteApiEndpoint"] == {"Fn::If": ["UseEdge", True, False]}
    assert edge("ApiOriginMapping")["ApiId"] == {"Ref": "HttpApi"}
    assert edge("ApiOriginDomainName")["DomainName"] == {"Ref": "ApiOriginDomain"}
    # The API's own throttles stay as the last line behind WAF.
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    rules = template.load()["Rules"]
    assert {"EdgeNeedsItsOrigin", "CloudFrontWafInUsEast1"} <= set(rules)


def test_cloudfront_passes_every_request_to_the_api_uncached_with_its_headers() -> None:
    config = edge("EdgeDistribution")["DistributionConfig"]
    created, given = {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}, {"Ref": "EdgeWebAclArn"}
    assert config["WebACLId"] == {"Fn::If": ["CreateEdgeWebAcl", created, given]}
    [origin] = config["Origins"]
    assert origin["DomainName"] == {"Ref": "ApiOriginDomain"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behavior = config["DefaultCacheBehavior"]
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
    # Managed-AllViewerExceptHostHeader: Authorization, Idempotency-Key, query strings; Host is the origin's.
    assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert behavior["ViewerProtocolPolicy"] == "https-only"


def rate_rules() -> dict[str, dict[str, Any]]:
    rules = [r for r in edge("EdgeWebAcl")["Rules"] if isinstance(r, dict) and "Name" in r]
    return {r["Name"]: r for r in rules if "RateBasedStatement" in r["Statement"]}


def test_the_web_acl_limits_each_address_on_sign_up_login_buying_and_overall_with_429s() -> None:
    acl = edge("EdgeWebAcl")
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    limited = rate_rules()
    assert {"PerIpSignUps", "PerIpLogins", "PerIpPurchases", "PerIpRequests"} <= set(limited)
    for name, rule in limited.items():
        statement = rule["Statement"]["RateBasedStatement"]
        assert statement["AggregateKeyType"] == "IP", name
        assert rule["Action"] == {"Block": {"CustomResponse": {"ResponseCode": 429}}}, name
    per_window = {name: r["Statement"]["RateBasedStatement"]["Limit"] for name, r in limited.items()}
    assert per_window["PerIpSignUps"] < per_window["PerIpLogins"], "a sign-up costs a bcrypt hash and an account"
    assert per_window["PerIpRequests"] == {"Ref": "EdgeRequestsPerIp"}
    sign_ups = str(limited["PerIpSignUps"]["Statement"]["RateBasedStatement"]["ScopeDownStatement"])
    assert "/auth/register" in sign_ups
    assert "POST" in sign_ups


def test_bot_control_is_a_parameter_and_the_known_bad_inputs_are_always_blocked() -> None:
    assert template.load()["Parameters"]["EdgeBotControl"]["Default"] == "false"
    rules = edge("EdgeWebAcl")["Rules"]
    statements = [r["Statement"] for r in rules if "Statement" in r]
    groups = {s["ManagedRuleGroupStatement"]["Name"] for s in statements if "ManagedRuleGroupStatement" in s}
    assert "AWSManagedRulesKnownBadInputsRuleSet" in groups
    [bots] = [r["Fn::If"] for r in rules if isinstance(r, dict) and "Fn::If" in r]
    assert bots[0] == "UseBotControl"
    assert bots[1]["Statement"]["ManagedRuleGroupStatement"]["Name"] == "AWSManagedRulesBotControlRuleSet"
    assert bots[2] == {"Ref": "AWS::NoValue"}
    logging = [r["Properties"] for r in template.resources("AWS::WAFv2::LoggingConfiguration").values()]
    assert [entry["ResourceArn"] for entry in logging] == [{"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}]


# The only functions that read password hashes: they check a password.
READ_PASSWORDS = {"LoginFunction", "UpdateMeFunction"}
ACCOUNT_READS = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}


@pytest.mark.parametrize(("name", "function"), by_function())
def test_only_the_password_checks_may_read_password_hashes(name: str, function: dict[str, Any]) -> None:
    from boxoffice.store import users

    for statement in statements(function):
        reads = ACCOUNT_READS & set(as_list(statement["Action"]))
        if not reads or {"Fn::GetAtt": ["UsersTable", "Arn"]} not in as_list(statement["Resource"]):
            continue
        if name in READ_PASSWORDS:
            continue
        condition = statement.get("Condition", {})
        assert condition.get("StringEqualsIfExists") == {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}, name
        allowed = condition.get("ForAllValues:StringEquals", {}).get("dynamodb:Attributes")
        assert allowed == list(users.READABLE), f"{name} may read {allowed} of the users table"
    assert "password_hash" not in users.READABLE


# Written on the event item for the indexes' own sake (their keys are always projected), or never read back.
_INDEX_KEYS = {"pk", "sk", "list_pk", "venue_pk", "starts_key", "venue_key"}


@pytest.mark.parametrize("index", ["by_time", "by_venue"])
def test_the_event_listings_project_every_field_the_event_item_stores(index: str) -> None:
    """A listing is read from the index alone: an attribute left out of its projection would show its
    default there while GET /events/{id} shows the stored value."""
    from boxoffice.store import event_items
    from tests.support.records import event_record

    stored = event_record(
        max_tickets_per_user=4,
        max_held_tickets_per_user=2,
        max_holds_per_user=1,
        hold_cooldown_seconds=60,
        doors_open_minutes_before=30,
        doors_close_minutes_after=90,
    )
    [definition] = [i for i in template.tables()["EventsTable"]["GlobalSecondaryIndexes"] if i["IndexName"] == index]
    projected = set(definition["Projection"]["NonKeyAttributes"])
    assert set(event_items.descriptive_item(stored)) - _INDEX_KEYS <= projected
