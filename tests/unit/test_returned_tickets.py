"""Where returned tickets go (store.inventory.route_returned): open sale while nobody waits, the waiting
list's `reserved` pool while anyone does, decided inside the returning transaction and never by a read."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from boxoffice import retry
from boxoffice.errors import Busy
from boxoffice.store import inventory, line
from boxoffice.store.dynamo import Failed
from boxoffice.vocabulary import Pool

EVENTS = (f"event-{n}" for n in itertools.count())  # a new event each: no earlier return to guess from
POOLED = inventory.pool_key("e1")  # (the by_pool key a pool clause sets)
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def quota(waiting: int, *, status: str = "ON_SALE", starts_in: timedelta = timedelta(days=1)) -> dict[str, object]:
    """A quota item as a failed condition returns it (what the pool is judged by)."""
    return {"waiting": waiting, "available_tickets": 0, "status": status, "starts_at": (NOW + starts_in).isoformat()}


def lost(name: str, old: dict[str, object] | None) -> Failed:
    return Failed({name: ("ConditionalCheckFailed", old), "hold": ("None", None)})


class Unmarks:
    """store.marks.unmark in memory: the events it was asked to unmark; `fails`: it finds someone joined."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.fails = False

    def __call__(self, event_id: str) -> bool:
        self.events.append(event_id)
        return not self.fails


@pytest.fixture(autouse=True)
def unmarks(monkeypatch: pytest.MonkeyPatch) -> Unmarks:
    from boxoffice.store import marks

    fake = Unmarks()
    monkeypatch.setattr(marks, "unmark", fake)
    return fake


def route(event_id: str, commits: Commits) -> Pool:
    return inventory.route_returned(event_id, commits, NOW)


class Commits:
    """A returning transaction that fails with each of `failures` in turn, then commits."""

    def __init__(self, *failures: Failed) -> None:
        self.failures = list(failures)
        self.pools: list[Pool] = []

    def __call__(self, pool: Pool) -> None:
        self.pools.append(pool)
        if self.failures:
            raise self.failures.pop(0)


def test_tickets_go_back_on_open_sale_while_nobody_waits() -> None:
    commits = Commits()
    assert route(next(EVENTS), commits) == Pool.AVAILABLE
    assert commits.pools == [Pool.AVAILABLE]


def test_tickets_are_kept_for_the_waiting_list_when_the_quota_shows_people_waiting() -> None:
    commits = Commits(lost("quota", quota(3)))
    assert route(next(EVENTS), commits) == Pool.RESERVED
    assert commits.pools == [Pool.AVAILABLE, Pool.RESERVED]


def test_the_pool_follows_the_waiting_count_each_time_it_changes() -> None:
    commits = Commits(lost("quota", quota(1)), lost("quota", quota(0)))
    assert route(next(EVENTS), commits) == Pool.AVAILABLE
    assert commits.pools == [Pool.AVAILABLE, Pool.RESERVED, Pool.AVAILABLE]


@pytest.mark.parametrize(
    "failure",
    [lost("quota", quota(0)), lost("quota", None), lost("hold", {"status": "CONFIRMED"})],
    ids=["quota lost for another reason", "quota gone", "another action"],
)
def test_any_other_failure_is_the_callers(failure: Failed) -> None:
    commits = Commits(failure)
    with pytest.raises(Failed) as raised:
        route(next(EVENTS), commits)
    assert raised.value is failure
    assert commits.pools == [Pool.AVAILABLE]


def test_a_waiting_count_that_keeps_flipping_is_busy_not_a_loop() -> None:
    flips = [lost("quota", quota(n % 2)) for n in range(1, retry.ATTEMPTS + 1)]
    with pytest.raises(Busy):
        route(next(EVENTS), Commits(*flips))


def test_an_events_next_return_tries_the_pool_its_last_one_went_to_first() -> None:
    event = next(EVENTS)
    route(event, Commits(lost("quota", quota(2))))
    while_waiting = Commits()
    assert route(event, while_waiting) == Pool.RESERVED
    assert while_waiting.pools == [Pool.RESERVED]  # no transaction lost to the open-sale condition
    line_gone = Commits(lost("quota", quota(0)))
    assert route(event, line_gone) == Pool.AVAILABLE
    assert line_gone.pools == [Pool.RESERVED, Pool.AVAILABLE]
    other_event = Commits()
    route(next(EVENTS), other_event)
    assert other_event.pools == [Pool.AVAILABLE]


@pytest.mark.parametrize(
    "closed", [quota(2, status="DELETED"), quota(2, starts_in=timedelta(0))], ids=["deleted", "started"]
)
def test_nobody_waits_for_a_deleted_or_started_event_whatever_its_waiting_count(closed: dict[str, object]) -> None:
    event = next(EVENTS)
    route(event, Commits(lost("quota", quota(2))))  # its last return was kept for the line
    commits = Commits(lost("quota", closed))
    assert route(event, commits) == Pool.AVAILABLE
    assert commits.pools == [Pool.RESERVED, Pool.AVAILABLE]


# --- a line spread over shards: who waits is on the shards' counters (store/line.py) ---


def counter_lost(name: str, waiting: int) -> Failed:
    return Failed({name: ("ConditionalCheckFailed", {"waiting": waiting}), "hold": ("None", None)})


def test_a_shard_seen_with_someone_waiting_keeps_the_tickets_and_is_checked_next_time() -> None:
    event = next(EVENTS)
    commits = Commits(counter_lost("waiters:5", 2))  # "nobody": every counter 0, and shard 5's is not
    assert route(event, commits) == Pool.RESERVED
    assert inventory.waiters_for(event) == 5  # the next return checks shard 5 still has someone
    emptied = Commits(counter_lost("waiters", 0))  # it emptied: "nobody" again, every counter checked
    assert route(event, emptied) == Pool.AVAILABLE
    # (then the line is unmarked: the next return checks no counter)
    assert (emptied.pools, inventory.waiters_for(event)) == ([Pool.RESERVED, Pool.AVAILABLE], inventory.UNUSED)


def test_a_return_that_proved_nobody_waits_unmarks_the_line_and_the_next_one_checks_no_counter(
    unmarks: Unmarks,
) -> None:
    event = next(EVENTS)
    route(event, Commits(counter_lost("waiters:5", 2)))  # someone waits in shard 5
    assert unmarks.events == []
    route(event, Commits(counter_lost("waiters", 0)))  # shard 5 emptied: committed under NOBODY
    assert unmarks.events == [event]
    assert inventory.waiters_for(event) == inventory.UNUSED
    route(event, Commits())  # unmarked: its own shard's quota alone
    assert unmarks.events == [event]


def test_a_return_whose_unmark_finds_someone_joined_keeps_checking_the_counters(unmarks: Unmarks) -> None:
    unmarks.fails = True
    event = next(EVENTS)
    route(event, Commits(counter_lost("waiters:2", 1), counter_lost("waiters", 0)))
    assert unmarks.events == [event]
    assert inventory.waiters_for(event) == inventory.NOBODY


def test_a_return_guessing_nobody_that_finds_the_line_unmarked_learns_it_is_unused(unmarks: Unmarks) -> None:
    unmarks.fails = True  # this process's unmark lost to a join; another process unmarked it later
    event = next(EVENTS)
    route(event, Commits(counter_lost("waiters:1", 1), counter_lost("waiters", 0)))
    assert inventory.waiters_for(event) == inventory.NOBODY
    unmarked = Commits(lost("quota", quota(0)))  # another process unmarked it: no LINE_USED on the quota
    assert route(event, unmarked) == Pool.AVAILABLE
    assert inventory.waiters_for(event) == inventory.UNUSED
    nobody = inventory.returned(Pool.AVAILABLE, pooled=POOLED, now=NOW, seen=inventory.NOBODY)[1]
    assert f"attribute_exists({inventory.LINE_USED})" in nobody  # what made it fail


def test_the_conditions_of_each_pool_name_what_they_check() -> None:
    nobody = inventory.returned(Pool.AVAILABLE, pooled=POOLED, now=NOW, seen=inventory.NOBODY)[1]
    closed = inventory.returned(Pool.AVAILABLE, pooled=POOLED, now=NOW, seen=inventory.CLOSED)[1]
    legacy = inventory.returned(Pool.RESERVED, pooled=POOLED, now=NOW, seen=-1)[1]
    shard = inventory.returned(Pool.RESERVED, pooled=POOLED, now=NOW, seen=3)[1]

    assert inventory.NOBODY_WAITS in nobody  # the quota's old line
    assert "NOT" not in nobody  # while open
    assert closed.startswith("NOT (")  # a closed line takes returns whoever waits: no counter is checked
    assert "waiting > :zero" in legacy
    assert "waiting" not in shard  # shard 3's counter is checked by its own ConditionCheck


def test_an_event_nobody_ever_queued_for_returns_without_checking_the_line_counters() -> None:
    unused = inventory.returned(Pool.AVAILABLE, pooled=POOLED, now=NOW, seen=inventory.UNUSED)[1]
    assert f"attribute_not_exists({inventory.LINE_USED})" in unused  # the quota says: no counter to check
    assert inventory.waiters_for(next(EVENTS)) == inventory.UNUSED  # the first guess of any event


def test_a_quota_showing_its_line_was_used_makes_the_return_check_the_counters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from boxoffice.store import line

    monkeypatch.setattr(line, "counts", lambda event_id: line.Counts((0, 0, 0, 0, 4, 0, 0, 0)))
    event = next(EVENTS)
    used = {**quota(0), inventory.LINE_USED: True}
    commits = Commits(lost("quota", used))  # someone joined the sharded line since: read who waits

    assert route(event, commits) == Pool.RESERVED
    assert inventory.waiters_for(event) == 4
    monkeypatch.setattr(line, "counts", lambda event_id: line.Counts((0,) * 8))
    again = next(EVENTS)
    assert route(again, Commits(lost("quota", used))) == Pool.AVAILABLE  # every counter checked
    assert inventory.waiters_for(again) == inventory.UNUSED  # and, nobody waiting, the line unmarked


# --- a return to open sale in stock shards other than 0 carries the pool's condition on their own quotas ---


def shard_lost(shard: int, old: dict[str, object]) -> Failed:
    """A return whose transaction has no shard-0 quota: shard `shard`'s lost the pool's condition."""
    others = {"quota#1": ("None", None), "hold": ("None", None)}
    return Failed({**others, f"quota#{shard}": ("ConditionalCheckFailed", old)})


def test_a_return_to_other_shards_learns_who_waits_from_the_shard_quota_that_lost_the_condition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from boxoffice.store import line

    monkeypatch.setattr(line, "counts", lambda event_id: line.Counts((0, 0, 4, 0, 0, 0, 0, 0)))
    shard_quota = {**{k: v for k, v in quota(0).items() if k != "waiting"}, inventory.MARKED: True}  # no own line
    event = next(EVENTS)
    commits = Commits(shard_lost(3, {**shard_quota, inventory.LINE_USED: True}))
    assert route(event, commits) == Pool.RESERVED
    assert inventory.waiters_for(event) == 2
    closed = next(EVENTS)
    assert route(closed, Commits(shard_lost(3, {**shard_quota, "status": "DELETED"}))) == Pool.AVAILABLE
    assert inventory.waiters_for(closed) == inventory.CLOSED


def test_a_shard_marked_with_a_line_from_before_the_shards_makes_the_events_returns_check_shard_zero() -> None:
    shard_quota = {**{k: v for k, v in quota(0).items() if k != "waiting"}, inventory.MARKED: True}
    event = next(EVENTS)
    commits = Commits(shard_lost(2, {**shard_quota, inventory.LEGACY_LINE: True}))
    assert route(event, commits) == Pool.AVAILABLE
    assert commits.pools == [Pool.AVAILABLE, Pool.AVAILABLE]  # the second: in shard 0's form
    assert event in inventory._shard_zero_returns
    unmarked = next(EVENTS)
    with pytest.raises(Failed):  # lost for another reason (its start moved, say): the caller's
        route(unmarked, Commits(shard_lost(2, shard_quota)))


def test_a_shard_an_earlier_version_wrote_without_the_marks_makes_the_events_returns_check_shard_zero() -> None:
    older = {k: v for k, v in quota(0).items() if k != "waiting"}  # no MARKED: its line_used may be missing
    event = next(EVENTS)
    commits = Commits(shard_lost(2, older))
    assert route(event, commits) == Pool.AVAILABLE
    assert commits.pools == [Pool.AVAILABLE, Pool.AVAILABLE]  # the second: in shard 0's form
    assert event in inventory._shard_zero_returns


def test_the_open_sale_condition_on_another_shard_reads_its_mark_of_an_old_line_not_a_waiting_count() -> None:
    on_shard = inventory.returned(Pool.AVAILABLE, pooled=POOLED, now=NOW, seen=inventory.UNUSED, on_shard=True)[1]
    assert inventory.NO_LEGACY_LINE in on_shard
    assert inventory.NOBODY_WAITS not in on_shard
    assert f"attribute_not_exists({inventory.LINE_USED})" in on_shard


def test_a_return_checks_any_line_shard_someone_waits_in_so_returns_spread_over_the_counters() -> None:
    counts = line.Counts(shards=(0, 3, 0, 1, 0, 0, 2, 0))
    assert {counts.someone() for _ in range(200)} == {1, 3, 6}
    assert line.Counts(shards=(0,) * line.LINE_SHARDS, legacy=2).someone() == line.LEGACY
    assert line.Counts(shards=(0,) * line.LINE_SHARDS).someone() is None
