"""The hold sweeper stops by the time its invocation has left (the Lambda context), never by a count:
with time it releases every expired hold whatever their number, and short of time it stops with a
reserve kept, leaving the rest to the next run."""

from __future__ import annotations

import time
from typing import Any

import pytest

from boxoffice.logic import expiry
from boxoffice.store import holds as store
from devserver import scheduler
from devserver.gateway import LambdaContext, instances
from tests.support.bookings import new_account, new_event
from tests.support.handlers import Api
from tests.support.holds import Clock, place, stock

HOLDS = 12


def sweep_with(seconds_left: float) -> int:
    """One run of the sweeper's handler with a context that says `seconds_left` remain."""
    from boxoffice import clock

    [schedule] = [s for s in scheduler.schedules() if s.function.code_dir.name == "sweep_holds"]
    event = scheduler.scheduled_event(schedule.rule, clock.now())
    context = LambdaContext(
        function_name=schedule.function.function,
        aws_request_id=event["id"],
        deadline_ms=time.time() * 1000 + seconds_left * 1000,
    )
    released: int = instances(schedule.function).invoke(event, context)["released"]
    return released


@pytest.fixture
def expired(api: Api, monkeypatch: pytest.MonkeyPatch) -> str:
    """An event with HOLDS expired one-ticket holds, read a few per page so a sweep needs several pages."""
    moment = Clock(monkeypatch)
    event_id = new_event(total=HOLDS)
    for _ in range(HOLDS):
        assert place(api, new_account(), event_id, 1).status == 201
    moment.advance(3600)
    monkeypatch.setattr(expiry, "SWEEP_PAGE", 5)
    return event_id


def test_with_time_left_one_run_releases_every_expired_hold_page_after_page(expired: str) -> None:
    assert sweep_with(20) == HOLDS
    state = stock(expired)
    assert (state.available, state.held, state.balanced) == (HOLDS, 0, True)


def test_with_less_than_the_reserve_left_a_run_releases_nothing_and_the_next_takes_them(expired: str) -> None:
    assert sweep_with(expiry.SWEEP_RESERVE_SECONDS) == 0
    assert stock(expired).held == HOLDS
    assert sweep_with(20) == HOLDS


def test_a_run_stops_when_its_time_runs_short_and_the_next_takes_the_rest(
    expired: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_release = store.release

    def release(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.2)  # each release takes a while: the run's 0.6 s beyond its reserve fit a few
        return slow_release(*args, **kwargs)

    monkeypatch.setattr(store, "release", release)
    first = sweep_with(expiry.SWEEP_RESERVE_SECONDS + 0.5 + 0.6)  # + deadline.RESERVE_SECONDS
    assert 0 < first < HOLDS
    assert stock(expired).held == HOLDS - first
    assert sweep_with(60) == HOLDS - first
    assert stock(expired).balanced
