"""A Python client generated from the served /openapi.json (openapi-python-client) drives the main flow
against the local runtime, and every answer it gets is checked against the document: its status is
documented for the operation, and its content type, body and headers are what the document says.

The client is generated at test time into a temporary folder, never kept in the repository.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from boxoffice import docs
from boxoffice.http import CALENDAR, PDF, SVG
from tests.support.conformance import Conformance
from tests.support.live import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer

PACKAGE = "boxoffice_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


class Checked:
    """An httpx response hook: each answer is checked against the operation the document declares."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.conformance = Conformance(document)
        self.checked: list[str] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        path = self.conformance.template(response.request.url.path)
        assert path is not None, response.request.url
        method = response.request.method
        self.conformance.check(method, path, response.status_code, response.headers, response.content)
        self.checked.append(f"{method} {path} -> {response.status_code}")


@pytest.fixture(scope="module")
def document(live: LiveServer) -> dict[str, Any]:
    served: dict[str, Any] = requests.get(live.url + "/openapi.json", timeout=30).json()
    assert served == json.loads(docs.as_of(dt.datetime.now(dt.UTC).date()))  # shipped, examples moved to today
    return served


@pytest.fixture(scope="module")
def client_package(document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The client generated from the document the server serves, imported from a temporary folder."""
    folder = tmp_path_factory.mktemp("generated")
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(document), encoding="utf-8")
    config = folder / "config.yaml"
    # No formatter run over throwaway code; the documents (PDF, SVG, calendar) come back as bytes (File), the
    # generator's one type for a body that is not JSON.
    documents = "".join(f"  {media}: application/octet-stream\n" for media in (PDF, SVG, CALENDAR))
    config.write_text(f"post_hooks: []\ncontent_type_overrides:\n{documents}", encoding="utf-8")
    command = [str(GENERATOR), "generate", "--path", str(spec), "--meta", "none", "--config", str(config)]
    command += ["--output-path", str(folder / PACKAGE), "--fail-on-warning"]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


class Generated:
    """The generated client's modules, and clients whose every answer is checked."""

    def __init__(self, live: LiveServer, conformance: Checked) -> None:
        self.live = live
        self.hooks = {"event_hooks": {"response": [conformance]}}
        self.client = importlib.import_module(f"{PACKAGE}.client")
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.api = {
            name: importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")
            for tag, names in {
                "auth": ["register", "login"],
                "users": ["get_me", "update_me"],
                "events": ["create_event", "list_events", "get_event", "update_event", "delete_event"],
                "bookings": ["create_booking", "list_bookings", "get_booking", "get_tickets_pdf", "cancel_booking"],
            }.items()
            for name in names
        }

    def anonymous(self) -> Any:
        return self.client.Client(base_url=self.live.url, raise_on_unexpected_status=True, httpx_args=self.hooks)

    def signed_in(self, email: str, password: str) -> Any:
        body = self.models.LoginRequest(email=email, password=password)
        token = self.api["login"].sync(client=self.anonymous(), body=body)
        assert isinstance(token, self.models.Token), token
        return self.client.AuthenticatedClient(
            base_url=self.live.url, token=token.access_token, raise_on_unexpected_status=True, httpx_args=self.hooks
        )


@pytest.fixture(scope="module")
def conformance(document: dict[str, Any]) -> Checked:
    return Checked(document)


@pytest.fixture(scope="module")
def generated(live: LiveServer, client_package: Any, conformance: Checked) -> Generated:
    return Generated(live, conformance)


def test_the_main_flow_works_through_a_client_generated_from_the_document(
    generated: Generated, conformance: Checked
) -> None:
    api, models = generated.api, generated.models
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse"

    user = api["register"].sync(
        client=generated.anonymous(), body=models.RegisterRequest(name="Ada", email=email, password=password)
    )
    assert isinstance(user, models.User)
    assert user.email == email
    ada = generated.signed_in(email, password)
    admin = generated.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    me = api["update_me"].sync(client=ada, body=models.UpdateMeRequest(name="Ada King"))
    assert isinstance(me, models.User)
    assert me.name == "Ada King"
    assert api["get_me"].sync(client=ada).name == "Ada King"

    name = f"Generated Gala {uuid.uuid4().hex[:6]}"
    starts_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=30)
    body = models.CreateEvent(
        name=name, venue="Client Hall", starts_at=starts_at, total_tickets=3, ticket_price="25.50"
    )
    event = api["create_event"].sync(client=admin, body=body)
    assert isinstance(event, models.Event)
    assert event.ticket_price == "25.50"
    event = api["update_event"].sync(event.id, client=admin, body=models.UpdateEvent(ticket_price="20.00"))
    assert event.ticket_price == "20.00"
    page = api["list_events"].sync(client=generated.anonymous(), q=name.split()[-1], date_from=starts_at.date())
    assert [e.id for e in page.items] == [event.id]
    assert api["get_event"].sync(event.id, client=generated.anonymous()).available_tickets == 3

    key = uuid.uuid4().hex
    booked = api["create_booking"].sync_detailed(
        event.id, client=ada, body=models.BookingRequest(quantity=2), idempotency_key=key
    )
    assert booked.status_code == 201
    assert "Idempotent-Replayed" not in booked.headers
    booking = booked.parsed
    assert isinstance(booking, models.Booking)
    assert booking.total_price == "40.00"
    again = api["create_booking"].sync_detailed(
        event.id, client=ada, body=models.BookingRequest(quantity=2), idempotency_key=key
    )
    assert (again.status_code, again.headers["Idempotent-Replayed"], again.parsed.id) == (201, "true", booking.id)
    assert api["get_booking"].sync(booking.id, client=ada).id == booking.id
    assert [b.id for b in api["list_bookings"].sync(client=ada).items] == [booking.id]
    assert api["get_tickets_pdf"].sync(booking.id, client=ada).payload.read(5) == b"%PDF-"  # a File: its bytes

    cancelled = api["cancel_booking"].sync(booking.id, client=ada)
    assert cancelled.status == models.BookingStatus.CANCELLED
    assert cancelled.cancelled_at is not None
    deleted = api["delete_event"].sync_detailed(event.id, client=admin)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert api["get_booking"].sync(booking.id, client=ada).event.status == models.EventStatus.DELETED
    assert len(conformance.checked) == 17  # every answer above was checked against the document


def test_problems_parse_with_their_code_and_members_through_the_generated_client(generated: Generated) -> None:
    api, models = generated.api, generated.models
    admin = generated.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    starts_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=9)
    event = api["create_event"].sync(
        client=admin,
        body=models.CreateEvent(
            name="Tiny Recital", venue="Attic", starts_at=starts_at, total_tickets=1, ticket_price="5"
        ),
    )
    email = f"bob-{uuid.uuid4().hex[:8]}@example.com"
    api["register"].sync(
        client=generated.anonymous(), body=models.RegisterRequest(name="Bob", email=email, password="correct horse")
    )
    bob = generated.signed_in(email, "correct horse")

    too_many = api["create_booking"].sync(event.id, client=bob, body=models.BookingRequest(quantity=2))
    assert isinstance(too_many, models.Problem)
    assert (too_many.code, too_many.available_tickets) == (models.ProblemCode.NOT_ENOUGH_TICKETS, 1)
    anonymous = generated.client.AuthenticatedClient(
        base_url=generated.live.url, token="not-a-token", raise_on_unexpected_status=True, httpx_args=generated.hooks
    )
    assert api["get_me"].sync(client=anonymous).code == models.ProblemCode.UNAUTHENTICATED
    invalid = api["update_event"].sync(event.id, client=admin, body=models.UpdateEvent(total_tickets=0))
    assert invalid.code == models.ProblemCode.VALIDATION_FAILED
    assert [e.field for e in invalid.errors] == ["total_tickets"]
    missing = api["get_event"].sync(str(uuid.uuid4()), client=generated.anonymous())
    assert missing.code == models.ProblemCode.EVENT_NOT_FOUND
    taken = api["register"].sync(
        client=generated.anonymous(), body=models.RegisterRequest(name="Bob", email=email.upper(), password="x" * 8)
    )
    assert taken.code == models.ProblemCode.EMAIL_TAKEN
