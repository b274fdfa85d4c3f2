"""Helpers for the events tests: accounts with tokens, valid event bodies, and direct counter moves."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.logic import accounts
from boxoffice.models.events import CreateEvent
from boxoffice.store import dynamo, inventory
from boxoffice.store.dynamo import dump, values
from boxoffice.store.events import event_key
from scripts.seed_events import import_events
from tests.support.handlers import Api

PASSWORD = "correct horse battery"


def token_for(api: Api, *, role: str = "user") -> str:
    """A fresh account of `role` and a token from the real login handler."""
    email = f"{role}-{uuid.uuid4().hex[:12]}@example.com"
    accounts.create_account(role.title(), email, PASSWORD, role=role)
    result = api.call("login", body={"email": email, "password": PASSWORD})
    assert result.status == 200, result.body
    token: str = result.body["access_token"]
    return token


def revoke(api: Api, token: str) -> None:
    """Change the account's password: every token issued before stops working."""
    result = api.call("update_me", token=token, body={"password": "a new password", "current_password": PASSWORD})
    assert result.status == 200, result.body


def future(days: float = 30, *, offset: str = "+00:00") -> str:
    moment = (clock.now() + timedelta(days=days)).replace(microsecond=0, tzinfo=None)
    return moment.isoformat() + offset


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Beethoven Night",
        "description": "Symphonies 5 and 7.",
        "venue": "Royal Albert Hall",
        "starts_at": future(),
        "total_tickets": 100,
        "ticket_price": "25.50",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def create(api: Api, token: str, **overrides: Any) -> dict[str, Any]:
    result = api.call("create_event", token=token, body=event_body(**overrides))
    assert result.status == 201, result.body
    event: dict[str, Any] = result.body
    return event


def stock(*overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Many events at once, through the bulk loader (moto's transactions slow down as tables grow)."""
    loaded = import_events([CreateEvent.model_validate(event_body(**o)) for o in overrides])
    return [e.model_dump(mode="json") for e in loaded]


def sell(event_id: str, quantity: int = 1) -> bool:
    """What a booking does to the event's quota: take tickets only if enough are left (True when it did)."""
    client = dynamo.client()
    try:
        client.update_item(
            TableName=settings().events_table,
            Key=dump(inventory.quota_key(event_id)),
            UpdateExpression="SET available_tickets = available_tickets - :q, sold = sold + :q",
            ConditionExpression="available_tickets >= :q",
            ExpressionAttributeValues=values(q=quantity),
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def raw_item(event_id: str) -> dict[str, Any] | None:
    return dynamo.get(settings().events_table, event_key(event_id))


def raw_quota(event_id: str) -> dict[str, Any] | None:
    """The event's quota item: its total, available and sold counters."""
    return dynamo.get(settings().events_table, inventory.quota_key(event_id))
