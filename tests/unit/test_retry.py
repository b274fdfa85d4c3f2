"""boxoffice.retry: one bound, the request's budget, conflicts after a pause, and no retry inside another."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from unittest import mock

import pytest

from boxoffice import deadline, retry
from boxoffice.errors import Busy, Throttled


class Steps:
    """A step that raises each of `failures` in turn, then answers "done"; counts its runs."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.runs = 0

    def __call__(self) -> str:
        self.runs += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


@pytest.fixture
def pauses() -> Iterator[list[float]]:
    slept: list[float] = []
    with mock.patch.object(time, "sleep", slept.append):
        yield slept


def test_a_step_that_settles_is_run_until_it_does(pauses: list[float]) -> None:
    step = Steps(*[retry.Again() for _ in range(retry.ATTEMPTS - 1)])
    assert retry.retried(step) == "done"
    assert step.runs == retry.ATTEMPTS
    assert pauses == []  # a changed condition is read again at once


def test_a_step_that_never_settles_is_busy_after_the_one_bound(pauses: list[float]) -> None:
    step = Steps(*[retry.Again() for _ in range(retry.ATTEMPTS)])
    with pytest.raises(Busy):
        retry.retried(step)
    assert step.runs == retry.ATTEMPTS


def test_conflicts_are_retried_after_a_jittered_pause_but_not_after_the_last(pauses: list[float]) -> None:
    step = Steps(*[retry.Conflict() for _ in range(retry.ATTEMPTS)])
    with pytest.raises(Busy):
        retry.retried(step)
    assert len(pauses) == retry.ATTEMPTS - 1
    assert all(0 <= p <= 0.025 * 2**n for n, p in enumerate(pauses))


def test_throttling_that_outlasts_the_attempts_is_throttled_not_busy(pauses: list[float]) -> None:
    step = Steps(retry.Conflict(), *[retry.Throttled() for _ in range(retry.ATTEMPTS - 1)])
    with pytest.raises(Throttled):
        retry.retried(step)
    assert len(pauses) == retry.ATTEMPTS - 1  # paused like a conflict


def test_a_last_attempt_lost_to_a_conflict_is_busy_whatever_came_before(pauses: list[float]) -> None:
    step = Steps(*[retry.Throttled() for _ in range(retry.ATTEMPTS - 1)], retry.Conflict())
    with pytest.raises(Busy):
        retry.retried(step)


def test_any_other_failure_is_the_callers_at_once() -> None:
    step = Steps(retry.Again(), KeyError("x"))
    with pytest.raises(KeyError):
        retry.retried(step)
    assert step.runs == 2


def test_no_attempt_is_made_once_the_request_has_no_time_for_one() -> None:
    step = Steps(retry.Again())
    with mock.patch.object(deadline, "remaining", return_value=0.1), pytest.raises(Busy):
        retry.retried(step)
    assert step.runs == 1  # the first attempt is always made: the call itself refuses when out of time


def test_a_retry_inside_another_retrys_step_is_refused() -> None:
    with pytest.raises(retry.Nested):
        retry.retried(lambda: retry.retried(Steps()))
    assert retry.retried(Steps()) == "done"  # and the outer one's end lets the next one run


def test_a_store_call_that_retries_on_its_own_hands_its_again_to_the_running_step() -> None:
    inner = Steps(retry.Again())
    outer_runs: list[str] = []

    def outer() -> str:
        outer_runs.append(retry.once(inner))
        return outer_runs[-1]

    assert retry.retried(outer) == "done"
    assert inner.runs == 2
    assert outer_runs == ["done"]  # the first run of the outer step went round with the inner Again


def test_a_store_call_outside_any_step_retries_on_its_own() -> None:
    step = Steps(retry.Again(), retry.Again())
    assert retry.once(step) == "done"
    assert step.runs == 3


def work_log() -> tuple[list[str], Callable[[str], Callable[[], None]]]:
    log: list[str] = []
    return log, lambda name: lambda: log.append(name)


def test_work_put_off_in_a_step_runs_once_the_retry_is_over_whatever_its_outcome() -> None:
    log, work = work_log()

    def refused() -> None:
        retry.afterwards(work("hand on"))
        log.append("step")
        raise KeyError("refused")

    with pytest.raises(KeyError):
        retry.retried(refused)
    assert log == ["step", "hand on"]


def test_work_put_off_outside_any_retry_runs_at_once() -> None:
    log, work = work_log()
    retry.afterwards(work("hand on"))
    assert log == ["hand on"]


def test_put_off_work_may_retry_on_its_own() -> None:
    def step() -> str:
        retry.afterwards(lambda: retry.retried(Steps(retry.Again())))
        return "done"

    assert retry.retried(step) == "done"


def test_an_invocation_started_inside_another_ones_step_runs_a_retry_of_its_own() -> None:
    handler = retry.alone(lambda event, context: retry.retried(Steps(retry.Again())))
    assert retry.retried(lambda: handler({}, None)) == "done"
    with pytest.raises(retry.Nested):  # and the outer step's own code is still refused one
        retry.retried(lambda: (handler({}, None), retry.retried(Steps()))[1])
