"""devserver.flatmoto against plain moto: the same requests get the same answers and leave the same data.

Each script runs twice over mock_aws on the template's tables, once through moto's own
TransactWriteItems and Query and once through the flat ones; every answer (errors, cancellation
reasons with their ALL_OLD items) and the whole data afterwards (every item, and each index's view
of it) must be equal.
"""

from __future__ import annotations

import copy
import gc
import random
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import UpdateExpressionValidator
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from devserver import flatmoto
from devserver.dynamodb import create_tables, table_names
from tests.support.fixtures import empty_tables

TABLES = table_names("test")  # the `aws` fixture's tables
EVENTS, BOOKINGS, USERS = TABLES["EventsTable"], TABLES["BookingsTable"], TABLES["UsersTable"]
Action = dict[str, Any]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def event(event_id: str, available: int, *, venue: str = "hall") -> dict[str, Any]:
    return {
        "pk": s(f"EVENT#{event_id}"),
        "sk": s("EVENT"),
        "available": n(available),
        "list_pk": s("LIVE"),
        "venue_pk": s(f"VENUE#{venue}"),
        "starts_key": s(f"2030-01-0{event_id}#{event_id}"),
    }


def event_key(event_id: str) -> dict[str, Any]:
    return {"pk": s(f"EVENT#{event_id}"), "sk": s("EVENT")}


def take(event_id: str, quantity: int, *, all_old: bool = True) -> Action:
    update: dict[str, Any] = {
        "TableName": EVENTS,
        "Key": event_key(event_id),
        "UpdateExpression": "SET available = available - :q",
        "ConditionExpression": "available >= :q",
        "ExpressionAttributeValues": {":q": n(quantity)},
    }
    if all_old:
        update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Update": update}


def put_new(table: str, item: dict[str, Any], *, all_old: bool = True) -> Action:
    put: dict[str, Any] = {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
    if all_old:
        put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Put": put}


def booking(user: str, booking_id: str) -> dict[str, Any]:
    return {"pk": s(f"USER#{user}"), "sk": s(f"BOOKING#{booking_id}"), "status": s("CONFIRMED")}


def idempotency_key(user: str, key: str, expires_at: int, *, now: int = 1000) -> Action:
    return {
        "Put": {
            "TableName": BOOKINGS,
            "Item": {"pk": s(f"USER#{user}"), "sk": s(f"IDEMPOTENCY#{key}"), "expires_at": n(expires_at)},
            "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
            "ExpressionAttributeValues": {":now": n(now)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def check_user(user: str, version: int, *, all_old: bool = True) -> Action:
    check: dict[str, Any] = {
        "TableName": USERS,
        "Key": {"pk": s(f"USER#{user}")},
        "ConditionExpression": "token_version = :v",
        "ExpressionAttributeValues": {":v": n(version)},
    }
    if all_old:
        check["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"ConditionCheck": check}


def delete(table: str, key: dict[str, Any], condition: str | None = None) -> Action:
    action: dict[str, Any] = {"TableName": table, "Key": key, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    if condition:
        action["ConditionExpression"] = condition
    return {"Delete": action}


def unlist(event_id: str) -> Action:
    """Take an event out of both indexes, as deleting an event does."""
    return {
        "Update": {
            "TableName": EVENTS,
            "Key": event_key(event_id),
            "UpdateExpression": "SET #s = :deleted REMOVE list_pk, venue_pk",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":deleted": s("DELETED")},
        }
    }


def upsert(event_id: str) -> Action:
    """An update that creates the item when it is missing."""
    return {
        "Update": {
            "TableName": EVENTS,
            "Key": event_key(event_id),
            "UpdateExpression": "SET available = :q",
            "ConditionExpression": "attribute_not_exists(pk)",
            "ExpressionAttributeValues": {":q": n(1)},
        }
    }


def add_text(event_id: str) -> Action:
    """An update moto refuses with a ValidationException when it runs it (a number plus a string)."""
    return {
        "Update": {
            "TableName": EVENTS,
            "Key": event_key(event_id),
            "UpdateExpression": "SET available = available + :text",
            "ExpressionAttributeValues": {":text": s("one")},
        }
    }


def update(event_id: str, expression: str, **values: dict[str, Any]) -> Action:
    """An update of the event's item by `expression` (names: #a for `available`)."""
    return {
        "Update": {
            "TableName": EVENTS,
            "Key": event_key(event_id),
            "UpdateExpression": expression,
            **({"ExpressionAttributeNames": {"#a": "available"}} if "#a" in expression else {}),
            **({"ExpressionAttributeValues": {f":{k}": v for k, v in values.items()}} if values else {}),
        }
    }


SETUP: list[tuple[str, dict[str, Any]]] = [
    (EVENTS, event("1", 10)),
    (EVENTS, event("2", 1, venue="club")),
    (EVENTS, {"pk": s("WORD#jazz"), "sk": s("2030-01-01#1")}),
    (USERS, {"pk": s("USER#ada"), "token_version": n(0)}),
    (BOOKINGS, booking("ada", "old")),
    (BOOKINGS, {"pk": s("USER#ada"), "sk": s("IDEMPOTENCY#used"), "expires_at": n(5000)}),
]

# name -> steps: the actions of one TransactWriteItems and how moto answers them
SCRIPTS: dict[str, list[tuple[list[Action], str]]] = {
    "every action succeeds": [
        ([take("1", 3), check_user("ada", 0), put_new(BOOKINGS, booking("ada", "b1")), idempotency_key("ada", "k", 9)],
         "ok"),
        ([delete(BOOKINGS, {"pk": s("USER#ada"), "sk": s("BOOKING#old")}), unlist("2")], "ok"),
    ],
    "an update's condition fails, with and without ALL_OLD": [
        ([put_new(BOOKINGS, booking("ada", "b1")), take("2", 5)], "cancelled"),
        ([put_new(BOOKINGS, booking("ada", "b2")), take("2", 5, all_old=False)], "cancelled"),
    ],
    "a put's condition fails on an existing item": [
        ([take("1", 1), put_new(BOOKINGS, booking("ada", "old"))], "cancelled"),
        ([take("1", 1), put_new(BOOKINGS, booking("ada", "old"), all_old=False)], "cancelled"),
    ],
    "a condition check fails": [
        ([take("1", 2), check_user("ada", 7)], "cancelled"),
        ([take("1", 2), check_user("ada", 7, all_old=False)], "cancelled"),
        ([take("1", 2), check_user("nobody", 0)], "cancelled"),
    ],
    "a delete's condition fails": [
        ([take("1", 2), delete(BOOKINGS, {"pk": s("USER#ada"), "sk": s("BOOKING#old")}, "attribute_not_exists(sk)")],
         "cancelled"),
    ],
    "a live idempotency key is refused with the booking it stands for, an expired one is replaced": [
        ([take("1", 1), idempotency_key("ada", "used", 9)], "cancelled"),
        ([take("1", 1), idempotency_key("ada", "used", 9, now=6000)], "ok"),
    ],
    "a cancelled transaction undoes items it added, deleted, changed and moved between indexes": [
        ([
            put_new(EVENTS, event("3", 5)),
            delete(EVENTS, {"pk": s("WORD#jazz"), "sk": s("2030-01-01#1")}),
            unlist("1"),
            put_new(BOOKINGS, booking("bob", "b9")),
            delete(BOOKINGS, {"pk": s("USER#ada"), "sk": s("BOOKING#old")}),
            upsert("9"),
            take("2", 2),
        ], "cancelled"),
    ],
    "a validation error part way through undoes what came before": [
        ([put_new(BOOKINGS, booking("bob", "b9")), unlist("1"), add_text("2")], "invalid"),
    ],
    "two actions on one item are refused and undone": [
        ([put_new(BOOKINGS, booking("bob", "b9")), take("1", 1), take("1", 2)], "invalid"),
    ],
    "an action on a missing table is refused": [
        ([take("1", 1), put_new("no-such-table", {"pk": s("x")})], "missing"),
    ],
    "updates moto refuses are refused every time they are sent, not only the first": [
        ([update("1", "SET available = :one, available = :two", one=n(1), two=n(2))], "invalid"),
        ([update("1", "SET available = :one, available = :two", one=n(1), two=n(2))], "invalid"),
        ([update("1", "SET #a = :one, available = :two", one=n(1), two=n(2))], "invalid"),
        ([update("1", "SET pk = :one", one=s("EVENT#9"))], "invalid"),
        ([update("1", "SET pk = :one", one=s("EVENT#9"))], "invalid"),
        ([update("1", "SET available = :one SET venue_pk = :one", one=n(1))], "invalid"),
        ([update("1", "SET missing = missing + :one", one=n(1))], "invalid"),
        ([update("1", "SET available = available + :one", one=n(1))], "ok"),
        ([update("1", "SET available = available + :one", one=n(1))], "ok"),
    ],
    "functions, arithmetic and every clause run as moto runs them": [
        ([update("1", "SET tally = if_not_exists(tally, :zero) + :one, seen = list_append(if_not_exists(seen, :none),"
                 " :list) REMOVE venue_pk ADD #a :one", zero=n(0), one=n(1), none={"L": []}, list={"L": [s("a")]})],
         "ok"),
        ([update("1", "SET tally = if_not_exists(tally, :zero) + :one, seen = list_append(seen, :list) ADD #a :one",
                 zero=n(0), one=n(1), list={"L": [s("b")]}), take("2", 1)], "ok"),
        ([update("1", "SET seen[0] = :one, nested = :map", one=n(1), map={"M": {"a": n(1)}})], "ok"),
        ([update("1", "SET nested.b = nested.a - :one REMOVE seen[0]", one=n(1))], "ok"),
    ],
    "an upsert of a missing item is undone by a later failure": [
        ([upsert("8"), take("2", 4)], "cancelled"),
        ([upsert("8")], "ok"),
    ],
}  # fmt: skip


@contextmanager
def plain_moto() -> Iterator[None]:
    """moto's own TransactWriteItems, Query and serialiser, whatever flatmoto.install() did in this process."""
    with (
        mock.patch.object(DynamoDBBackend, "transact_write_items", flatmoto.moto_transact_write_items),
        mock.patch.object(Table, "query", flatmoto.moto_query),
        mock.patch.object(Table, "all_items", flatmoto.moto_all_items),
        mock.patch.object(BaseJSONSerializer, "_serialize_type_structure", flatmoto.moto_serialize_structure),
        mock.patch.object(ConditionExpressionParser, "_lex_condition_expression", flatmoto.moto_lex),
        mock.patch.object(DepthFirstTraverser, "traverse_node_recursively", flatmoto.moto_traverse),
        mock.patch.object(validators, "deepcopy", copy.deepcopy),
        mock.patch.object(UpdateExpressionValidator, "__init__", flatmoto.moto_validator_init),
        mock.patch.object(UpdateExpressionValidator, "validate", flatmoto.moto_validate),
    ):
        yield


def answer(client: Any, actions: list[Action]) -> dict[str, Any]:
    try:
        client.transact_write_items(TransactItems=actions)
    except ClientError as exc:
        return {key: exc.response.get(key) for key in ("Error", "CancellationReasons")}
    return {"Error": None}


KINDS = {
    None: "ok",
    "TransactionCanceledException": "cancelled",
    "ValidationException": "invalid",
    "ResourceNotFoundException": "missing",
}


def kind(outcome: dict[str, Any]) -> str:
    return KINDS[(outcome["Error"] or {}).get("Code")]


def data(client: Any) -> dict[str, Any]:
    """Every item of every table, and what each index and each partition query returns."""
    found: dict[str, Any] = {}
    for name in TABLES.values():
        found[name] = client.scan(TableName=name)["Items"]
    for index, partition in [("by_time", "list_pk"), ("by_venue", "venue_pk")]:
        for value in ("LIVE", "VENUE#hall", "VENUE#club"):
            found[f"{index} {value}"] = client.query(
                TableName=EVENTS,
                IndexName=index,
                KeyConditionExpression=f"{partition} = :v",
                ExpressionAttributeValues={":v": s(value)},
            )["Items"]
    for user in ("ada", "bob"):
        found[f"bookings of {user}"] = client.query(
            TableName=BOOKINGS,
            KeyConditionExpression="pk = :u AND begins_with(sk, :b)",
            ExpressionAttributeValues={":u": s(f"USER#{user}"), ":b": s("BOOKING#")},
            ScanIndexForward=False,
        )["Items"]
    return found


def set_up() -> Any:
    """A client of the template's tables holding SETUP's items only."""
    empty_tables()
    client = boto3.client("dynamodb")
    for table, item in SETUP:
        client.put_item(TableName=table, Item=item)
    return client


def run(script: list[tuple[list[Action], str]]) -> list[Any]:
    """The data before, then each step's answer and the data it leaves."""
    client = set_up()
    seen = [data(client)]
    for actions, _ in script:
        seen.append(answer(client, actions))
        seen.append(data(client))
    return seen


@pytest.mark.parametrize("name", SCRIPTS)
def test_flat_transactions_answer_and_leave_the_data_exactly_as_moto_does(aws: None, name: str) -> None:
    flatmoto.install()
    with plain_moto():
        expected = run(SCRIPTS[name])
    assert [kind(outcome) for outcome in expected[1::2]] == [want for _, want in SCRIPTS[name]], expected
    assert run(SCRIPTS[name]) == expected


def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws: None) -> None:
    flatmoto.install()
    script = SCRIPTS["a cancelled transaction undoes items it added, deleted, changed and moved between indexes"]
    before, outcome, after = run(script)
    assert outcome["CancellationReasons"][-1] == {
        "Code": "ConditionalCheckFailed",
        "Message": "The conditional request failed",
        "Item": event("2", 1, venue="club"),
    }
    assert after == before


def test_a_flat_transaction_copies_no_table(aws: None) -> None:
    flatmoto.install()
    script = [([take("1", 1), put_new(BOOKINGS, booking("ada", "b1"))], "ok"), ([take("2", 9)], "cancelled")]

    def no_table_copies(self: Table, memo: dict[int, Any]) -> Table:
        raise AssertionError(f"table {self.name} copied")

    def answers(client: Any) -> list[str]:
        with mock.patch.object(Table, "__deepcopy__", no_table_copies, create=True):
            return [kind(answer(client, actions)) for actions, _ in script]

    assert answers(set_up()) == ["ok", "cancelled"]
    with plain_moto(), pytest.raises(AssertionError, match="copied"):
        answers(set_up())


def test_an_item_is_freed_once_the_table_no_longer_holds_it() -> None:
    flatmoto.install()
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(None, "test")
        client.transact_write_items(TransactItems=[put_new(BOOKINGS, booking("ada", "b1"))])
        client.query(
            TableName=BOOKINGS, KeyConditionExpression="pk = :u", ExpressionAttributeValues={":u": s("USER#ada")}
        )
        (partition,) = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[BOOKINGS].items.values()
        stored = weakref.ref(*partition.values())
        client.delete_item(TableName=BOOKINGS, Key={"pk": s("USER#ada"), "sk": s("BOOKING#b1")})
        gc.collect()
        assert stored() is None


# Every type of attribute value, nested and empty, and binary ones (which moto's serialiser encodes).
ODD_ITEM = {
    "s": s(""),
    "n": {"N": "1.50"},
    "false": {"BOOL": False},
    "null": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "-2.5"]},
    "empty map": {"M": {}},
    "empty list": {"L": []},
    "deep": {"M": {"x": {"L": [s("y"), {"M": {"q": n(0)}}, {"NULL": True}, {"SS": ["z"]}]}}},
    "binary": {"B": "AAEC"},
    "binary set": {"BS": ["AA=="]},
    "list with a binary": {"L": [{"B": "AA=="}, s("k")]},
}


def serialised(item: dict[str, Any]) -> str:
    """A GetItem answer for `item`, as moto's DynamoDB serialises it."""
    operation = get_service_model("dynamodb").operation_model("GetItem")
    serializer = JSONSerializer(operation_model=operation, pretty_print=False, value_picker=XFormedAttributePicker())
    body: str = serializer.serialize({"Item": item})["body"]
    return body


def test_attribute_values_are_answered_exactly_as_moto_serialises_them() -> None:
    flatmoto.install()
    with plain_moto():
        expected = serialised(ODD_ITEM)
    assert serialised(ODD_ITEM) == expected


def test_attribute_values_in_wire_form_skip_moto_member_by_member_serialiser() -> None:
    flatmoto.install()
    member_by_member = mock.Mock(wraps=flatmoto.moto_serialize_structure)
    with mock.patch.object(flatmoto, "moto_serialize_structure", member_by_member):
        serialised(ODD_ITEM)
    shapes = [c.args[3].name for c in member_by_member.call_args_list]
    assert shapes.count("AttributeValue") == 4  # the binary, the binary set, the list holding a binary and that one


def index_pages(ascending: bool) -> list[Any]:
    """Events put in no order, several on one start time, read back from an index a page at a time."""
    empty_tables()
    client = boto3.client("dynamodb")
    for number in random.Random(7).sample(range(40), 40):
        item = {**event(str(number), 1, venue="club" if number % 3 else "hall"), "sk": s(f"EVENT{number}")}
        client.put_item(TableName=EVENTS, Item={**item, "starts_key": s(f"2030-01-{number % 5:02d}")})
    pages, start = [], {}
    while True:
        page = client.query(
            TableName=EVENTS,
            IndexName="by_venue",
            KeyConditionExpression="venue_pk = :v",
            ExpressionAttributeValues={":v": s("VENUE#club")},
            ScanIndexForward=ascending,
            Limit=7,
            **start,
        )
        pages.append(page["Items"])
        if "LastEvaluatedKey" not in page:
            return pages
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


@pytest.mark.parametrize("ascending", [True, False])
def test_a_query_on_an_index_pages_through_the_items_exactly_as_moto_does(aws: None, ascending: bool) -> None:
    flatmoto.install()
    with plain_moto():
        expected = index_pages(ascending)
    assert sum(len(page) for page in expected) == 26
    assert index_pages(ascending) == expected


def test_a_query_on_an_index_does_not_sort_the_whole_table_first(aws: None) -> None:
    flatmoto.install()

    def whole_table_sorted(table: Table) -> None:
        raise AssertionError(f"every item of {table.name} sorted")

    with mock.patch.object(flatmoto, "moto_all_items", whole_table_sorted):
        assert index_pages(ascending=True)


# --- what moto lets through and DynamoDB refuses ---

TICKETS = TABLES["TicketsTable"]


def _sync_page(client: Any, lower: str, start: str | None, *, pk: str = "EVENT#1") -> dict[str, Any]:
    query: dict[str, Any] = {
        "TableName": TICKETS,
        "IndexName": "by_update",
        "KeyConditionExpression": "pk = :pk AND updated_key >= :lower",
        "ExpressionAttributeValues": {":pk": s("EVENT#1"), ":lower": s(lower)},
    }
    if start is not None:
        query["ExclusiveStartKey"] = {"pk": s(pk), "sk": s(f"TICKET#{start[-1]}"), "updated_key": s(start)}
    result: dict[str, Any] = client.query(**query)
    return result


@pytest.mark.parametrize(
    ("lower", "start", "pk", "refused"),
    [
        ("2026-01-01", "2026-06-01#A", "EVENT#1", False),  # inside the range: the next page
        ("2026-01-01", "2026-01-01#A", "EVENT#1", False),  # on the bound itself (>=)
        ("2026-07-01", "2026-06-01#A", "EVENT#1", True),  # before the range's lower bound
        ("2026-01-01", "2026-06-01#A", "EVENT#2", True),  # another partition's key
    ],
)
def test_a_start_key_outside_the_querys_key_condition_is_refused_as_dynamodb_does(
    lower: str, start: str, pk: str, refused: bool
) -> None:
    with mock_aws():
        flatmoto.install()
        create_tables(None, "test")
        client = boto3.client("dynamodb", region_name="us-east-1")
        for number, updated in (("A", "2026-06-01"), ("B", "2026-08-01")):
            client.put_item(
                TableName=TICKETS,
                Item={"pk": s("EVENT#1"), "sk": s(f"TICKET#{number}"), "updated_key": s(f"{updated}#{number}")},
            )
        if not refused:
            assert _sync_page(client, lower, start, pk=pk)["Items"][-1]["sk"] == s("TICKET#B")
            return
        with pytest.raises(ClientError) as refusal:
            _sync_page(client, lower, start, pk=pk)
        assert refusal.value.response["Error"]["Code"] == "ValidationException"
        assert "outside query boundaries" in refusal.value.response["Error"]["Message"]


def test_a_transact_get_of_up_to_a_hundred_items_is_read_as_dynamodb_reads_it(aws: None) -> None:
    flatmoto.install()
    client = set_up()
    keys = [{"Get": {"TableName": EVENTS, "Key": event_key(str(n))}} for n in range(1, 65)]  # an event's 64 shards
    assert len(client.transact_get_items(TransactItems=keys)["Responses"]) == 64
    with pytest.raises(ClientError, match="less than or equal to 100"):
        client.transact_get_items(TransactItems=keys * 2)


def test_the_servers_backend_for_a_host_is_moto_own_and_found_once() -> None:
    flatmoto.install()
    lookup = DomainDispatcherApplication.get_backend_for_host
    app = DomainDispatcherApplication(lambda _: None)  # type: ignore[arg-type,return-value]
    hosts = ["dynamodb.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com", "events.eu-west-1.amazonaws.com"]
    assert (
        [lookup(app, h) for h in hosts] == [lookup.__wrapped__(app, h) for h in hosts] == ["dynamodb", "sqs", "events"]
    )
    hits = lookup.cache_info().hits
    lookup(app, hosts[0])
    assert lookup.cache_info().hits == hits + 1
