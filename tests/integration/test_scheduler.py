"""The local runtime's scheduler: schedules read from template.yaml, and a scheduled function run on its rate."""

from __future__ import annotations

import time

import pytest

from devserver import scheduler
from tests.support.bookings import new_account, new_event
from tests.support.handlers import Api
from tests.support.holds import Clock, place, stock


def test_rates_are_read_as_seconds_and_anything_else_is_refused() -> None:
    assert scheduler.seconds("rate(1 minute)") == 60
    assert scheduler.seconds("rate(5 minutes)") == 300
    assert scheduler.seconds("rate(2 hours)") == 7200
    with pytest.raises(ValueError, match="unsupported schedule"):
        scheduler.seconds("cron(0 12 * * ? *)")


def test_the_template_schedules_the_hold_sweeper_every_minute() -> None:
    assert {(s.function.function, s.every) for s in scheduler.schedules()} == {("SweepHoldsFunction", 60)}


def test_a_scheduled_function_runs_on_its_rate_until_stopped(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    moment = Clock(monkeypatch)
    event_id = new_event(total=5)
    place(api, new_account(), event_id, 3)
    moment.advance(3600)
    [sweeper] = scheduler.schedules()
    monkeypatch.setattr(scheduler, "schedules", lambda: [scheduler.Schedule(sweeper.function, sweeper.rule, 0.05)])
    running = scheduler.Scheduler(quiet=True).start()
    try:
        deadline = time.monotonic() + 10
        while stock(event_id).available != 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        running.stop()
    state = stock(event_id)
    assert (state.available, state.held, state.balanced) == (5, 0, True)
