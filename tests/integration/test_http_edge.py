"""The HTTP edge (boxoffice.http): who is asking is settled before what they sent, and money is exact."""

from __future__ import annotations

import json
from typing import Any

from devserver import template
from devserver.gateway import LambdaContext
from tests.support.conformance import DOCUMENT
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


# Each route that takes a body, with a valid object body for it: Powertools would take a list's first
# element as the body, so each non-object is tried also as a list around that valid object.
NOT_OBJECTS = ["[{}]", '"x"', "5", "2.5", "null", "true", "[]"]


def _body_routes(api: Api) -> dict[str, dict[str, Any]]:
    from tests.support.bookings import new_event

    admin, user, staff = token_for(api, role="admin"), token_for(api), token_for(api, role="staff")
    event_id, on_sale = create(api, admin)["id"], new_event()
    type_id = api.call("get_event", path={"event_id": event_id}).body["ticket_types"][0]["id"]
    user_id = api.call("get_me", token=user).body["id"]
    return {
        "register": {"body": {"name": "Bob", "email": "bob@example.com", "password": "correct horse"}},
        "login": {"body": {"email": "bob@example.com", "password": "correct horse"}},
        "update_me": {"body": {"name": "Renamed"}, "token": user},
        "create_event": {"body": event_body(name="Not Created"), "token": admin},
        "update_event": {"body": {"name": "Not Renamed"}, "token": admin, "path": {"event_id": event_id}},
        "create_booking": {"body": {"quantity": 2}, "token": user, "path": {"event_id": on_sale}},
        "create_hold": {"body": {"quantity": 2}, "token": user, "path": {"event_id": on_sale}},
        "join_waiting_list": {"body": {"quantity": 2}, "token": user, "path": {"event_id": on_sale}},
        "check_in": {"body": {"ticket_number": "7KQ4-M2ZX-AB12-CD34"}, "token": staff, "path": {"event_id": on_sale}},
        "create_ticket_type": {
            "body": {"name": "Not Added", "price": "5"},
            "token": admin,
            "path": {"event_id": event_id},
        },
        "update_ticket_type": {
            "body": {"name": "Not Renamed"},
            "token": admin,
            "path": {"event_id": event_id, "ticket_type_id": type_id},
        },
        "create_promo_code": {
            "body": {"code": "NOT-ADDED", "percent": 10},
            "token": admin,
            "path": {"event_id": event_id},
        },
        "update_promo_code": {
            "body": {"percent": 20},
            "token": admin,
            "path": {"event_id": event_id, "code": "NO-SUCH-CODE"},
        },
        "set_role": {"body": {"role": "staff"}, "token": admin, "path": {"user_id": user_id}},
    }


def _state(api: Api, routes: dict[str, dict[str, Any]]) -> list[Any]:
    """What any of the routes could have changed."""
    admin, user = routes["create_event"]["token"], routes["create_booking"]["token"]
    return [
        api.call("login", body=routes["login"]["body"]).status,
        api.call("get_me", token=user).body,
        api.call("list_events").body,
        api.call("list_bookings", token=user).body,
        api.call("list_waiting_list", token=user).body,
        api.call("get_event", path=routes["update_event"]["path"], token=admin).body,
        api.call("event_stats", path=routes["create_booking"]["path"], token=admin).body,
    ]


def test_the_body_test_covers_every_route_that_takes_a_body(api: Api) -> None:
    operations = json.loads(DOCUMENT.read_text())["paths"]
    taking_a_body = {
        route.code_dir.name
        for route in template.routes()
        if "requestBody" in operations.get(route.path, {}).get(route.method.lower(), {})
    }
    assert set(_body_routes(api)) == taking_a_body


def test_a_body_that_is_not_a_json_object_is_422_and_changes_nothing_on_every_body_route(api: Api) -> None:
    routes = _body_routes(api)
    before = _state(api, routes)
    for name, call in routes.items():
        valid = json.dumps(call["body"])
        for raw in [*NOT_OBJECTS, f"[{valid}]", f'[{valid}, 5, "x"]']:
            result = api.call(name, raw_body=raw, token=call.get("token"), path=call.get("path"))
            assert result.status == 422, (name, raw, result.body)
            assert result.content_type == "application/problem+json"
            assert result.body["errors"] == [{"field": "body", "message": "must be a JSON object"}], (name, raw)
    assert _state(api, routes) == before


def test_a_key_given_twice_is_422_naming_it_and_books_nothing(api: Api) -> None:
    from tests.support.bookings import ledger, new_event

    event_id = new_event()
    for raw in ('{"quantity": 1, "quantity": 3}', '{"quantity": 3, "quantity": 1}'):
        result = api.call("create_booking", raw_body=raw, token=token_for(api), path={"event_id": event_id})
        assert result.status == 422, result.body
        assert result.body["errors"] == [{"field": "quantity", "message": "is given more than once"}]
    assert ledger(event_id).available == 100


def test_nan_and_infinity_are_not_json_numbers(api: Api) -> None:
    admin = token_for(api, role="admin")
    for literal in ("NaN", "Infinity", "-Infinity"):
        raw = json.dumps(event_body()).replace('"25.50"', literal)
        result = api.call("create_event", raw_body=raw, token=admin)
        assert result.status == 400, (literal, result.body)
        assert result.body["code"] == "MALFORMED_BODY"
        assert literal in result.body["detail"]
    assert api.call("list_events").body["items"] == []
