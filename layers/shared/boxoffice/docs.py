"""Serves the OpenAPI document and Swagger UI.

openapi.json is generated from every function's routes by `make openapi` (scripts/openapi.py)
and shipped in this package; a test fails when it drifts from the code or the template.
Swagger UI's assets come from the copy bundled inside Powertools, so /docs needs no CDN.

The examples' dates are written as seen on EXAMPLES_WRITTEN and served moved by whole days to
today, so that Try-it-out's event starts in the future whenever it is tried (a fixed date
would pass, and POST /events would answer 422).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response

from boxoffice import clock

DOCUMENT = Path(__file__).with_name("openapi.json")
# The day the examples' times were written relative to: the example event is created on it and
# starts two months later, its early-bird sales ending a month before.
EXAMPLES_WRITTEN = date(2026, 10, 1)
_DAY = re.compile(r"(?<![\w-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")  # a date, alone or starting a date-time


@cache
def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def _moved(node: Any, days: timedelta, *, in_example: bool = False) -> Any:
    """The document with every date inside an example moved by `days` (a time's clock time and offset
    stay: it is the same instant, whole days later)."""
    if isinstance(node, dict):
        return {k: _moved(v, days, in_example=in_example or k in ("example", "examples")) for k, v in node.items()}
    if isinstance(node, list):
        return [_moved(v, days, in_example=in_example) for v in node]
    if isinstance(node, str) and in_example:
        return _DAY.sub(lambda m: (date(*map(int, m.groups())) + days).isoformat(), node)
    return node


@lru_cache(maxsize=2)
def as_of(today: date) -> str:
    """The document as served on `today`: the shipped one with its examples' dates moved to it."""
    return json.dumps(_moved(_document(), today - EXAMPLES_WRITTEN), ensure_ascii=False, indent=2)


def _today_document() -> str:
    return as_of(clock.now().date())


def openapi_json() -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=_today_document(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@lru_cache(maxsize=2)
def _page(document: str) -> str:
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(swagger_ui.__file__).parent
    return generate_swagger_html(
        # "</" must not end the inline <script> the spec is embedded in.
        document.replace("</", "<\\/"),
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="",
        oauth2_config=None,
        persist_authorization=False,  # a token in localStorage outlives the tab
    )


def swagger_ui(format: str | None = None) -> Response[str]:  # noqa: A002 - the query parameter's name
    """The page, or with `?format=json` (the link Swagger UI shows under the title) the document."""
    if format == "json":
        return openapi_json()
    return Response(
        status_code=200,
        content_type="text/html",
        body=_page(_today_document()),
        headers={"Cache-Control": "public, max-age=300"},
    )
