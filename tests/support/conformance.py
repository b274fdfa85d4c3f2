"""Every answer a test sees, checked against the shipped OpenAPI document: the status is documented for
the operation, and the content type, body and headers are what the document says they are."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import requests
from jsonschema import Draft202012Validator

from devserver import template
from devserver.invoke import routes_by_folder

DOCUMENT = template.ROOT / "layers" / "shared" / "boxoffice" / "openapi.json"
# route keys of template.yaml that are no API operation: the catch-all, the docs, the door app
UNDOCUMENTED = {"$default", "GET /docs", "GET /openapi.json", "GET /door", "GET /door/", "GET /door/{file}"}


class Conformance:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._paths = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in document["paths"]]

    def template(self, path: str) -> str | None:
        """The document's path template an actual path falls under."""
        return next((t for pattern, t in self._paths if pattern.match(path)), None)

    def check(self, method: str, path: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        operation = self.document["paths"][path][method.lower()]
        where = f"{method.upper()} {path} -> {status}"
        assert str(status) in operation["responses"], f"undocumented status: {where}"
        answer = operation["responses"][str(status)]
        present = {name.lower() for name in headers}
        for name, header in answer.get("headers", {}).items():
            assert name.lower() in present or not header.get("required"), f"{where}: no {name} header"
        if "content" not in answer:
            assert body == b"", f"{where}: a body where none is documented"
            return
        media = next(v for k, v in headers.items() if k.lower() == "content-type").split(";")[0]
        assert media in answer["content"], f"{where}: {media} is not documented"
        if not media.endswith("json"):  # a document (PDF, SVG, calendar): documented as a binary string
            assert body, f"{where}: an empty {media}"
            return
        parsed = json.loads(body)
        self._validator(json.dumps(answer["content"][media]["schema"])).validate(parsed)
        # A problem's code is one the operation lists for this status (each has an example).
        examples = answer["content"][media].get("examples")
        if examples is not None:
            assert parsed["code"] in examples, f"{where}: code {parsed['code']} is not documented"

    @cache  # one document per test session: its validators are kept
    def _validator(self, schema: str) -> Draft202012Validator:
        root = {**json.loads(schema), "components": self.document["components"]}
        return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def shipped() -> Conformance:
    return Conformance(json.loads(DOCUMENT.read_text(encoding="utf-8")))


def check_result(name: str, status: int, headers: Mapping[str, str], body: Any) -> None:
    """Check a handler's answer (devserver.invoke.Result's parts) by the function's folder name."""
    route = routes_by_folder()[name]
    if route.route_key not in UNDOCUMENTED:
        raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        shipped().check(route.method, route.path, status, headers, raw)


def check_response(response: requests.Response) -> None:
    """Check an answer over HTTP, when its method and path are a documented operation."""
    path = shipped().template(requests.utils.urlparse(response.request.url or "").path)
    method = (response.request.method or "").lower()
    if path is not None and method in shipped().document["paths"][path]:
        shipped().check(method, path, response.status_code, response.headers, response.content)
