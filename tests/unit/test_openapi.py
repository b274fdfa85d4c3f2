"""The shipped OpenAPI document matches the code, covers every route of template.yaml, and is exact:
valid OpenAPI 3.1, every example valid against its schema, every answer the server can give declared.

A new route or error is held to the same rules: it needs an operationId, its errors need a status in
boxoffice.http.STATUS (and a sample in boxoffice.catalogue if their constructor takes values), and `make openapi`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from enum import StrEnum
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError
from openapi_spec_validator import validate

from boxoffice import catalogue, errors, http, vocabulary
from boxoffice.models.users import EMAIL_PATTERN
from devserver import template
from devserver.gateway import load_module
from scripts import openapi
from tests.support.conformance import DOCUMENT, UNDOCUMENTED, shipped

PROBLEM_JSON = "application/problem+json"
# JSON Schema 2020-12 as OpenAPI 3.1 uses it, plus OpenAPI's own schema keywords: nothing else may leak in.
SCHEMA_KEYWORDS = {
    *("$ref", "$defs", "type", "enum", "const", "anyOf", "oneOf", "allOf", "not", "properties", "required"),
    *("additionalProperties", "items", "prefixItems", "minItems", "maxItems", "uniqueItems", "minLength"),
    *("maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
    *("multipleOf", "title", "description", "default", "examples", "readOnly", "writeOnly", "deprecated"),
    *("discriminator", "xml", "externalDocs"),
}


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in document()["paths"].items():
        for method, operation in ops.items():
            yield method, path, operation


def declared_routes() -> Iterator[Any]:
    for route in template.routes():
        if route.route_key not in UNDOCUMENTED:
            yield from (r for r in http.routes(load_module(route).app) if r.openapi_path == route.path)


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    # $refs point into the document's components: validate with them at the root.
    return Draft202012Validator({**schema, "components": document()["components"]})


def schemas_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object under a node of the document (component, parameter or media type)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("schema", "items", "not", "additionalProperties") and isinstance(value, dict):
                yield value
            elif key in ("properties", "$defs", "schemas") and isinstance(value, dict):
                yield from (v for v in value.values() if isinstance(v, dict))
            elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(value, list):
                yield from value
            if key not in ("examples", "example", "default", "enum", "const"):
                yield from schemas_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from schemas_in(value)


# --- the document and the code ---


def test_committed_document_is_up_to_date_with_the_code() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == openapi.render(), "run `make openapi` and commit the result"


def test_every_template_route_is_documented_and_nothing_else() -> None:
    routes = {r.route_key for r in template.routes()} - UNDOCUMENTED
    assert {f"{method.upper()} {path}" for method, path, _ in operations()} == routes


def test_each_documented_success_status_is_the_status_the_route_returns() -> None:
    for route in declared_routes():
        responses = document()["paths"][route.openapi_path][route.method.lower()]["responses"]
        assert [int(code) for code in responses if code.startswith("2")] == [route.status_code], route.openapi_path


def test_every_operation_has_a_short_stable_operation_id_given_by_its_handler() -> None:
    for route in declared_routes():
        # Powertools' default (cancel_booking_bookings__booking_id__delete) would name client functions.
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", route.operation_id), (route.openapi_path, route.operation_id)
    ids = [operation["operationId"] for _, _, operation in operations()]
    assert len(ids) == len(set(ids))


def test_the_document_is_valid_openapi_3_1_with_a_license() -> None:
    validate(document())
    assert document()["openapi"].startswith("3.1")
    assert document()["info"]["license"]["name"]


def test_schemas_use_only_standard_keywords() -> None:
    for schema in schemas_in(document()):
        assert set(schema) <= SCHEMA_KEYWORDS, sorted(set(schema) - SCHEMA_KEYWORDS)
    price = document()["components"]["schemas"]["CreateEvent"]["properties"]["ticket_price"]["anyOf"][0]
    assert (price["type"], "ge" in price, "le" in price) == ("string", False, False)


def test_every_example_is_valid_against_its_schema() -> None:
    checked = 0
    for schema in [*document()["components"]["schemas"].values(), *schemas_in(document()["paths"])]:
        for example in schema.get("examples", []):
            validator(schema).validate(example)
            checked += 1
    for _, _, operation in operations():
        for answer in operation["responses"].values():
            for media in answer.get("content", {}).values():
                for example in media.get("examples", {}).values():
                    validator(media["schema"]).validate(example["value"])
                    checked += 1
    assert checked > 50


def test_every_request_and_response_body_has_an_example() -> None:
    components = document()["components"]["schemas"]
    for method, path, operation in operations():
        bodies = [m["schema"] for m in operation.get("requestBody", {}).get("content", {}).values()]
        for answer in operation["responses"].values():
            for media in answer.get("content", {}).values():
                if "examples" not in media:
                    bodies.append(media["schema"])
        for body in bodies:
            if body == {"type": "string", "format": "binary"}:  # a document (PDF, SVG, calendar), not JSON
                continue
            name = body["$ref"].rsplit("/", 1)[1]
            schema = components[name]
            if {"items", "next_cursor"} <= set(schema.get("properties", {})):  # a page: its items carry the examples
                schema = components[schema["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]]
            assert schema.get("examples"), f"{method} {path}: {name}"


# --- answers: every status, header and problem the server can send ---


def test_problem_codes_are_every_domain_error_and_each_has_a_status() -> None:
    codes = [kind.code for kind in errors.kinds()]
    assert len(codes) == len(set(codes))
    assert document()["components"]["schemas"]["Problem"]["properties"]["code"]["enum"] == codes
    assert set(http.STATUS) == set(errors.kinds())


@pytest.mark.parametrize("kind", errors.kinds(), ids=lambda kind: kind.code)
def test_each_problem_on_the_wire_is_declared_by_the_problem_schema(kind: type[errors.DomainError]) -> None:
    answer = catalogue.sample(kind)
    body = json.loads(answer.body or "")
    problem = document()["components"]["schemas"]["Problem"]
    validator(problem).validate(body)
    assert set(body) <= set(problem["properties"]), "declare the new member in models.common.Problem"
    sent = set(answer.headers) - {"Content-Type"}
    assert sent <= set(catalogue._PROBLEM_HEADERS), "document the header in the catalogue"


def test_every_problem_answer_is_problem_json_with_an_example_per_code_of_its_status() -> None:
    by_code = {kind.code: int(http.STATUS[kind]) for kind in errors.kinds()}
    for method, path, operation in operations():
        for status, answer in operation["responses"].items():
            if status.startswith("2"):
                continue
            assert list(answer["content"]) == [PROBLEM_JSON], f"{method} {path} {status}"
            examples = answer["content"][PROBLEM_JSON]["examples"]
            assert examples, f"{method} {path} {status}"
            assert {by_code[code] for code in examples} == {int(status)}, f"{method} {path} {status}"


def test_edge_answers_are_documented_where_the_edge_sends_them() -> None:
    for method, path, operation in operations():
        responses = operation["responses"]
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(responses), f"{method} {path}"
        else:
            assert not {"400", "413", "415"} & set(responses), f"{method} {path}"
        if not any(p["in"] in ("query", "header") for p in operation.get("parameters", [])):
            assert ("422" in responses) == ("requestBody" in operation or _declares(operation, "422")), path
        assert "503" in responses
    assert "422" not in document()["paths"]["/users/me"]["get"]["responses"]


def test_every_route_that_calls_dynamodb_declares_503_throttled_with_retry_after() -> None:
    paths = document()["paths"]
    for route in template.routes():
        if route.route_key in UNDOCUMENTED:
            continue
        responses = paths[route.path][route.method.lower()]["responses"]
        throttled = "THROTTLED" in _codes({"responses": responses}, "503")
        assert throttled == openapi.uses_dynamodb(route.function), route.route_key
        if throttled:
            assert "THROTTLED" in responses["503"]["headers"]["Retry-After"]["description"]
    assert not openapi.uses_dynamodb("JwksFunction")
    assert openapi.uses_dynamodb("CreateBookingFunction")


def _codes(operation: dict[str, Any], status: str) -> set[str]:
    return set(operation["responses"].get(status, {}).get("content", {}).get(PROBLEM_JSON, {}).get("examples", {}))


def _declares(operation: dict[str, Any], status: str) -> bool:
    return bool(_codes(operation, status) - {"VALIDATION_FAILED"})


def test_operations_that_need_a_token_say_so_and_public_ones_say_they_need_none() -> None:
    for method, path, operation in operations():
        needs_token = "UNAUTHENTICATED" in _codes(operation, "401")
        assert operation["security"] == ([{"bearerAuth": []}] if needs_token else []), f"{method} {path}"
    for method, path in [("post", "/auth/login"), ("post", "/auth/register"), ("get", "/events")]:
        assert document()["paths"][path][method]["security"] == []
    assert document()["paths"]["/users/me"]["get"]["security"] == [{"bearerAuth": []}]


def test_response_headers_are_documented() -> None:
    paths = document()["paths"]
    for _, _, operation in operations():
        responses = operation["responses"]
        if "401" in responses:
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
        if "429" in responses:
            assert responses["429"]["headers"]["Retry-After"]["required"] is True
        if "BUSY" in _codes(operation, "409"):
            assert "Retry-After" in responses["409"]["headers"]
    booked = paths["/events/{event_id}/bookings"]["post"]["responses"]["201"]
    assert booked["headers"]["Idempotent-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}


def test_a_204_has_no_content() -> None:
    for method, path, operation in operations():
        if "204" in operation["responses"]:
            assert "content" not in operation["responses"]["204"], f"{method} {path}"
    assert "204" in document()["paths"]["/events/{event_id}"]["delete"]["responses"]


def test_optional_parameters_and_update_fields_are_never_null() -> None:
    for method, path, operation in operations():
        for parameter in operation.get("parameters", []):
            assert '"null"' not in json.dumps(parameter["schema"]), f"{method} {path} {parameter['name']}"
    # Null is a value only where it means something: no per-user cap, no sub-quota, an open sales window, a
    # hold ceiling back to its default.
    nullable = {
        "UpdateEvent": {
            "max_tickets_per_user",
            "max_held_tickets_per_user",
            "max_holds_per_user",
            "hold_cooldown_seconds",
        },
        "UpdateTicketType": {"total_tickets", "sales_start", "sales_end"},
    }
    for name in ("UpdateEvent", "UpdateMeRequest", "UpdateTicketType"):
        update = document()["components"]["schemas"][name]
        fields = {k: v for k, v in update["properties"].items() if k not in nullable.get(name, set())}
        assert '"null"' not in json.dumps(fields), name
        assert "required" not in update


def test_inputs_carry_the_constraints_the_server_enforces() -> None:
    schemas = document()["components"]["schemas"]
    register = schemas["RegisterRequest"]["properties"]
    assert (register["password"]["minLength"], register["password"]["maxLength"]) == (8, 72)
    assert (register["email"]["pattern"], register["email"]["maxLength"]) == (EMAIL_PATTERN, 254)
    assert "format" not in register["email"]  # the pattern is the rule: validators' "email" formats differ
    assert schemas["CreateEvent"]["properties"]["currency"]["anyOf"][0]["pattern"] == "^[A-Z]{3}$"
    assert schemas["Event"]["properties"]["time"].get("format") != "time"  # no offset: not RFC 3339's time
    dates = {p["name"]: p["schema"] for p in document()["paths"]["/events"]["get"]["parameters"]}
    assert [v["format"] for v in dates["date_from"]["anyOf"]] == ["date", "date-time"]


@pytest.mark.parametrize(
    ("price", "valid"),
    [
        *[("0", True), ("25", True), ("25.5", True), ("25.50", True), ("999999.99", True), ("1000000", True)],
        *[("1000000.00", True), ("1000000.01", False), ("25.505", True), ("25.5055", False), ("-1", False)],
        *[("1_000", False)],
        *[("1e3", False), ("025", False), (".5", False), ("", False)],
    ],
)
def test_the_price_pattern_is_the_rule_the_server_applies(price: str, valid: bool) -> None:
    from boxoffice.models.events import CreateEvent

    schema = document()["components"]["schemas"]["CreateEvent"]["properties"]["ticket_price"]["anyOf"][0]
    assert validator(schema).is_valid(price) == valid
    if valid:  # the server accepts every price the document allows
        body = {"name": "n", "venue": "v", "starts_at": "2099-01-01T00:00:00Z", "total_tickets": 1}
        assert CreateEvent.model_validate({**body, "ticket_price": price})


# --- the check that every answer the integration and end-to-end tests see is documented ---

JSON = {"Content-Type": "application/json"}


def test_the_answer_check_passes_a_documented_answer() -> None:
    from boxoffice.models.users import USER_EXAMPLE

    shipped().check("get", "/users/me", 200, JSON, json.dumps(USER_EXAMPLE).encode())
    shipped().check("delete", "/events/{event_id}", 204, {}, b"")


@pytest.mark.parametrize(
    ("method", "path", "status", "headers", "body"),
    [
        ("get", "/users/me", 422, {"Content-Type": PROBLEM_JSON}, b"{}"),  # status not documented
        ("get", "/users/me", 200, {"Content-Type": "text/html"}, b"<p>"),  # media type
        (
            "get",
            "/users/me",
            401,
            {"Content-Type": PROBLEM_JSON},
            json.dumps(json.loads(catalogue.sample(errors.NotAuthenticated).body or "")).encode(),
        ),  # no WWW-Authenticate
        ("delete", "/events/{event_id}", 204, JSON, b"null"),  # a body on a 204
        ("post", "/events/{event_id}/bookings", 400, {"Content-Type": PROBLEM_JSON}, b'{"code": "BAD"}'),
        (
            "get",
            "/events/{event_id}",
            404,
            {"Content-Type": PROBLEM_JSON},
            (catalogue.sample(errors.BookingNotFound).body or "").encode(),
        ),
    ],
)
def test_the_answer_check_refuses_what_the_document_does_not_declare(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> None:
    with pytest.raises((AssertionError, ValidationError)):
        shipped().check(method, path, status, headers, body)


def test_date_filters_are_described_as_the_venues_local_dates_as_the_search_reads_them() -> None:
    from boxoffice.logic.events import DATE_FILTER

    parameters = document()["paths"]["/events"]["get"]["parameters"]
    for name in ("date_from", "date_to"):
        described = next(p for p in parameters if p["name"] == name)["description"]
        assert described.startswith(DATE_FILTER)
        assert "local date" in described
        assert "day, UTC" not in described


@pytest.mark.parametrize("today", ["2026-12-07", "2031-06-30"])
def test_served_examples_are_dated_relative_to_the_clock_so_the_example_event_is_upcoming(
    today: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from boxoffice import clock, docs

    now = datetime.fromisoformat(today).replace(hour=23, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: now)
    served = json.loads(docs.openapi_json().body)
    schemas = served["components"]["schemas"]
    starts = datetime.fromisoformat(schemas["CreateEvent"]["examples"][0]["starts_at"])
    sales_end = datetime.fromisoformat(schemas["CreateTicketType"]["examples"][0]["sales_end"])
    assert now < sales_end < starts
    assert json.loads(docs.swagger_ui("json").body) == served


LIFECYCLES = (
    vocabulary.EventStatus,
    vocabulary.BookingStatus,
    vocabulary.TicketStatus,
    vocabulary.HoldStatus,
    vocabulary.EntryStatus,
    vocabulary.Role,
)


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda e: e.__name__)
def test_each_lifecycle_is_one_schema_with_exactly_the_values_of_its_enum(lifecycle: type[StrEnum]) -> None:
    schema = document()["components"]["schemas"][lifecycle.__name__]
    assert (schema["type"], schema["enum"]) == ("string", [member.value for member in lifecycle])


def enum_schemas(node: Any, where: str = "") -> Iterator[tuple[str, list[Any]]]:
    """Every schema of the document that lists values (`enum`), where it is."""
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            yield where, node["enum"]
        for key, value in node.items():
            yield from enum_schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from enum_schemas(value, f"{where}/{n}")


def test_no_schema_restates_a_lifecycle_instead_of_referring_to_it() -> None:
    # A status or role written out again in a model (a Literal) would drift from the enum the code uses.
    named = {f"/components/schemas/{lifecycle.__name__}" for lifecycle in LIFECYCLES}
    values = {value for lifecycle in LIFECYCLES for value in lifecycle}
    restated = [where for where, listed in enum_schemas(document()) if where not in named and set(listed) & values]
    assert restated == []
