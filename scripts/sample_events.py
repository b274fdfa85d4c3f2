"""Writes events/<function>.json: one API Gateway HTTP API v2 sample event per function, and for each
scheduled function the event EventBridge sends it.

`python -m scripts.sample_events` regenerates them from SAMPLES; routes and schedules come from template.yaml.
Authenticated samples carry a placeholder token: `sam local invoke` then answers 401 unless you
paste a token from POST /auth/login (the tests put in a fresh one). The stream consumer's sample
(events/publish_domain_events.json, a DynamoDB Streams batch) is kept by hand; the tests run it too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from devserver import scheduler, template
from devserver.gateway import build_event

TOKEN = "Bearer <paste an access_token from POST /auth/login>"
EVENT_ID = "0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50"
BOOKING_ID = "01JDQ7Y3M4N5P6Q7R8S9T0V1W2"
HOLD_ID = "01JDQ7X9A8B7C6D5E4F3G2H1J0"
TICKET_TYPE_ID = "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a"
TICKET_NUMBER = "7KQ4-M2ZX-8H3D-QW9P-5T6V-B1N2-C3R4"

# folder -> (path parameters, query string, body, needs a token)
SAMPLES: dict[str, tuple[dict[str, str], str, dict[str, Any] | None, bool]] = {
    "register": ({}, "", {"name": "Ada Lovelace", "email": "ada@example.com", "password": "correct horse"}, False),
    "login": ({}, "", {"email": "ada@example.com", "password": "correct horse"}, False),
    "get_me": ({}, "", None, True),
    "update_me": ({}, "", {"name": "Ada King"}, True),
    # events
    "create_event": (
        {},
        "",
        {
            "name": "Beethoven Night",
            "description": "Symphonies 5 and 7.",
            "venue": "Royal Albert Hall",
            "starts_at": "2030-12-01T19:30:00+00:00",
            "total_tickets": 500,
            "ticket_price": "45.00",
            "currency": "GBP",
        },
        True,
    ),
    "list_events": ({}, "q=beeth&limit=20", None, False),
    "get_event": ({"event_id": EVENT_ID}, "", None, False),
    "update_event": ({"event_id": EVENT_ID}, "", {"total_tickets": 600}, True),
    "delete_event": ({"event_id": EVENT_ID}, "", None, True),
    # ticket types
    "create_ticket_type": (
        {"event_id": EVENT_ID},
        "",
        {
            "name": "Early bird",
            "description": "The first 100 seats, until a month before.",
            "price": "35.00",
            "total_tickets": 100,
            "max_tickets_per_booking": 4,
            "sales_end": "2030-11-01T00:00:00+00:00",
        },
        True,
    ),
    "update_ticket_type": ({"event_id": EVENT_ID, "ticket_type_id": TICKET_TYPE_ID}, "", {"total_tickets": 150}, True),
    "delete_ticket_type": ({"event_id": EVENT_ID, "ticket_type_id": TICKET_TYPE_ID}, "", None, True),
    # promo codes
    "create_promo_code": (
        {"event_id": EVENT_ID},
        "",
        {"code": "EARLY10", "percent": 10, "max_uses": 100, "valid_until": "2030-11-01T00:00:00+00:00"},
        True,
    ),
    "list_promo_codes": ({"event_id": EVENT_ID}, "limit=20", None, True),
    "update_promo_code": ({"event_id": EVENT_ID, "code": "EARLY10"}, "", {"max_uses": 50}, True),
    "delete_promo_code": ({"event_id": EVENT_ID, "code": "EARLY10"}, "", None, True),
    # bookings
    "create_booking": ({"event_id": EVENT_ID}, "", {"quantity": 2, "ticket_type_id": TICKET_TYPE_ID}, True),
    "list_bookings": ({}, "limit=20", None, True),
    "get_booking": ({"booking_id": BOOKING_ID}, "", None, True),
    "cancel_booking": ({"booking_id": BOOKING_ID}, "", None, True),
    "cancel_ticket": ({"booking_id": BOOKING_ID, "ticket_number": TICKET_NUMBER}, "", None, True),
    # holds
    "create_hold": ({"event_id": EVENT_ID}, "", {"quantity": 2, "ticket_type_id": TICKET_TYPE_ID}, True),
    "get_hold": ({"hold_id": HOLD_ID}, "", None, True),
    "confirm_hold": ({"hold_id": HOLD_ID}, "", None, True),
    "release_hold": ({"hold_id": HOLD_ID}, "", None, True),
}
SCHEDULED_AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def write() -> None:
    routes = {r.code_dir.name: r for r in template.routes()}
    for folder, (params, query, body, auth) in SAMPLES.items():
        route = routes[folder]
        path = route.path if route.path != "$default" else "/no/such/route"
        for key, value in params.items():
            path = path.replace("{" + key + "}", value)
        headers = [("host", "abc123.execute-api.us-east-1.amazonaws.com"), ("user-agent", "curl/8.5.0")]
        if body is not None:
            headers.append(("content-type", "application/json"))
        if auth:
            headers.append(("authorization", TOKEN))
        method = route.method if route.method != "ANY" else "GET"
        raw = json.dumps(body).encode() if body is not None else b""
        target = f"{path}?{query}" if query else path
        event = build_event(method, target, headers, raw, route, params, "203.0.113.10")
        event["requestContext"]["requestId"] = f"sample-{folder}"
        event["requestContext"]["apiId"] = "abc123"
        event["requestContext"]["domainName"] = "abc123.execute-api.us-east-1.amazonaws.com"
        event["requestContext"]["domainPrefix"] = "abc123"
        event["requestContext"]["time"] = "27/Nov/2026:12:00:00 +0000"
        event["requestContext"]["timeEpoch"] = 1795780800000
        (template.ROOT / "events" / f"{folder}.json").write_text(json.dumps(event, indent=2) + "\n")
    for schedule in scheduler.schedules():
        event = scheduler.scheduled_event(schedule.rule, SCHEDULED_AT)
        event["id"] = f"sample-{schedule.function.code_dir.name}"
        (template.ROOT / "events" / f"{schedule.function.code_dir.name}.json").write_text(
            json.dumps(event, indent=2) + "\n"
        )


if __name__ == "__main__":
    write()
