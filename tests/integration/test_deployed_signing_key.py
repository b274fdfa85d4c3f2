"""As deployed, the keys come from Secrets Manager (the *_ARN variables), read once per cold start.

The other tests sign with JWT_SECRET; here every function starts cold with the deployed setting and
answers its events/ sample with a valid token (docs and not_found have none and
read no secret), so the IAM check (tests/support/iam.py) sees which
functions read the secret and that their policies let them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from boxoffice import auth, keys, ticket_codes
from boxoffice.logic import accounts
from devserver.runtime import reset_caches
from scripts import ticket_ring
from tests.support.bookings import AT_THE_DOOR, new_account, new_event
from tests.support.events import stock
from tests.support.handlers import Api, event_files, sample_event


@pytest.fixture
def deployed_secret(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    client = boto3.client("secretsmanager")
    monkeypatch.setenv("JWT_SECRET", "")
    monkeypatch.setenv("JWT_SECRET_ARN", client.create_secret(Name="jwt", SecretString="k" * 64)["ARN"])
    ring = ticket_ring.new_ring()
    deployed = {
        "TICKET_KEYS": ring,
        "TICKET_PUBLIC_KEYS": ticket_ring.public_document(ring),
        "CURSOR_KEY": "c" * 64,
    }
    for variable, value in deployed.items():
        monkeypatch.setenv(variable, "")
        monkeypatch.setenv(f"{variable}_ARN", client.create_secret(Name=variable, SecretString=value)["ARN"])
    reset_caches()
    yield
    reset_caches()


def cold_start() -> None:
    """What a new execution environment has: no signing key or ticket key ring read yet."""
    keys.clear()
    ticket_codes.clear_cache()


@pytest.mark.parametrize("name", [path.stem for path in event_files()])
def test_every_function_answers_its_sample_with_the_signing_key_from_secrets_manager(
    name: str, deployed_secret: None, api: Api
) -> None:
    body = json.loads(sample_event(name).get("body") or "null")
    if isinstance(body, dict) and {"email", "password"} <= body.keys():  # the sample's login works
        accounts.create_account("Ada", body["email"], body["password"])
    caller = accounts.create_account("Admin", "admin@example.com", "correct horse battery", role="admin")
    token, _ = auth.issue_token(caller.id, caller.role, 0)
    cold_start()

    result = api.call(name, token=token)

    assert result.status < 500, result.body  # a denied GetSecretValue would be 503
    assert result.status != 401, result.body  # the token signed with the deployed key is accepted


def test_a_page_of_events_seals_its_cursor_with_the_deployed_cursor_key(deployed_secret: None, api: Api) -> None:
    stock({}, {})
    cold_start()

    first = api.call("list_events", query={"limit": "1"})

    assert first.status == 200, first.body
    cold_start()
    second = api.call("list_events", query={"limit": "1", "cursor": first.body["next_cursor"]})
    assert second.status == 200, second.body
    assert second.body["items"][0]["id"] != first.body["items"][0]["id"]


# A cursor in the one form we issue ("{}" and a 16-byte MAC of zeros): only its MAC, checked with the
# cursor key, is wrong.
FORGED_CURSOR = "e30.AAAAAAAAAAAAAAAAAAAAAA"


@pytest.mark.parametrize("name", ["list_events", "list_bookings", "list_tickets", "list_waiting_list"])
def test_every_listing_checks_cursors_with_the_deployed_cursor_key(name: str, deployed_secret: None, api: Api) -> None:
    staff = new_account("staff")
    path = {"event_id": new_event()} if name == "list_tickets" else None
    cold_start()

    result = api.call(name, token=staff.token, path=path, query={"cursor": FORGED_CURSOR})

    assert (result.status, result.body["code"]) == (422, "INVALID_CURSOR"), result.body  # read, not 503


def test_a_booking_signs_its_tickets_and_the_door_verifies_them_with_the_deployed_ring(
    deployed_secret: None, api: Api
) -> None:
    event_id = new_event(total=10, starts_in=AT_THE_DOOR)
    buyer, staff = new_account(), new_account("staff")
    cold_start()

    booked = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1})

    assert booked.status == 201, booked.body
    cold_start()
    code = booked.body["tickets"][0]["code"]
    scanned = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"code": code})
    assert scanned.status == 200, scanned.body


def test_a_confirmed_hold_signs_its_tickets_with_the_deployed_ring(deployed_secret: None, api: Api) -> None:
    event_id = new_event(total=10, starts_in=AT_THE_DOOR)
    buyer, staff = new_account(), new_account("staff")
    hold = api.call("create_hold", token=buyer.token, path={"event_id": event_id}, body={"quantity": 1})
    assert hold.status == 201, hold.body
    cold_start()

    booked = api.call("confirm_hold", token=buyer.token, path={"hold_id": hold.body["id"]})

    assert booked.status == 201, booked.body
    cold_start()
    code = booked.body["tickets"][0]["code"]
    scanned = api.call("check_in", token=staff.token, path={"event_id": event_id}, body={"code": code})
    assert scanned.status == 200, scanned.body
