"""Builds layers/shared/boxoffice/openapi.json from every function's routes (Powertools' OpenAPI merge).

`make openapi` runs it; tests/unit/test_openapi.py fails when the committed document drifts.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from devserver import template
from devserver.gateway import load_module

TITLE = "Box office API"
DESCRIPTION = (
    "Register, log in, browse and search events, book tickets that are never oversold, cancel, and see "
    "your history. Errors are RFC 9457 problem details with a stable `code`. Authenticate with "
    "`Authorization: Bearer <access_token>` from POST /auth/login."
)
SECURITY = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


def build() -> dict[str, Any]:
    # Importing handlers reads config; no AWS call happens at import time.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sys.path.insert(0, str(template.ROOT / "layers" / "shared"))
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    merge = OpenAPIMerge(title=TITLE, version="1.0.0", description=DESCRIPTION, on_conflict="error")
    seen: set[str] = set()
    for route in template.routes():
        if route.function in seen:
            continue
        seen.add(route.function)
        module = load_module(route)
        merge.add_schema(_summarised(module.app.get_openapi_schema(title=TITLE), module.__doc__))
    # Through Powertools' own serialiser: the raw schema holds enums and models, not plain JSON.
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    document.setdefault("components", {})["securitySchemes"] = SECURITY
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation["responses"] = {str(k): v for k, v in operation.get("responses", {}).items()}
            # Routes that can answer UNAUTHENTICATED take a bearer token: mark them so Swagger UI sends it.
            if "UNAUTHENTICATED" in responses.get("401", {}).get("description", ""):
                operation["security"] = [{"bearerAuth": []}]
            # Our validation errors are problem+json (boxoffice.http), not Powertools' default shape.
            if "422" in responses:
                responses["422"] = {
                    "description": "`VALIDATION_FAILED` (bad fields listed under `errors`) and other 422 problems",
                    "content": problem,
                }
    schemas = document["components"].get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    return document


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
