"""Builds layers/shared/boxoffice/openapi.json from every function's routes (Powertools' OpenAPI merge).

`make openapi` runs it; tests/unit/test_openapi.py fails when the committed document drifts.

Each route declares its operationId, success and own failures (boxoffice.http.failures, by code); this adds
what the shared edge answers for every route alike (boxoffice.http.edge_failures), builds every problem
answer from the codes (boxoffice.catalogue) and states the facts of HTTP that Powertools' generator leaves
out: a query parameter is absent rather than null, a 204 has no content, a public operation needs no token.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

from devserver import template
from devserver.gateway import load_module

if TYPE_CHECKING:
    from boxoffice.errors import DomainError

TITLE = "Box office API"
DESCRIPTION = (
    "Register, log in, browse and search events, book tickets that are never oversold, cancel, and see "
    "your history. Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`; "
    "see the Problem schema for every code and member. Authenticate with `Authorization: Bearer "
    "<access_token>` from POST /auth/login. Prices are decimal strings, never JSON numbers on the way out."
)
LICENSE = {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"}
SECURITY = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
REF = "#/components/schemas/{model}"
Edges = dict[tuple[str, str], tuple[type["DomainError"], ...]]


def build() -> dict[str, Any]:
    # Importing handlers reads config; no AWS call happens at import time.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sys.path.insert(0, str(template.ROOT / "layers" / "shared"))
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    from boxoffice import errors, http

    merge = OpenAPIMerge(title=TITLE, version="1.0.0", description=DESCRIPTION, on_conflict="error")
    edges: Edges = {}
    seen: set[str] = set()
    for route in template.routes():
        if route.function in seen:
            continue
        seen.add(route.function)
        module = load_module(route)
        # A function that may call DynamoDB may be throttled by it: 503 THROTTLED beside the edge's answers.
        throttled = (errors.Throttled,) if uses_dynamodb(route.function) else ()
        for declared in http.routes(module.app):
            edges[(declared.openapi_path, declared.method.lower())] = (*http.edge_failures(declared), *throttled)
        merge.add_schema(_summarised(module.app.get_openapi_schema(title=TITLE), module.__doc__))
    # Through Powertools' own serialiser: the raw schema holds enums and models, not plain JSON.
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    document["info"]["license"] = LICENSE
    components = document.setdefault("components", {})
    components["securitySchemes"] = SECURITY
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    schemas.update(_problem_schemas())
    for schema in schemas.values():
        for member in schema.get("properties", {}).values():
            # pydantic writes a field's Python default; null is no default for a field that cannot be null.
            if "default" in member and member["default"] is None and not _nullable(member):
                del member["default"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            _complete(operation, edges[(path, method)])
    return document


def uses_dynamodb(function: str) -> bool:
    """Whether the function's policy in template.yaml grants any DynamoDB action."""
    policies = template.resources("AWS::Serverless::Function")[function]["Properties"].get("Policies", [])
    statements = [s for policy in policies if isinstance(policy, dict) for s in policy.get("Statement", [])]
    actions = [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    return any(str(action).startswith("dynamodb:") for action in actions)


def _problem_schemas() -> dict[str, Any]:
    """Problem and its parts, whether or not a route's own failures brought them in."""
    from boxoffice.models.common import Problem

    schema = Problem.model_json_schema(ref_template=REF, mode="serialization")
    return {**schema.pop("$defs", {}), "Problem": schema}


def _complete(operation: dict[str, Any], edge: tuple[type[DomainError], ...]) -> None:
    from boxoffice import catalogue, errors

    responses = {str(status): answer for status, answer in operation["responses"].items()}
    successes = {status: answer for status, answer in responses.items() if status.startswith("2")}
    for answer in successes.values():
        if not answer.get("content"):
            answer.pop("content", None)
    # The codes the route declared (its examples), with the edge's, in errors.py's order.
    declared = {
        code
        for status, answer in responses.items()
        if status not in successes
        for media in answer.get("content", {}).values()
        for code in media.get("examples", {})
    }
    kinds = [kind for kind in errors.kinds() if kind.code in declared or kind in edge]
    # Powertools' own 422 (its validation error shape) goes: ours is among the problems.
    problems = catalogue.problems(kinds, {"schema": {"$ref": REF.format(model="Problem")}})
    operation["responses"] = {**successes, **{str(status): answer for status, answer in problems.items()}}
    # Swagger UI sends the token where an operation asks for it; public operations say they need none.
    operation["security"] = [{"bearerAuth": []}] if errors.NotAuthenticated in edge else []
    for parameter in operation.get("parameters", []):
        if not parameter.get("required"):
            parameter["schema"] = _not_null(parameter["schema"])


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(_nullable(v) for v in schema.get("anyOf", []))


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter is absent or has a value: never null, whatever its Python type says."""
    variants = [v for v in schema.get("anyOf", []) if v != {"type": "null"}]
    if len(variants) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**variants[0], **rest}


def _summarised(schema: Any, docstring: str | None) -> Any:
    """Each handler's module docstring ("POST /events: an admin creates an event ...") becomes the
    summary of its operation, in place of Powertools' default "POST /events"."""
    summary = (docstring or "").strip().splitlines()[0].partition(": ")[2].rstrip(".") if docstring else ""
    if summary:
        for operations in schema.paths.values():
            for method in ("get", "put", "post", "patch", "delete"):
                operation = getattr(operations, method, None)
                if operation is not None:
                    operation.summary = summary[:1].upper() + summary[1:]
    return schema


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    target = template.ROOT / "layers" / "shared" / "boxoffice" / "openapi.json"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target.relative_to(template.ROOT)}")


if __name__ == "__main__":
    main()
