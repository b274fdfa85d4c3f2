"""The local runtime builds faithful API Gateway HTTP API v2 events."""

from __future__ import annotations

import base64

from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from devserver import template
from devserver.gateway import Gateway, build_event

ROUTE = template.Route("GET", "/events/{event_id}", "GetEventFunction", template.ROOT / "functions", "app.handler")


def test_event_has_lowercased_headers_cookies_query_and_path_parameters() -> None:
    event = build_event(
        "GET",
        "/events/abc?q=jazz+night&q=blues&limit=5",
        [("Host", "localhost"), ("X-Trace", "1"), ("Cookie", "a=1; b=2"), ("X-Trace", "2")],
        b"",
        ROUTE,
        {"event_id": "abc"},
        "127.0.0.1",
    )
    parsed = APIGatewayProxyEventV2Model.model_validate(event)
    assert parsed.rawPath == "/events/abc"
    assert parsed.rawQueryString == "q=jazz+night&q=blues&limit=5"
    assert event["queryStringParameters"] == {"q": "jazz night,blues", "limit": "5"}
    assert event["headers"]["x-trace"] == "1,2"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["pathParameters"] == {"event_id": "abc"}
    assert event["routeKey"] == "GET /events/{event_id}"
    assert "body" not in event


def test_binary_bodies_are_base64_encoded_and_json_bodies_are_text() -> None:
    binary = build_event("POST", "/x", [("content-type", "application/octet-stream")], b"\xff\x00", ROUTE, {}, "::1")
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\x00"
    text = build_event("POST", "/x", [("content-type", "application/json")], b'{"a": 1}', ROUTE, {}, "::1")
    assert text["isBase64Encoded"] is False
    assert text["body"] == '{"a": 1}'


def test_routes_match_most_specific_first_and_fall_back_to_default() -> None:
    gateway = Gateway(template.routes())
    found = gateway.match("GET", "/users/me")
    assert found is not None
    assert found[0].route_key == "GET /users/me"
    fallback = gateway.match("GET", "/definitely/not/here")
    assert fallback is not None
    assert fallback[0].route_key == "$default"
    wrong_method = gateway.match("DELETE", "/users/me")
    assert wrong_method is not None
    assert wrong_method[0].route_key == "$default"
