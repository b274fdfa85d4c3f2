"""Invoke function handlers in-process with their events/ samples, as tests and benchmarks do."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from devserver import template
from devserver.gateway import Handler, LambdaContext, instances, load_handler

EVENTS = template.ROOT / "events"


@dataclass
class Result:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it is not JSON, or bytes when API Gateway gets them base64-encoded

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", self.headers.get("content-type", ""))


@cache
def routes_by_folder() -> dict[str, template.Route]:
    return {route.code_dir.name: route for route in template.routes()}


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


class Api:
    """`api.call("register", body={...})` -> Result, through the real handler of functions/register."""

    def handler(self, name: str) -> Handler:
        """A function's handler, for a single-threaded caller (one instance is never shared at once)."""
        return load_handler(routes_by_folder()[name])

    def call(
        self,
        name: str,
        *,
        body: Any = None,
        raw_body: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        path: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        source_ip: str | None = None,
    ) -> Result:
        event = copy.deepcopy(sample_event(name))
        route = routes_by_folder()[name]
        event["headers"].pop("authorization", None)
        if token is not None:
            event["headers"]["authorization"] = f"Bearer {token}"
        event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
        if path is not None:
            event["pathParameters"] = path
            raw_path = route.path
            for key, value in path.items():
                raw_path = raw_path.replace("{" + key + "}", value)
            event["rawPath"] = event["requestContext"]["http"]["path"] = raw_path
        if query is not None:
            event["queryStringParameters"] = query or None
            event["rawQueryString"] = urlencode(query)
            if not query:
                event.pop("queryStringParameters")
        if body is not None or raw_body is not None:
            event["body"] = raw_body if raw_body is not None else json.dumps(body)
            event["isBase64Encoded"] = False
        if source_ip is not None:
            event["requestContext"]["http"]["sourceIp"] = source_ip
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        context = LambdaContext(function_name=route.function, aws_request_id=event["requestContext"]["requestId"])
        return _result(instances(route).invoke(event, context))


def _result(raw: dict[str, Any]) -> Result:
    headers = {k: str(v) for k, v in (raw.get("headers") or {}).items()}
    text = raw.get("body") or ""
    if raw.get("isBase64Encoded"):
        return Result(int(raw["statusCode"]), headers, base64.b64decode(text))
    try:
        parsed: Any = json.loads(text) if text else None
    except json.JSONDecodeError:
        parsed = text
    return Result(int(raw["statusCode"]), headers, parsed)


def event_files() -> list[Path]:
    """The API Gateway samples (a stream consumer's sample is a stream batch: no route to call)."""
    return sorted(path for path in EVENTS.glob("*.json") if path.stem in routes_by_folder())
