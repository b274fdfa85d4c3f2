"""events/: one valid API Gateway v2 sample per function, each runnable by its handler over moto."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    DynamoDBStreamModel,
    EventBridgeModel,
)

from devserver import scheduler, streams, template
from devserver.gateway import LambdaContext, load_handler
from tests.support.handlers import Api, event_files, routes_by_folder

# Functions fed by a table's stream have a stream batch as their sample; event_files() are the HTTP ones.
STREAM_FUNCTIONS = {m.function.code_dir.name: m.function for m in streams.stream_mappings()}
# Scheduled functions have the event EventBridge sends a scheduled target; a rule's target, a domain event.
SCHEDULED = {s.function.code_dir.name: s for s in scheduler.schedules()}
RULE_TARGETS = {t.function.code_dir.name for t in streams.rule_targets()}


def test_every_function_has_exactly_one_sample_event() -> None:
    # Static answers need no sample: the docs, the door app's files, the $default 404.
    functions = {r.code_dir.name for r in template.routes()} - {"docs", "door", "not_found"}
    assert {path.stem for path in event_files()} == functions
    assert {path.stem for path in (template.ROOT / "events").glob("*.json")} == functions | set(STREAM_FUNCTIONS) | set(
        SCHEDULED
    ) | RULE_TARGETS


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


@pytest.mark.parametrize("name", sorted(STREAM_FUNCTIONS))
def test_stream_sample_event_is_a_dynamodb_stream_batch_its_handler_publishes(
    aws: None, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.config import settings

    monkeypatch.setenv("EVENT_BUS_NAME", "test-domain-events")  # the bus the template names in its variables
    settings.cache_clear()
    event = json.loads((template.ROOT / "events" / f"{name}.json").read_text())
    DynamoDBStreamModel.model_validate(event)
    boto3.client("events").create_event_bus(Name="test-domain-events")
    handler = load_handler(STREAM_FUNCTIONS[name])
    assert handler(event, LambdaContext(function_name=name, aws_request_id="sample")) == {"batchItemFailures": []}


@pytest.mark.parametrize("name", sorted(SCHEDULED))
def test_scheduled_sample_event_runs_its_handler(aws: None, name: str) -> None:
    schedule = SCHEDULED[name]
    event = json.loads((template.ROOT / "events" / f"{name}.json").read_text())
    assert (event["detail-type"], event["source"]) == ("Scheduled Event", "aws.events")
    handler = load_handler(schedule.function)
    assert handler(event, LambdaContext(function_name=schedule.function.function, aws_request_id="sample")) == {
        "released": 0
    }


@pytest.mark.parametrize("target", streams.rule_targets(), ids=lambda t: t.function.code_dir.name)
def test_rule_sample_event_is_one_the_rule_passes_and_its_handler_takes(
    aws: None, target: streams.RuleTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An EventBridge event the rule's pattern matches, as `sam local invoke -e` hands it over; the booking it
    # names is not in these tables, so the mailer finds nothing to tell (with mail on, as deployed).
    from boxoffice.config import settings

    monkeypatch.setenv("MAIL_ENABLED", "true")
    settings.cache_clear()
    event = json.loads((template.ROOT / "events" / f"{target.function.code_dir.name}.json").read_text())
    EventBridgeModel.model_validate(event)
    assert streams.matches(target.pattern, event)
    handler = load_handler(target.function)
    assert handler(event, LambdaContext(function_name=target.function.function, aws_request_id="sample")) == {
        "sent": []
    }
