"""The shipped OpenAPI document matches the code and covers every route of template.yaml."""

from __future__ import annotations

import json
from typing import Any

from devserver import template
from devserver.gateway import load_module
from scripts import openapi

UNDOCUMENTED = {"$default", "GET /docs", "GET /openapi.json"}
DOCUMENT = template.ROOT / "layers" / "shared" / "boxoffice" / "openapi.json"


def operations(document: dict[str, Any]) -> set[str]:
    return {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops}


def test_committed_document_is_up_to_date_with_the_code() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == openapi.render(), "run `make openapi` and commit the result"


def test_every_template_route_is_documented_and_nothing_else() -> None:
    routes = {r.route_key for r in template.routes()} - UNDOCUMENTED
    assert operations(json.loads(DOCUMENT.read_text())) == routes


def test_each_documented_success_status_is_the_status_the_route_returns() -> None:
    document = json.loads(DOCUMENT.read_text())
    for route in template.routes():
        if route.route_key in UNDOCUMENTED:
            continue
        app = load_module(route).app
        declared = [r for r in app._static_routes + app._dynamic_routes if r.openapi_path == route.path]
        assert declared, route.route_key
        responses = document["paths"][route.path][route.method.lower()]["responses"]
        successes = [int(code) for code in responses if code.startswith("2")]
        assert successes == [declared[0].status_code], route.route_key


def test_routes_that_need_a_token_say_so_and_public_ones_do_not() -> None:
    document = json.loads(DOCUMENT.read_text())
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            needs_token = "UNAUTHENTICATED" in operation["responses"].get("401", {}).get("description", "")
            assert ("security" in operation) == needs_token, f"{method} {path}"
    assert "security" not in document["paths"]["/auth/login"]["post"]
    assert document["paths"]["/users/me"]["get"]["security"] == [{"bearerAuth": []}]
