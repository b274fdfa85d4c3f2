"""Waiting-list entries end with their offer or their event: a lapsed offer does not block a rejoin, and a
deleted or started event's line is closed (shown CLOSED at once, ended in storage by the sweeper) without
keeping tickets from open sale. Time is the test's (tests.support.holds.Clock)."""

from __future__ import annotations

import pytest

from boxoffice.config import settings
from tests.integration.test_waitlist_offers import cancel, entry_of, sold_out_by_singles, statuses
from tests.support.bookings import new_account
from tests.support.handlers import Api
from tests.support.holds import Clock
from tests.support.waitlist import join, tickets


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def test_rejoining_after_an_offer_lapsed_releases_it_and_puts_the_user_at_the_back(api: Api, clock: Clock) -> None:
    event_id, buyer, bookings = sold_out_by_singles(api, 1)
    first, second = new_account(), new_account()
    join(api, first, event_id)
    clock.advance(0.001)
    join(api, second, event_id)
    cancel(api, buyer, bookings[0])
    clock.advance(settings().hold_seconds)  # no sweep has run: the offer's hold is still HELD as stored
    assert entry_of(api, first)["status"] == "EXPIRED"

    again = join(api, first, event_id)

    assert again.status == 201, again.body
    assert (again.body["status"], again.body["position"]) == ("WAITING", 1)
    assert statuses(api, [first, second]) == ["WAITING", "OFFERED"]  # the lapsed offer passed to the next
    counts = tickets(event_id)
    assert (counts.held, counts.reserved, counts.waiting) == (1, 0, 1)
    assert counts.balanced
