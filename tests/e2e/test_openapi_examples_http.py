"""Swagger UI's Try-it-out sends the document's examples as they are: the live API must take every one."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.live import LiveServer


def request_examples(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body) for every example request body, as Swagger UI fills it in."""
    schemas = document["components"]["schemas"]
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            schema = body["content"]["application/json"]["schema"]
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema
            found += [(method.upper(), path, example) for example in schema["examples"]]
    return found


def create_event_example(document: dict[str, Any]) -> dict[str, Any]:
    (example,) = (body for method, path, body in request_examples(document) if (method, path) == ("POST", "/events"))
    return example


def fresh_user(live: LiveServer) -> tuple[str, str]:
    email, password = f"try-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
    user = live.request("POST", "/auth/register", json={"name": "Try", "email": email, "password": password})
    assert user.status_code == 201, user.text
    return user.json()["id"], live.login(email, password)


def test_the_create_event_example_creates_an_event(live: LiveServer) -> None:
    example = create_event_example(live.request("GET", "/openapi.json").json())
    created = live.request("POST", "/events", token=live.admin_token(), json=example)
    assert created.status_code == 201, created.text
    # The Swagger UI page embeds the same document, so its Try-it-out sends the same example.
    assert example["starts_at"] in live.request("GET", "/docs").text


def test_every_request_example_passes_the_apis_validation(live: LiveServer) -> None:
    document = live.request("GET", "/openapi.json").json()
    admin = live.admin_token()
    # Without its ticket types, so that the ticket-type example's name is still free on this event.
    untyped = {**create_event_example(document), "ticket_types": None}
    event = live.request("POST", "/events", token=admin, json=untyped).json()
    user_id, user = fresh_user(live)
    ids = {"{event_id}": event["id"], "{ticket_type_id}": event["ticket_types"][0]["id"], "{user_id}": user_id}

    refused = []
    # A second ticket type makes {quantity} alone a 422 on this event: the type examples go last.
    for method, template, body in sorted(request_examples(document), key=lambda e: "/ticket-types" in e[1]):
        path = template
        for name, value in ids.items():
            path = path.replace(name, value)
        answer = live.request(method, path, token=user, json=body)
        if answer.status_code == 403:  # an admin's operation
            answer = live.request(method, path, token=admin, json=body)
        assert answer.status_code < 500, (method, template, answer.text)
        if answer.status_code == 422 and answer.json()["code"] == "VALIDATION_FAILED":
            refused.append((method, template, body, answer.json()["errors"]))
    assert refused == []
