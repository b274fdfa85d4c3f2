"""The last-admin rule under real concurrency: admins demoting each other at once never leave none."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from multiprocessing.pool import Pool

import pytest

from boxoffice.config import settings
from boxoffice.store import dynamo
from tests.support.bookings import Account, call, lambda_pool, new_account

ROUNDS = 10


@pytest.fixture
def pool() -> Iterator[Pool]:
    """Fresh tables per test: each counts every admin there is."""
    with lambda_pool("roles-race", 8) as workers:
        yield workers


def demote(by: Account, whom: Account) -> tuple[str, dict[str, object]]:
    return "set_role", {"token": by.token, "path": {"user_id": whom.id}, "body": {"role": "user"}}


def admin_count() -> tuple[int, int]:
    """(the ADMINS counter, the accounts whose role is admin), read straight from the table."""
    items = dynamo.client().scan(TableName=settings().users_table, ConsistentRead=True)["Items"]
    loaded = [dynamo.load(i) for i in items]
    counter = next(int(i["admins"]) for i in loaded if i["pk"] == "ADMINS")
    return counter, sum(1 for i in loaded if i["pk"].startswith("USER#") and i["role"] == "admin")


def test_two_admins_demoting_each_other_at_once_leave_exactly_one(pool: Pool) -> None:
    outcomes: Counter[tuple[int, ...]] = Counter()
    for _ in range(ROUNDS):
        counted, actual = admin_count() if _ else (0, 0)
        first, second = new_account("admin"), new_account("admin")
        results = pool.starmap(call, [demote(first, second), demote(second, first)], chunksize=1)
        outcomes[tuple(sorted(r.status for r in results))] += 1
        counter, admins = admin_count()
        assert counter == admins == actual + 1, (counter, admins, [r.body for r in results])
        assert counted == actual
    # One demotion wins; the other is LAST_ADMIN, or 401 when the winner's demotion revoked its token first.
    assert set(outcomes) <= {(200, 401), (200, 409)}, outcomes


def test_every_admin_demoting_themselves_at_once_leaves_exactly_one(pool: Pool) -> None:
    admins = [new_account("admin") for _ in range(6)]
    results = pool.starmap(call, [demote(a, a) for a in admins], chunksize=1)
    statuses = Counter(r.status for r in results)
    assert {r.body["code"] for r in results if r.status != 200} <= {"LAST_ADMIN", "BUSY"}, statuses
    counter, actual = admin_count()
    assert counter == actual == 6 - statuses[200] >= 1
