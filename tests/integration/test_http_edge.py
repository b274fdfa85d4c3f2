"""The HTTP edge (boxoffice.http): who is asking is settled before what they sent, and money is exact."""

from __future__ import annotations

import json

from devserver.gateway import LambdaContext
from tests.support.events import create, event_body, token_for
from tests.support.handlers import Api, sample_event


def test_no_token_with_a_bad_body_is_401_not_422(api: Api) -> None:
    for name in ("create_event", "update_me"):
        result = api.call(name, body={"unexpected": True})
        assert result.status == 401, (name, result.body)
        assert result.headers["WWW-Authenticate"].startswith("Bearer")
        assert result.body["code"] == "UNAUTHENTICATED"


def test_a_user_sending_a_bad_event_body_hears_403_not_422(api: Api) -> None:
    result = api.call("create_event", body={"name": ""}, token=token_for(api))
    assert result.status == 403
    assert result.body["code"] == "FORBIDDEN"


def test_an_admin_sending_a_bad_event_body_hears_422(api: Api) -> None:
    result = api.call("create_event", body={"name": ""}, token=token_for(api, role="admin"))
    assert result.status == 422
    assert result.content_type == "application/problem+json"


def test_a_json_number_price_is_kept_exact(api: Api) -> None:
    admin = token_for(api, role="admin")
    for sent, shown in ((19.99, "19.99"), (0.1, "0.10"), (1e2, "100.00")):
        created = create(api, admin, **{"ticket_price": sent})
        assert created["ticket_price"] == shown, sent
    # More places than a currency has is refused, not rounded.
    result = api.call("create_event", body=event_body(ticket_price=19.999), token=admin)
    assert result.status == 422


def test_header_names_are_matched_in_any_case_as_sam_local_sends_them(api: Api) -> None:
    token = token_for(api)
    event = sample_event("update_me")
    event["headers"] = {"Host": "localhost", "Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    event["body"] = json.dumps({"name": "Mixed Case"})
    context = LambdaContext(function_name="update_me", aws_request_id="mixed-case")
    response = api.handler("update_me")(event, context)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["name"] == "Mixed Case"
