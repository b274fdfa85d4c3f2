"""One way to write an instant in every answer: a problem's members as the models' fields (UTC as `Z`),
so that a client comparing a 409's checked_in_at with the ticket's sees one time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from boxoffice import catalogue, errors
from boxoffice.models.common import Problem
from boxoffice.models.tickets import DoorTicket
from tests.support.conformance import DOCUMENT

# A member or field named like an instant (…_at, sales_start, sales_end) must be one.
_TIME_NAME = re.compile(r"(_at|_start|_end)$")
INSTANTS = [
    datetime(2026, 12, 24, 19, 5, 42, 123456, UTC),
    datetime(2026, 12, 24, 19, 5, tzinfo=UTC),
    datetime(2026, 12, 24, 20, 5, 42, 5, timezone(timedelta(hours=1))),  # the same kind of instant, not in UTC
]


def _properties(schema: dict[str, Any], where: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, prop in schema.get("properties", {}).items():
        yield where, name, prop


def _time_members() -> list[tuple[str, str, dict[str, Any]]]:
    schemas = json.loads(DOCUMENT.read_text(encoding="utf-8"))["components"]["schemas"]
    found = [p for schema_name, schema in schemas.items() for p in _properties(schema, schema_name)]
    return [(where, name, prop) for where, name, prop in found if _TIME_NAME.search(name)]


def _is_date_time(prop: dict[str, Any]) -> bool:
    options = prop.get("anyOf", [prop])
    return any(option.get("format") == "date-time" for option in options)


@pytest.mark.parametrize(("where", "name", "prop"), _time_members(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_member_and_field_named_as_an_instant_is_documented_as_a_date_time(
    where: str, name: str, prop: dict[str, Any]
) -> None:
    assert _is_date_time(prop), f"{where}.{name} is {prop}"


def test_problems_carry_every_time_member_the_document_declares() -> None:
    declared = {name for name, field in Problem.model_fields.items() if _TIME_NAME.search(name)}
    sent = {name for kind in errors.kinds() for name in json.loads(catalogue.sample(kind).body or "{}")}
    assert declared <= sent


@pytest.mark.parametrize("at", INSTANTS, ids=str)
def test_a_problem_writes_an_instant_exactly_as_a_model_does(at: datetime) -> None:
    ticket = DoorTicket.model_validate(
        {"ticket_number": "7KQ4", "event_id": "e", "ticket_type": {"id": "t", "name": "VIP"}, "status": "CHECKED_IN",
         "checked_in_at": at.astimezone(UTC), "updated_at": at.astimezone(UTC)}
    )  # fmt: skip
    written = ticket.model_dump(mode="json")["checked_in_at"]
    answers = [
        errors.AlreadyCheckedIn(at).extra["checked_in_at"],
        errors.SalesNotStarted(at).extra["sales_start"],
        errors.SalesEnded(at).extra["sales_end"],
        *errors.CheckInClosed(at, at).extra.values(),
    ]
    assert set(answers) == {written}
    assert written.endswith("Z")
