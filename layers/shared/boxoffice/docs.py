"""Serves the OpenAPI document and Swagger UI.

openapi.json is generated from every function's routes by `make openapi` (scripts/openapi.py)
and shipped in this package; a test fails when it drifts from the code or the template.
Swagger UI's assets come from the copy bundled inside Powertools, so /docs needs no CDN.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

DOCUMENT = Path(__file__).with_name("openapi.json")


@cache
def _document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


def openapi_json() -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=_document(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@cache
def _page() -> str:
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(swagger_ui.__file__).parent
    return generate_swagger_html(
        # "</" must not end the inline <script> the spec is embedded in.
        _document().replace("</", "<\\/"),
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
        body=_page(),
        headers={"Cache-Control": "public, max-age=300"},
    )
