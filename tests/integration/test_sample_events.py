"""events/: one valid API Gateway v2 sample per function, each runnable by its handler over moto."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from devserver import template
from tests.support.handlers import Api, event_files, routes_by_folder


def test_every_function_has_exactly_one_sample_event() -> None:
    functions = {r.code_dir.name for r in template.routes()} - {"docs", "not_found"}
    assert {path.stem for path in event_files()} == functions


@pytest.mark.parametrize("path", event_files(), ids=lambda p: p.stem)
def test_sample_event_is_a_valid_http_api_v2_event(path) -> None:  # type: ignore[no-untyped-def]
    event = APIGatewayProxyEventV2Model.model_validate(json.loads(path.read_text()))
    route = routes_by_folder()[path.stem]
    assert event.routeKey == route.route_key
    assert event.requestContext.http.method == route.method


@pytest.mark.parametrize("path", event_files(), ids=lambda p: p.stem)
def test_sample_event_runs_its_handler_without_a_server_error(api: Api, path) -> None:  # type: ignore[no-untyped-def]
    # Samples carry a placeholder token: authenticated routes answer 401, the rest their normal answers.
    result = api.call(
        path.stem, headers={"authorization": json.loads(path.read_text())["headers"].get("authorization", "")}
    )
    assert result.status < 500, result.body
    if result.status >= 400:
        assert result.content_type == "application/problem+json"
