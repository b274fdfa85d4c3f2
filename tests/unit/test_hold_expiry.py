"""Hold expiry, decided over the hold record and the time alone (logic/holds.py): no DynamoDB."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from boxoffice.errors import HoldConfirmed, HoldExpired, HoldReleased
from boxoffice.logic import holds
from boxoffice.records import HoldRecord
from boxoffice.vocabulary import HoldStatus
from tests.support.records import NOW

HOLD = HoldRecord(
    id="01JDQ7Y3M4N5P6Q7R8S9T0V1W2",
    user_id="u1",
    event_id="e1",
    ticket_type_id="t1",
    ticket_type_name="General admission",
    ticket_type_quota=False,
    quantity=2,
    unit_price=Decimal("25.00"),
    currency="EUR",
    status=HoldStatus.HELD,
    expires_at=NOW,
    created_at=NOW - timedelta(minutes=10),
)
BEFORE, AFTER = NOW - timedelta(milliseconds=1), NOW + timedelta(milliseconds=1)


@pytest.mark.parametrize(("now", "lapsed"), [(BEFORE, False), (NOW, True), (AFTER, True)])
def test_a_held_hold_lapses_at_the_instant_of_its_expiry(now: datetime, lapsed: bool) -> None:
    assert holds.lapsed(HOLD, now) is lapsed


@pytest.mark.parametrize("status", [HoldStatus.CONFIRMED, HoldStatus.RELEASED, HoldStatus.EXPIRED])
def test_a_hold_that_has_ended_does_not_lapse_again(status: HoldStatus) -> None:
    assert not holds.lapsed(replace(HOLD, status=status), AFTER)


def test_a_lapsed_hold_shows_expired_before_any_sweep() -> None:
    assert holds.public_hold(HOLD, BEFORE).status == HoldStatus.HELD
    assert holds.public_hold(HOLD, NOW).status == HoldStatus.EXPIRED
    assert holds.public_hold(replace(HOLD, status=HoldStatus.CONFIRMED), AFTER).status == HoldStatus.CONFIRMED


def test_a_hold_is_still_held_until_the_instant_of_its_expiry() -> None:
    holds.still_held(HOLD, BEFORE)
    with pytest.raises(HoldExpired):
        holds.still_held(HOLD, NOW)


@pytest.mark.parametrize(
    ("status", "error"),
    [(HoldStatus.RELEASED, HoldReleased), (HoldStatus.EXPIRED, HoldExpired), (HoldStatus.CONFIRMED, HoldConfirmed)],
)
def test_a_hold_that_has_ended_says_how(status: HoldStatus, error: type[Exception]) -> None:
    with pytest.raises(error):
        holds.still_held(replace(HOLD, status=status), BEFORE)


def test_a_release_ends_a_hold_released_before_its_expiry_and_expired_from_it() -> None:
    assert holds.ending(HOLD, BEFORE) == HoldStatus.RELEASED
    assert holds.ending(HOLD, NOW) == HoldStatus.EXPIRED


@pytest.mark.parametrize(
    ("status", "error"),
    [(HoldStatus.RELEASED, HoldReleased), (HoldStatus.EXPIRED, HoldExpired), (HoldStatus.CONFIRMED, HoldConfirmed)],
)
def test_a_release_of_a_hold_that_has_ended_is_refused(status: HoldStatus, error: type[Exception]) -> None:
    with pytest.raises(error):
        holds.ending(replace(HOLD, status=status), BEFORE)
