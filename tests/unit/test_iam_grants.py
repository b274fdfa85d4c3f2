"""The IAM check of tests/support/iam.py: what AWS authorises each call by, and how grants are matched."""

from __future__ import annotations

import pytest

from boxoffice.store import users
from tests.support.iam import Grant, Need, allowed, grants, needs, unused

BOOKING = "CreateBookingFunction"
UPDATE_ME = "UpdateMeFunction"
PUBLISH = "PublishDomainEventsFunction"


@pytest.fixture(autouse=True)
def table_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, logical in [
        ("USERS_TABLE", "UsersTable"),
        ("EVENTS_TABLE", "EventsTable"),
        ("BOOKINGS_TABLE", "BookingsTable"),
        ("TICKETS_TABLE", "TicketsTable"),
    ]:
        monkeypatch.setenv(variable, f"t-{logical}")
    monkeypatch.setenv("EVENT_BUS_NAME", "t-DomainEventBus")
    monkeypatch.setenv("JWT_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf")


def key(pk: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": pk}, "sk": {"S": "X"}}


def test_a_transaction_needs_each_inner_action_on_its_own_table() -> None:
    params = {
        "TransactItems": [
            {"Update": {"TableName": "t-EventsTable", "Key": key("EVENT#1")}},
            {"ConditionCheck": {"TableName": "t-UsersTable", "Key": {"pk": {"S": "USER#u"}}}},
            {"Put": {"TableName": "t-BookingsTable", "Item": key("USER#u")}},
            {"Delete": {"TableName": "t-TicketsTable", "Key": key("EVENT#1")}},
        ]
    }

    assert needs(BOOKING, "dynamodb", "TransactWriteItems", params) == [
        Need(BOOKING, "dynamodb:UpdateItem", "EventsTable", ("EVENT#1",)),
        Need(BOOKING, "dynamodb:ConditionCheckItem", "UsersTable", ("USER#u",)),
        Need(BOOKING, "dynamodb:PutItem", "BookingsTable", ("USER#u",)),
        Need(BOOKING, "dynamodb:DeleteItem", "TicketsTable", ("EVENT#1",)),
    ]


def test_a_query_on_an_index_needs_the_index_arn_and_names_its_partition_key() -> None:
    params = {
        "TableName": "t-EventsTable",
        "IndexName": "by_time",
        "KeyConditionExpression": "#h = :h AND #r BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#h": "list_pk", "#r": "starts_key"},
        "ExpressionAttributeValues": {":h": {"S": "LIVE"}, ":lo": {"S": "a"}, ":hi": {"S": "b"}},
    }

    (need,) = needs("ListEventsFunction", "dynamodb", "Query", params)

    assert need == Need("ListEventsFunction", "dynamodb:Query", "EventsTable/index/by_time", ("LIVE",))
    assert allowed(need)
    assert not allowed(Need("ListEventsFunction", "dynamodb:Query", "EventsTable/index/by_venue_and_name"))


def test_batch_reads_and_writes_need_their_action_on_every_table_they_name() -> None:
    reads = {"RequestItems": {"t-UsersTable": {"Keys": [{"pk": {"S": "USER#u"}}]}, "t-EventsTable": {"Keys": []}}}
    writes = {"RequestItems": {"t-EventsTable": [{"PutRequest": {"Item": key("WORD#a")}}]}}

    assert [n.resource for n in needs(BOOKING, "dynamodb", "BatchGetItem", reads)] == ["UsersTable", "EventsTable"]
    assert needs(BOOKING, "dynamodb", "BatchWriteItem", writes) == [
        Need(BOOKING, "dynamodb:BatchWriteItem", "EventsTable", ("WORD#a",))
    ]


def test_the_signing_secret_is_named_by_the_arn_in_the_environment() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf"

    assert needs(BOOKING, "secretsmanager", "GetSecretValue", {"SecretId": arn}) == [
        Need(BOOKING, "secretsmanager:GetSecretValue", "JwtSecret")
    ]


def test_put_events_needs_each_bus_its_entries_name_and_only_the_stream_function_may() -> None:
    entries = [{"EventBusName": "t-DomainEventBus", "Source": "boxoffice"}] * 2

    assert needs(PUBLISH, "events", "PutEvents", {"Entries": entries}) == [
        Need(PUBLISH, "events:PutEvents", "DomainEventBus")
    ]
    assert allowed(Need(PUBLISH, "events:PutEvents", "DomainEventBus"))
    assert not allowed(Need(BOOKING, "events:PutEvents", "DomainEventBus"))
    assert not allowed(Need(PUBLISH, "events:PutEvents", "?default"))


def test_what_lambda_does_for_the_stream_mappings_is_not_a_grant_the_functions_own_calls_need() -> None:
    # Reading the streams and recording a batch given up on are the mappings' (Lambda's) calls.
    assert [(g.action, g.resource) for g in grants(PUBLISH)] == [("events:PutEvents", "DomainEventBus")]


def test_a_table_outside_the_template_is_never_granted() -> None:
    (need,) = needs(BOOKING, "dynamodb", "GetItem", {"TableName": "someone-elses", "Key": key("X")})

    assert need.resource == "?someone-elses"
    assert not allowed(need)


def test_policies_are_read_one_action_on_one_resource_at_a_time() -> None:
    read = set(grants("ListBookingsFunction"))

    assert Grant("dynamodb:BatchGetItem", "UsersTable", None, users.READABLE) in read  # no password_hash
    assert Grant("dynamodb:BatchGetItem", "EventsTable") in read
    assert Grant("dynamodb:Query", "UsersTable") not in read


def test_a_leading_keys_condition_allows_only_the_partition_keys_it_names() -> None:
    grant = Grant("dynamodb:UpdateItem", "UsersTable", ("LOGIN#*",))

    assert grant.allows(Need("F", "dynamodb:UpdateItem", "UsersTable", ("LOGIN#a@example.com",)))
    assert not grant.allows(Need("F", "dynamodb:UpdateItem", "UsersTable", ("LOGIN#a", "USER#1")))
    assert not grant.allows(Need("F", "dynamodb:UpdateItem", "UsersTable", None))  # keys unknown: AWS refuses


def test_grants_no_call_needed_are_reported_per_function() -> None:
    used = [
        Need(
            BOOKING,
            g.action,
            g.resource,
            tuple(p.replace("*", "1") for p in g.leading_keys or ()) or None,
            g.attributes,
        )
        for g in grants(BOOKING)
        if g.action != "dynamodb:ConditionCheckItem"
    ]

    idle = unused(used)

    assert Grant("dynamodb:ConditionCheckItem", "UsersTable") in idle[BOOKING]
    assert idle[BOOKING] == [g for g in grants(BOOKING) if g.action == "dynamodb:ConditionCheckItem"]
    assert idle["GetMeFunction"] == list(grants("GetMeFunction"))  # no recorded call at all: every grant
    assert "NotFoundFunction" not in idle  # no policy, nothing to use


def test_a_key_only_dynamodb_uses_for_the_function_is_not_expected_from_its_calls() -> None:
    # TablesKeyAccess (attached with a customer-managed key) holds kms:* conditioned on kms:ViaService.
    assert not [g for g in grants("RegisterFunction") if g.action.startswith("kms:")]
    assert Grant("dynamodb:PutItem", "UsersTable", ("USER#*", "EMAIL#*")) in grants("RegisterFunction")


def test_a_key_pattern_no_call_touched_is_reported_on_its_own() -> None:
    used = [
        Need(UPDATE_ME, "dynamodb:GetItem", "UsersTable", ("USER#1",)),
        Need(UPDATE_ME, "dynamodb:UpdateItem", "UsersTable", ("USER#1",)),  # never a THROTTLE# counter
        Need(UPDATE_ME, "dynamodb:PutItem", "UsersTable", ("THROTTLE#1",)),
        Need(UPDATE_ME, "secretsmanager:GetSecretValue", "JwtSecret"),
    ]

    assert unused(used)[UPDATE_ME] == [Grant("dynamodb:UpdateItem", "UsersTable", ("THROTTLE#*",))]


def test_update_me_may_put_counters_only() -> None:
    assert allowed(Need(UPDATE_ME, "dynamodb:PutItem", "UsersTable", ("THROTTLE#1",)))
    assert not allowed(Need(UPDATE_ME, "dynamodb:PutItem", "UsersTable", ("USER#1",)))  # would replace an account


def test_reads_record_the_attributes_they_project_and_writes_none() -> None:
    projected = {
        "ProjectionExpression": "#n, email, tags[0], address.city",
        "ExpressionAttributeNames": {"#n": "full_name"},
    }
    get = {"TableName": "t-UsersTable", "Key": {"pk": {"S": "USER#u"}}, **projected}
    batch = {"RequestItems": {"t-UsersTable": {"Keys": [{"pk": {"S": "USER#u"}}], **projected}}}
    update = {"TableName": "t-UsersTable", "Key": {"pk": {"S": "USER#u"}}, "UpdateExpression": "SET a = :a"}

    (read,) = needs(BOOKING, "dynamodb", "GetItem", get)
    (batch_read,) = needs(BOOKING, "dynamodb", "BatchGetItem", batch)
    (write,) = needs(BOOKING, "dynamodb", "UpdateItem", update)
    (everything,) = needs(BOOKING, "dynamodb", "GetItem", {"TableName": "t-UsersTable", "Key": get["Key"]})

    assert read.attributes == batch_read.attributes == ("address", "email", "full_name", "tags")
    assert write.attributes is None
    assert everything.attributes is None  # no projection: every attribute


def test_an_attributes_condition_allows_only_reads_that_project_within_it() -> None:
    grant = Grant("dynamodb:BatchGetItem", "UsersTable", None, ("pk", "email", "role"))

    assert grant.allows(Need("F", "dynamodb:BatchGetItem", "UsersTable", ("USER#1",), ("email", "pk")))
    assert not grant.allows(Need("F", "dynamodb:BatchGetItem", "UsersTable", ("USER#1",), ("password_hash", "pk")))
    assert not grant.allows(Need("F", "dynamodb:BatchGetItem", "UsersTable", ("USER#1",)))  # no projection: all
