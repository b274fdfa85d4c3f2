"""Per-shard pools (issue 20: no partition takes more than 1/N of an event's write units): tickets that come
back while someone waits stay in the `reserved` of the stock shard they come back to, so a return from shard
k > 0 writes and checks nothing on `EVENT#<id>`; offers take from every shard's pool (several in one
transaction when one is short), the sweeper finds each shard's pool, and a pool nobody can use goes back on
each shard's own open sale."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.logic import offers
from boxoffice.store import inventory
from boxoffice.store import waitlist as lines
from scripts.bench.common import hooked, sent_transactions
from tests.integration.test_sharded_returns import actions_on, book, cancel, one_per_shard, quota, release
from tests.integration.test_stats import stats
from tests.support.bookings import Account, new_account, new_event
from tests.support.handlers import Api
from tests.support.holds import place, stock, sweep
from tests.support.waitlist import entries, join, leave, legacy_entry

WHOLE = "provide-client-params.dynamodb.TransactWriteItems"  # each transaction as sent, whole


def entry(api: Api, who: Account) -> dict[str, Any]:
    found: dict[str, Any] = entries(api, who).body["items"][0]
    return found


def pools(event_id: str, shards: int) -> list[int]:
    return [int(quota(event_id, k).get("reserved", 0)) for k in range(shards)]


def offer_transactions(sent: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The transactions among `sent` that put a hold (an offer's)."""
    return [t for t in sent if any("Put" in a and a["Put"]["Item"]["sk"]["S"].startswith("HOLD#") for a in t)]


def pool_takes(transaction: list[dict[str, Any]]) -> list[str]:
    """The stock shards' quotas an offer's transaction takes reserved tickets from, by partition key."""
    return [
        a["Update"]["Key"]["pk"]["S"]
        for a in transaction
        if "Update" in a and "reserved = reserved -" in a["Update"].get("UpdateExpression", "")
    ]


@pytest.mark.parametrize("returned", ["cancel", "release"])
def test_a_return_from_another_shard_while_someone_waits_sends_nothing_to_the_events_own_partition(
    api: Api, returned: str
) -> None:
    event_id = new_event(total=2, inventory_shards=2)
    take, give_back = {
        "cancel": (lambda who: book(api, who, event_id), cancel),
        "release": (lambda who: place(api, who, event_id, 1), release),
    }[returned]
    (who, taken) = one_per_shard(event_id, take)[1]
    waiter = new_account()
    assert join(api, waiter, event_id).status == 201

    with sent_transactions() as sent:
        assert give_back(api, who, taken).status == 200

    assert actions_on(sent, f"EVENT#{event_id}") == []
    assert entry(api, waiter)["status"] == "OFFERED"
    assert (pools(event_id, 2), int(quota(event_id, 1)["held"])) == ([0, 0], 1)  # offered from shard 1's pool
    assert stock(event_id).balanced


def test_a_pool_spread_over_three_shards_is_offered_in_join_order_one_transaction_an_offer(api: Api) -> None:
    event_id = new_event(total=3, inventory_shards=3)
    buyer, first, second = new_account(), new_account(), new_account()
    booking = book(api, buyer, event_id, 3).body  # the last ticket of each shard
    assert join(api, first, event_id, 2).status == 201
    assert join(api, second, event_id, 1).status == 201

    sent: list[list[dict[str, Any]]] = []
    with hooked(WHOLE, lambda params, **_: sent.append(params["TransactItems"])):
        assert cancel(api, buyer, booking).status == 200  # back to each shard's pool, then handed on

    made = offer_transactions(sent)
    assert [len(pool_takes(t)) for t in made] == [2, 1]  # the first in line takes two shards' pools at once
    assert [(entry(api, w)["status"], entry(api, w)["quantity"]) for w in (first, second)] == [
        ("OFFERED", 2),
        ("OFFERED", 1),
    ]
    assert sorted(k for t in made for k in pool_takes(t)) == sorted(inventory.shard_pk(event_id, k) for k in range(3))
    state = stock(event_id)
    assert (state.reserved, state.held, state.available, state.balanced) == (0, 3, 0, True)


def test_a_pool_nobody_waits_for_any_more_goes_back_on_each_shards_own_open_sale(api: Api) -> None:
    event_id = new_event(total=3, inventory_shards=3)
    buyer, waiter = new_account(), new_account()
    booking = book(api, buyer, event_id, 3).body
    joined = join(api, waiter, event_id, 4)  # wants more than the event has: the pool waits for it
    assert joined.status == 201, joined.body

    assert cancel(api, buyer, booking).status == 200
    assert (pools(event_id, 3), lines.pooled(100)) == ([1, 1, 1], [event_id])  # listed once, over 3 shards
    shown = stats(new_account("admin"), event_id, api)
    assert (shown["reserved"], shown["available"], shown["sold"]) == (3, 0, 0)  # the sum over the shards

    assert leave(api, waiter, joined.body["id"]).status == 200
    assert [int(quota(event_id, k)["available_tickets"]) for k in range(3)] == [1, 1, 1]
    assert pools(event_id, 3) == [0, 0, 0]
    assert not any(inventory.POOL_KEY in quota(event_id, k) for k in range(3))
    assert lines.pooled(100) == []
    assert stock(event_id).balanced


def test_the_sweeper_hands_on_a_pool_kept_over_several_shards_and_unlists_each(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=3, inventory_shards=3)
    buyer, waiter = new_account(), new_account()
    booking = book(api, buyer, event_id, 3).body
    assert join(api, waiter, event_id, 3).status == 201
    with monkeypatch.context() as cut_short:  # the cancel's own hand-on never runs: the sweeper's job
        cut_short.setattr(offers, "allocate", lambda *_, **__: 0)
        assert cancel(api, buyer, booking).status == 200
    assert (pools(event_id, 3), entry(api, waiter)["status"]) == ([1, 1, 1], "WAITING")

    sweep()

    assert (entry(api, waiter)["status"], pools(event_id, 3)) == ("OFFERED", [0, 0, 0])
    assert lines.pooled(100) == []
    assert stock(event_id).balanced


def test_a_pools_shards_are_listed_under_spread_keys_and_the_sweeper_finds_them_and_the_old_key(api: Api) -> None:
    from boxoffice.config import settings
    from boxoffice.store import dynamo

    event_id = new_event(total=12, inventory_shards=12)
    taken = one_per_shard(event_id, lambda who: book(api, who, event_id))
    assert join(api, new_account(), event_id, quantity=10).status == 201  # more than will come back: kept
    for who, booking in list(taken.values())[:9]:
        assert cancel(api, who, booking).status == 200
    keys = {quota(event_id, k).get(inventory.POOL_KEY) for k, _ in list(taken.items())[:9]}
    assert keys <= set(inventory.pool_keys()) - {inventory.POOLED}
    assert len(keys) > 2  # nine shards' pools over 32 keys: no index partition takes them all
    older = new_event(total=2)
    dynamo.client().update_item(
        TableName=settings().events_table,
        Key=dynamo.dump(inventory.quota_key(older)),
        UpdateExpression=f"SET {inventory.POOL_KEY} = :pooled",
        ExpressionAttributeValues=dynamo.values(pooled=inventory.POOLED),  # as listed before the spread
    )
    assert sorted(lines.pooled(10)) == sorted([event_id, older])


def test_the_pool_index_gives_the_sweeper_as_many_events_as_asked_however_many_shards_each_lists(
    api: Api,
) -> None:
    from boxoffice.config import settings
    from boxoffice.store import dynamo

    listed = sorted(new_event(total=3, inventory_shards=3) for _ in range(3))
    for event_id in listed:  # each event's three shards keep a part of its pool
        for k in range(3):
            dynamo.client().update_item(
                TableName=settings().events_table,
                Key=dynamo.dump(inventory.quota_key(event_id, k)),
                UpdateExpression=f"SET {inventory.POOL_KEY} = :pooled",
                ExpressionAttributeValues=dynamo.values(pooled=inventory.POOLED),
            )

    assert lines.pooled(2) == listed[:2]
    assert lines.pooled(100) == listed


def test_a_pool_goes_back_on_sale_only_while_the_old_lines_count_is_still_what_was_read(api: Api) -> None:
    from boxoffice import clock
    from boxoffice.config import settings
    from boxoffice.store import dynamo, line

    event_id = new_event(total=2)
    legacy_entry(event_id, new_account(), joined_at=clock.now())  # a line from before the shards: 1 waiting
    seen = line.Counts(shards=(0,) * line.LINE_SHARDS, legacy=1)
    dynamo.client().update_item(  # that entry leaves meanwhile
        TableName=settings().events_table,
        Key=dynamo.dump(inventory.quota_key(event_id)),
        UpdateExpression="SET waiting = :none",
        ExpressionAttributeValues=dynamo.values(none=0),
    )

    assert lines.release_pool(event_id, [0], [], seen) is False
    assert lines.release_pool(event_id, [0], [], line.Counts(shards=seen.shards, legacy=0)) is True
