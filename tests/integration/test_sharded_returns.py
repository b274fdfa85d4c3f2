"""Returns of a sharded event off shard 0 (issue 20: no partition takes more than 1/N of an event's write
units): a cancel, a one-ticket cancel or a hold's release whose tickets came from shards k > 0 goes back to
open sale with the pool's condition on those shards' own quotas, writing and checking nothing on
`EVENT#<id>`; the line's marks (`line_used`, a line from before the shards) are on every shard, so tickets
still go to the line while anyone waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.store import dynamo, inventory
from scripts.bench.common import sent_transactions
from tests.support.bookings import Account, new_account, new_event, type_ids
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, place, stock, sweep
from tests.support.waitlist import entries, join, legacy_entry


def book(api: Api, who: Account, event_id: str, quantity: int = 1) -> Result:
    return api.call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def quota(event_id: str, shard: int) -> dict[str, Any]:
    item = dynamo.get(settings().events_table, inventory.quota_key(event_id, shard))
    assert item is not None
    return item


def one_per_shard(event_id: str, take: Callable[[Account], Result]) -> dict[int, tuple[Account, dict[str, Any]]]:
    """Each shard's one ticket (an event of one ticket a shard) taken by an account of its own, by shard."""
    taken: dict[int, tuple[Account, dict[str, Any]]] = {}
    shards = 1
    while dynamo.get(settings().events_table, inventory.quota_key(event_id, shards)) is not None:
        shards += 1
    for _ in range(shards):
        who = new_account()
        result = take(who)
        assert result.status == 201, result.body
        emptied = [k for k in range(shards) if k not in taken and int(quota(event_id, k)["available_tickets"]) == 0]
        taken[emptied[0]] = (who, result.body)
    return taken


def actions_on(sent: list[dict[str, Any]], pk: str) -> list[dict[str, Any]]:
    """The transaction actions sent on partition key `pk`."""
    found = []
    for action in sent:
        (request,) = action.values()
        key = request.get("Key") or request.get("Item")
        if key["pk"]["S"] == pk:
            found.append(action)
    return found


def cancel(api: Api, who: Account, booking: dict[str, Any]) -> Result:
    return api.call("cancel_booking", token=who.token, path={"booking_id": booking["id"]})


def release(api: Api, who: Account, hold: dict[str, Any]) -> Result:
    return api.call("release_hold", token=who.token, path={"hold_id": hold["id"]})


def test_a_cancel_of_tickets_from_another_shard_sends_nothing_to_the_events_own_partition(api: Api) -> None:
    event_id = new_event(total=2, inventory_shards=2)
    (who, booking) = one_per_shard(event_id, lambda who: book(api, who, event_id))[1]

    with sent_transactions() as sent:
        assert cancel(api, who, booking).status == 200

    assert actions_on(sent, f"EVENT#{event_id}") == []
    assert len(actions_on(sent, f"EVENT#{event_id}#S1")) == 2  # its quota (with the pool's condition), its type
    assert int(quota(event_id, 1)["available_tickets"]) == 1
    assert stock(event_id).balanced


def test_a_cancel_from_another_shard_after_the_event_started_is_refused_by_that_shards_condition(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice import clock

    event_id = new_event(total=2, inventory_shards=2, starts_in=timedelta(minutes=10))
    (who, booking) = one_per_shard(event_id, lambda who: book(api, who, event_id))[1]
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + timedelta(minutes=11))

    refused = cancel(api, who, booking)

    assert (refused.status, refused.body["code"]) == (409, "EVENT_STARTED")
    assert int(quota(event_id, 1)["available_tickets"]) == 0


def test_a_one_ticket_cancel_and_a_release_from_another_shard_send_nothing_to_the_events_own_partition(
    api: Api,
) -> None:
    event_id = new_event(total=4, inventory_shards=2)
    holds = one_per_shard(event_id, lambda who: place(api, who, event_id, 2))
    who = new_account()
    with sent_transactions() as sent:
        assert release(api, *holds[1]).status == 200
    assert actions_on(sent, f"EVENT#{event_id}") == []
    release(api, *holds[0])
    booking = book(api, who, event_id, 4).body
    number = booking["tickets"][0]["ticket_number"]
    path = {"booking_id": booking["id"], "ticket_number": number}

    with sent_transactions() as sent:  # a one-ticket cancel gives back to the booking's last shard first
        assert api.call("cancel_ticket", token=who.token, path=path).status == 200

    assert actions_on(sent, f"EVENT#{event_id}") == []
    assert int(quota(event_id, 1)["available_tickets"]) == 1
    assert stock(event_id).balanced


def test_the_first_join_marks_every_shard_and_returns_from_any_shard_still_go_to_the_line(api: Api) -> None:
    event_id = new_event(total=3, inventory_shards=3)
    booked = one_per_shard(event_id, lambda who: book(api, who, event_id))
    waiters = [new_account() for _ in range(3)]

    for person in waiters:
        assert join(api, person, event_id).status == 201

    def status(who: Account) -> str:
        shown: str = entries(api, who).body["items"][0]["status"]
        return shown

    assert all(quota(event_id, k).get(inventory.LINE_USED) for k in range(3))
    assert cancel(api, *booked[2]).status == 200
    assert [status(w) for w in waiters] == ["OFFERED", "WAITING", "WAITING"]
    offer = entries(api, waiters[0]).body["items"][0]
    assert release(api, waiters[0], {"id": offer["hold_id"]}).status == 200  # declined: on to the next
    assert status(waiters[1]) == "OFFERED"
    offer = entries(api, waiters[1]).body["items"][0]
    left = api.call("leave_waiting_list", token=waiters[1].token, path={"entry_id": offer["id"]})
    assert left.status == 200, left.body  # declined by leaving: on to the last
    assert status(waiters[2]) == "OFFERED"
    assert cancel(api, *booked[1]).status == 200  # nobody waits now: back on open sale in shard 1
    assert [int(quota(event_id, k)["available_tickets"]) for k in range(3)] == [0, 1, 0]
    assert stock(event_id).balanced


def reshard(api: Api, event_id: str, count: int, admin: Account | None = None) -> None:
    admin = admin or new_account("admin")
    result = api.call("update_event", token=admin.token, path={"event_id": event_id}, body={"inventory_shards": count})
    assert result.status == 200, result.body


def test_new_shards_of_a_reshard_after_the_first_join_carry_its_mark(api: Api) -> None:
    event_id = new_event(total=2, inventory_shards=2)
    one_per_shard(event_id, lambda who: book(api, who, event_id))
    waiter = new_account()
    assert join(api, waiter, event_id).status == 201
    reshard(api, event_id, 4)

    assert all(quota(event_id, k).get(inventory.LINE_USED) for k in range(4))
    assert not any(inventory.LEGACY_LINE in quota(event_id, k) for k in range(4))


def test_new_shards_of_an_event_with_a_line_from_before_the_shards_are_marked_and_their_returns_serve_it(
    api: Api,
) -> None:
    event_id = new_event(total=4)  # one shard, as every event stored before the line had shards
    for _ in range(2):
        assert book(api, new_account(), event_id).status == 201
    early = new_account()
    legacy_entry(event_id, early, joined_at=datetime.now(UTC) - timedelta(minutes=10))
    reshard(api, event_id, 2)  # the 2 left: 1 in each shard

    assert quota(event_id, 1).get(inventory.LEGACY_LINE)
    booked = one_per_shard(event_id, lambda who: book(api, who, event_id))
    assert cancel(api, *booked[1]).status == 200
    assert entries(api, early).body["items"][0]["status"] == "OFFERED"
    assert stock(event_id).balanced


def test_the_first_join_of_a_ninety_shard_event_marks_every_shard_in_its_one_transaction(api: Api) -> None:
    types = [{"name": "Floor", "price": "10.00", "total_tickets": 1}, {"name": "Seats", "price": "5.00"}]
    event_id = new_event(total=180, inventory_shards=90, types=types)
    floor = type_ids(event_id)["Floor"]
    booked = api.call(
        "create_booking",
        token=new_account().token,
        path={"event_id": event_id},
        body={"quantity": 1, "ticket_type_id": floor},
    )
    assert booked.status == 201, booked.body

    joined = join(api, new_account(), event_id, ticket_type_id=floor)

    assert joined.status == 201, joined.body
    assert all(quota(event_id, k).get(inventory.LINE_USED) for k in range(90))


def test_a_first_join_that_read_fewer_shards_than_a_reshard_left_reads_again_and_marks_them_all(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.store import waitlist as store

    event_id = new_event(total=2, inventory_shards=2)
    one_per_shard(event_id, lambda who: book(api, who, event_id))
    read, resharded, admin = store.read_for_join, [], new_account("admin")

    def read_then_reshard(user_id: str, read_event_id: str) -> store.JoinContext:
        context = read(user_id, read_event_id)
        if not resharded:  # between the join's read and its commit
            reshard(api, event_id, 4, admin)
            resharded.append(read_event_id)
        return context

    monkeypatch.setattr(store, "read_for_join", read_then_reshard)
    assert join(api, new_account(), event_id).status == 201

    assert resharded
    assert all(quota(event_id, k).get(inventory.LINE_USED) for k in range(4))


def test_a_reshard_that_read_no_mark_before_the_first_join_reads_again_and_copies_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.store import events as event_store

    event_id = new_event(total=2, inventory_shards=2)
    one_per_shard(event_id, lambda who: book(api, who, event_id))
    stage, joined, waiter = event_store._stage, [], new_account()

    def join_then_stage(items: list[dict[str, Any]], old: Any) -> None:
        if not joined:  # between the re-shard's read and its commit
            joined.append(join(api, waiter, event_id).status)
        stage(items, old)

    monkeypatch.setattr(event_store, "_stage", join_then_stage)
    reshard(api, event_id, 4)

    assert joined == [201]
    assert all(quota(event_id, k).get(inventory.LINE_USED) for k in range(4))


def test_a_shard_an_earlier_version_wrote_takes_shard_0s_condition_so_its_returns_still_serve_the_line(
    api: Api,
) -> None:
    event_id = new_event(total=2, inventory_shards=2)
    (who, booking) = one_per_shard(event_id, lambda who: book(api, who, event_id))[1]
    waiter = new_account()
    assert join(api, waiter, event_id).status == 201
    # Shard 1 as stop 27 left it: no line marks, so no line_used copy although the line is used.
    dynamo.client().update_item(
        TableName=settings().events_table,
        Key=dynamo.dump(inventory.quota_key(event_id, 1)),
        UpdateExpression=f"REMOVE {inventory.MARKED}, {inventory.LINE_USED}",
    )

    with sent_transactions() as sent:
        assert cancel(api, who, booking).status == 200

    assert actions_on(sent, f"EVENT#{event_id}")  # the retry took shard 0's condition
    assert entries(api, waiter).body["items"][0]["status"] == "OFFERED"  # never on open sale while it waited
    assert stock(event_id).balanced


def test_the_sweep_of_a_lapsed_hold_on_a_shard_an_earlier_version_wrote_releases_it_under_shard_0s_condition(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    event_id = new_event(total=2, inventory_shards=2)
    one_per_shard(event_id, lambda who: place(api, who, event_id, 1))
    dynamo.client().update_item(  # shard 1 as an earlier version wrote it
        TableName=settings().events_table,
        Key=dynamo.dump(inventory.quota_key(event_id, 1)),
        UpdateExpression=f"REMOVE {inventory.MARKED}",
    )
    clock.advance(settings().hold_seconds + 1)

    with sent_transactions() as sent:
        assert sweep() == 2

    checks = [a for a in actions_on(sent, f"EVENT#{event_id}") if "ConditionCheck" in a]
    assert checks  # shard 1's hold went back under shard 0's condition, its own being unmarked
    assert [int(quota(event_id, k)["available_tickets"]) for k in range(2)] == [1, 1]
    assert stock(event_id).balanced
