"""Where returned tickets go (store.inventory.route_returned): open sale while nobody waits, the waiting
list's `reserved` pool while anyone does, decided inside the returning transaction and never by a read."""

from __future__ import annotations

import itertools

import pytest

from boxoffice.errors import Busy
from boxoffice.store import inventory
from boxoffice.store.dynamo import Failed

EVENTS = (f"event-{n}" for n in itertools.count())  # a new event each: no earlier return to guess from


def lost(name: str, old: dict[str, object] | None) -> Failed:
    return Failed({name: ("ConditionalCheckFailed", old), "hold": ("None", None)})


class Commits:
    """A returning transaction that fails with each of `failures` in turn, then commits."""

    def __init__(self, *failures: Failed) -> None:
        self.failures = list(failures)
        self.pools: list[str] = []

    def __call__(self, pool: str) -> None:
        self.pools.append(pool)
        if self.failures:
            raise self.failures.pop(0)


def test_tickets_go_back_on_open_sale_while_nobody_waits() -> None:
    commits = Commits()
    assert inventory.route_returned(next(EVENTS), commits) == inventory.AVAILABLE
    assert commits.pools == [inventory.AVAILABLE]


def test_tickets_are_kept_for_the_waiting_list_when_the_quota_shows_people_waiting() -> None:
    commits = Commits(lost("quota", {"waiting": 3, "available_tickets": 0}))
    assert inventory.route_returned(next(EVENTS), commits) == inventory.RESERVED
    assert commits.pools == [inventory.AVAILABLE, inventory.RESERVED]


def test_the_pool_follows_the_waiting_count_each_time_it_changes() -> None:
    commits = Commits(lost("quota", {"waiting": 1}), lost("quota", {"waiting": 0}))
    assert inventory.route_returned(next(EVENTS), commits) == inventory.AVAILABLE
    assert commits.pools == [inventory.AVAILABLE, inventory.RESERVED, inventory.AVAILABLE]


@pytest.mark.parametrize(
    "failure",
    [lost("quota", {"waiting": 0}), lost("quota", None), lost("hold", {"status": "CONFIRMED"})],
    ids=["quota lost for another reason", "quota gone", "another action"],
)
def test_any_other_failure_is_the_callers(failure: Failed) -> None:
    commits = Commits(failure)
    with pytest.raises(Failed) as raised:
        inventory.route_returned(next(EVENTS), commits)
    assert raised.value is failure
    assert commits.pools == [inventory.AVAILABLE]


def test_a_waiting_count_that_keeps_flipping_is_busy_not_a_loop() -> None:
    flips = [lost("quota", {"waiting": n % 2}) for n in range(1, inventory.ROUTE_ATTEMPTS + 1)]
    with pytest.raises(Busy):
        inventory.route_returned(next(EVENTS), Commits(*flips))


def test_an_events_next_return_tries_the_pool_its_last_one_went_to_first() -> None:
    event = next(EVENTS)
    inventory.route_returned(event, Commits(lost("quota", {"waiting": 2})))
    while_waiting = Commits()
    assert inventory.route_returned(event, while_waiting) == inventory.RESERVED
    assert while_waiting.pools == [inventory.RESERVED]  # no transaction lost to the open-sale condition
    line_gone = Commits(lost("quota", {"waiting": 0}))
    assert inventory.route_returned(event, line_gone) == inventory.AVAILABLE
    assert line_gone.pools == [inventory.RESERVED, inventory.AVAILABLE]
    other_event = Commits()
    inventory.route_returned(next(EVENTS), other_event)
    assert other_event.pools == [inventory.AVAILABLE]
