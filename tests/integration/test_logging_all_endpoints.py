"""Every endpoint of template.yaml, on its success and failure paths, logs no password, hash or token.

The logs are captured as in test_accounts_logs (our logger at DEBUG, every other logger's records);
a function added to the template without a step here fails the coverage test below.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from boxoffice.logic import accounts
from devserver import template
from devserver.gateway import LambdaContext, build_event
from tests.integration.test_accounts import stored_users
from tests.integration.test_accounts_logs import Logs
from tests.integration.test_accounts_logs import logs as logs
from tests.support.events import event_body, future
from tests.support.handlers import Api, Result, routes_by_folder

PASSWORD = "first secret passphrase"
NEW_PASSWORD = "second secret passphrase"
ADMIN_PASSWORD = "admin secret passphrase"
WRONG_PASSWORD = "wrong secret passphrase"
# A well-formed token signed with another key: it must be refused without being logged.
FORGED = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.c2lnbmF0dXJlLW9mLWEtZm9yZ2VyeQ"


class Run:
    """The calls of one scenario, in order, with what they left behind (tokens, ids)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.called: set[str] = set()
        self.tokens: list[str] = []
        self.ids: dict[str, str] = {}

    def call(self, folder: str, status: int, **kwargs: Any) -> Result:
        result = self.api.call(folder, **kwargs)
        assert result.status == status, (folder, result.status, result.body)
        self.called.add(folder)
        return result

    def without_sample(self, folder: str, status: int, method: str, path: str, token: str) -> None:
        """The functions that have no events/ sample (docs, the door app, the $default route), through a built event."""
        route = routes_by_folder()[folder]
        headers = [("host", "localhost"), ("authorization", f"Bearer {token}")]
        event = build_event(method, path, headers, b"", route, {}, "127.0.0.1")
        context = LambdaContext(function_name=route.function, aws_request_id=event["requestContext"]["requestId"])
        assert self.api.handler(folder)(event, context)["statusCode"] == status, folder
        self.called.add(folder)

    def login(self, email: str, password: str) -> str:
        token: str = self.call("login", 200, body={"email": email, "password": password}).body["access_token"]
        self.tokens.append(token)
        return token


def accounts_steps(run: Run) -> None:
    run.call("register", 201, body={"name": "Ada", "email": "ada@example.com", "password": PASSWORD})
    run.call("register", 422, body={"name": "Ada", "email": "bad", "password": "short"})
    run.call("login", 401, body={"email": "ada@example.com", "password": WRONG_PASSWORD})
    old = run.login("ada@example.com", PASSWORD)
    run.call("get_me", 200, token=old)
    run.call("get_me", 401, token=FORGED)
    run.call("update_me", 403, token=old, body={"password": NEW_PASSWORD, "current_password": WRONG_PASSWORD})
    run.call("update_me", 200, token=old, body={"password": NEW_PASSWORD, "current_password": PASSWORD})
    run.call("get_me", 401, token=old)
    run.ids["user"] = run.login("ada@example.com", NEW_PASSWORD)
    run.ids["admin_id"] = accounts.create_account("Admin", "admin@example.com", ADMIN_PASSWORD, role="admin").id
    run.ids["admin"] = run.login("admin@example.com", ADMIN_PASSWORD)
    staff = run.call("find_user", 200, token=run.ids["admin"], query={"email": "ada@example.com"}).body
    run.call("find_user", 403, token=run.ids["user"], query={"email": "ada@example.com"})
    run.call("set_role", 409, token=run.ids["admin"], path={"user_id": run.ids["admin_id"]}, body={"role": "user"})
    run.call("set_role", 200, token=run.ids["admin"], path={"user_id": staff["id"]}, body={"role": "staff"})
    run.ids["staff"] = run.login("ada@example.com", NEW_PASSWORD)
    run.ids["user"] = run.ids["staff"]  # still a customer too: staff may book like anyone


def events_steps(run: Run) -> None:
    user, admin = run.ids["user"], run.ids["admin"]
    run.call("create_event", 403, token=user, body=event_body())
    run.call("create_event", 401, token=FORGED, body=event_body())
    run.ids["event"] = run.call(
        "create_event", 201, token=admin, body=event_body(total_tickets=5, starts_at=future(days=1 / 24))
    ).body["id"]
    run.call("list_events", 200, query={"q": "beethoven"})
    run.call("list_events", 422, query={"cursor": "not-a-cursor"})
    run.call("get_event", 200, path={"event_id": run.ids["event"]})
    run.call("get_event", 404, path={"event_id": "00000000-0000-0000-0000-000000000000"})
    run.call("update_event", 200, token=admin, path={"event_id": run.ids["event"]}, body={"name": "Beethoven Late"})
    event = {"event_id": run.ids["event"]}
    vip = run.call("create_ticket_type", 201, token=admin, path=event, body={"name": "VIP", "price": "90.00"}).body
    typed = {**event, "ticket_type_id": vip["id"]}
    run.call("update_ticket_type", 200, token=admin, path=typed, body={"total_tickets": 2})
    run.call("update_ticket_type", 403, token=user, path=typed, body={"total_tickets": 3})
    run.call("delete_ticket_type", 204, token=admin, path=typed)
    run.call("delete_ticket_type", 404, token=admin, path=typed)
    promo = {**event, "code": "early10"}
    run.call("create_promo_code", 201, token=admin, path=event, body={"code": "early10", "percent": 10})
    run.call("list_promo_codes", 200, token=admin, path=event)
    run.call("update_promo_code", 200, token=admin, path=promo, body={"max_uses": 5})
    run.call("update_promo_code", 403, token=user, path=promo, body={"max_uses": 6})
    run.call("delete_promo_code", 204, token=admin, path=promo)
    run.call("delete_promo_code", 404, token=admin, path=promo)


def waitlist_steps(run: Run) -> None:
    user, event = run.ids["user"], {"event_id": run.ids["event"]}
    run.call("join_waiting_list", 409, token=user, path=event, body={"quantity": 1})  # 5 on sale
    entry = run.call("join_waiting_list", 201, token=user, path=event, body={"quantity": 6}).body
    run.call("list_waiting_list", 200, token=user)
    run.call("leave_waiting_list", 404, token=run.ids["admin"], path={"entry_id": entry["id"]})
    run.call("leave_waiting_list", 200, token=user, path={"entry_id": entry["id"]})


def bookings_steps(run: Run) -> None:
    user, event = run.ids["user"], {"event_id": run.ids["event"]}
    headers = {"Idempotency-Key": "log-test-key"}
    booking = run.call("create_booking", 201, token=user, path=event, body={"quantity": 2}, headers=headers).body
    run.call("create_booking", 409, token=user, path=event, body={"quantity": 4})
    run.call("create_booking", 401, token=FORGED, path=event, body={"quantity": 1})
    run.call("list_bookings", 200, token=user)
    run.call("get_booking", 200, token=user, path={"booking_id": booking["id"]})
    run.call("get_booking", 404, token=run.ids["admin"], path={"booking_id": booking["id"]})
    run.call("get_tickets_pdf", 200, token=user, path={"booking_id": booking["id"]})
    run.call("get_tickets_pdf", 404, token=run.ids["admin"], path={"booking_id": booking["id"]})
    ticket = {"booking_id": booking["id"], "ticket_number": booking["tickets"][0]["ticket_number"]}
    run.call("get_ticket_qr", 200, token=user, path=ticket)
    run.call("get_ticket_qr", 404, token=run.ids["admin"], path=ticket)
    run.call("get_event_calendar", 200, path=event)
    door = run.call("create_booking", 201, token=user, path=event, body={"quantity": 1}).body["tickets"][0]
    scanned = {"event_id": run.ids["event"], "ticket_number": door["ticket_number"]}
    run.call("check_in", 200, token=run.ids["staff"], path=event, body={"code": door["code"]})
    run.call("check_in", 409, token=run.ids["staff"], path=event, body={"code": door["code"]})
    run.call("check_in", 422, token=run.ids["staff"], path=event, body={"code": FORGED})
    run.call("undo_check_in", 403, token=run.ids["staff"], path=scanned)
    run.call("undo_check_in", 200, token=run.ids["admin"], path=scanned)
    run.call("list_tickets", 200, token=run.ids["staff"], path=event, query={"limit": "1"})
    run.call("list_tickets", 422, token=run.ids["staff"], path=event, query={"updated_since": "soon"})
    run.call("event_stats", 200, token=run.ids["admin"], path=event)
    run.call("event_stats", 403, token=run.ids["staff"], path=event)
    run.call("cancel_ticket", 404, token=run.ids["admin"], path=ticket)
    run.call("cancel_ticket", 200, token=user, path=ticket)
    run.call("cancel_ticket", 409, token=user, path=ticket)
    run.call("cancel_booking", 200, token=user, path={"booking_id": booking["id"]})
    run.call("cancel_booking", 409, token=user, path={"booking_id": booking["id"]})
    holds_steps(run)
    run.call("delete_event", 204, token=run.ids["admin"], path=event)
    run.call("delete_event", 404, token=run.ids["admin"], path=event)


def holds_steps(run: Run) -> None:
    user, event = run.ids["user"], {"event_id": run.ids["event"]}
    held = run.call("create_hold", 201, token=user, path=event, body={"quantity": 1}).body
    run.call("get_hold", 200, token=user, path={"hold_id": held["id"]})
    run.call("get_hold", 404, token=run.ids["admin"], path={"hold_id": held["id"]})
    run.call("confirm_hold", 201, token=user, path={"hold_id": held["id"]}, headers={"Idempotency-Key": "log-hold"})
    again = run.call("create_hold", 201, token=user, path=event, body={"quantity": 1}).body
    run.call("release_hold", 401, token=FORGED, path={"hold_id": again["id"]})
    run.call("release_hold", 200, token=user, path={"hold_id": again["id"]})
    run.call("confirm_hold", 409, token=user, path={"hold_id": again["id"]})


def other_steps(run: Run) -> None:
    run.without_sample("docs", 200, "GET", "/openapi.json", run.ids["user"])
    run.without_sample("door", 200, "GET", "/door/app.js", run.ids["user"])
    run.call("jwks", 200)
    run.without_sample("not_found", 404, "POST", "/no/such/route", run.ids["user"])


SCENARIO: list[Callable[[Run], None]] = [accounts_steps, events_steps, waitlist_steps, bookings_steps, other_steps]


def test_every_endpoint_logs_no_password_hash_or_token(api: Api, logs: Logs) -> None:
    run = Run(api)
    for steps in SCENARIO:
        steps(run)

    every_function = {route.code_dir.name for route in template.routes()}
    assert run.called == every_function, f"endpoints without a logged run: {sorted(every_function - run.called)}"
    text = logs.text
    assert "correlation_id" in text, "the capture saw no request log line"
    hashes = [item["password_hash"] for item in stored_users() if "password_hash" in item]
    ticket_keys = list(json.loads(os.environ["TICKET_KEYS"])["keys"].values())
    keys = [os.environ["JWT_SECRET"], os.environ["CURSOR_KEY"], *ticket_keys]
    secrets = [PASSWORD, NEW_PASSWORD, ADMIN_PASSWORD, WRONG_PASSWORD, FORGED, *keys]
    leaked = [s for s in [*secrets, *run.tokens, *hashes] if s in text]
    assert leaked == []
    for marker in ("$2b$", "password_hash", "Bearer ", "eyJ"):  # bcrypt, the stored field, headers, any JWT
        assert marker not in text, marker


@pytest.mark.parametrize("marker", ["eyJ", "$2b$"])
def test_the_check_would_see_a_leak(api: Api, logs: Logs, marker: str) -> None:
    from boxoffice.observability import logger

    logger.debug("a careless line", extra={"value": f"{marker}abc"})
    assert marker in logs.text
