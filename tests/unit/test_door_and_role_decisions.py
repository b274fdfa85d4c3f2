"""Check-in outcomes and role changes, decided over records alone (logic/checkin.py, logic/roles.py,
store/users.py): no DynamoDB. The moto tests keep the races and the conditions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from boxoffice.errors import (
    AlreadyCheckedIn,
    CheckInClosed,
    EventNotFound,
    NotAuthenticated,
    NotCheckedIn,
    TicketCancelled,
    TicketNotFound,
    UserNotFound,
)
from boxoffice.logic import checkin, roles
from boxoffice.records import TicketRecord
from boxoffice.store import users
from boxoffice.store.users import RoleChanged
from boxoffice.vocabulary import EventStatus, Role, TicketStatus, UserRecord
from tests.support.records import NOW

TICKET = TicketRecord(
    event_id="e1",
    ticket_number="7KQ4-M2ZX-0000-0000-0000-0000-0000",
    status=TicketStatus.VALID,
    updated_at=NOW,
    checked_in_at=None,
    booking_id="b1",
    user_id="u1",
    ticket_type_id="t1",
    ticket_type_name="General admission",
)
IN = replace(TICKET, status=TicketStatus.CHECKED_IN, checked_in_at=NOW)
ADA = UserRecord("u1", "Ada", "ada@example.com", Role.USER, None, 3, NOW)


# --- at the door ---


def test_a_valid_ticket_may_be_checked_in_and_a_checked_in_one_let_in_again() -> None:
    checkin.movable(TICKET, TicketStatus.CHECKED_IN)
    checkin.movable(IN, TicketStatus.VALID)


def test_a_ticket_already_in_is_refused_with_the_time_it_first_got_in() -> None:
    with pytest.raises(AlreadyCheckedIn) as refused:
        checkin.movable(IN, TicketStatus.CHECKED_IN)
    assert refused.value.extra["checked_in_at"] == "2026-11-27T12:00:00Z"


@pytest.mark.parametrize("to", [TicketStatus.CHECKED_IN, TicketStatus.VALID])
def test_a_cancelled_ticket_never_moves(to: TicketStatus) -> None:
    with pytest.raises(TicketCancelled):
        checkin.movable(replace(TICKET, status=TicketStatus.CANCELLED), to)


def test_undoing_the_check_in_of_a_ticket_that_is_not_in_is_refused() -> None:
    with pytest.raises(NotCheckedIn):
        checkin.movable(TICKET, TicketStatus.VALID)


@pytest.mark.parametrize(
    ("status", "checked_in_at", "error"),
    [
        (None, None, TicketNotFound),
        (TicketStatus.CANCELLED, None, TicketCancelled),
        (TicketStatus.CHECKED_IN, NOW, AlreadyCheckedIn),
        (TicketStatus.VALID, None, NotCheckedIn),
    ],
    ids=["gone", "cancelled", "already in", "not in"],
)
def test_a_scan_that_lost_its_race_says_what_the_ticket_became(
    status: TicketStatus | None, checked_in_at: datetime | None, error: type[Exception]
) -> None:
    assert isinstance(checkin.refusal(status, checked_in_at), error)


def test_a_deleted_events_door_lets_nobody_in_and_an_on_sale_ones_says_when_it_opens() -> None:
    closes = NOW + timedelta(hours=6)
    assert isinstance(checkin.door_refusal(EventStatus.DELETED, NOW, closes), EventNotFound)
    closed = checkin.door_refusal(EventStatus.ON_SALE, NOW, closes)
    assert isinstance(closed, CheckInClosed)
    assert closed.extra["doors_open_at"] == "2026-11-27T12:00:00Z"


# --- role changes ---


def test_a_new_role_changes_the_account_and_the_same_role_again_changes_nothing() -> None:
    assert roles.role_change(ADA, Role.STAFF) == (ADA, True)
    assert roles.role_change(ADA, Role.USER) == (ADA, False)


def test_a_role_change_of_no_account_is_not_found() -> None:
    with pytest.raises(UserNotFound):
        roles.role_change(None, Role.STAFF)


@pytest.mark.parametrize(
    ("old", "new", "moved"),
    [
        (Role.USER, Role.ADMIN, 1),
        (Role.STAFF, Role.ADMIN, 1),
        (Role.ADMIN, Role.USER, -1),
        (Role.ADMIN, Role.STAFF, -1),
        (Role.USER, Role.STAFF, 0),
    ],
)
def test_only_a_change_to_or_from_admin_moves_the_admin_count(old: Role, new: Role, moved: int) -> None:
    assert users.admins_moved(old, new) == moved


@pytest.mark.parametrize(
    ("seen", "error"),
    [(None, UserNotFound), ({"role": "user"}, NotAuthenticated), ({"role": "staff"}, RoleChanged)],
    ids=["account gone", "same role: the caller's own token was revoked", "role changed meanwhile: read again"],
)
def test_a_role_change_that_lost_its_condition_says_why(seen: dict[str, str] | None, error: type[Exception]) -> None:
    assert isinstance(users.role_refusal(Role.USER, seen), error)
