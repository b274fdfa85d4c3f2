"""An event whose waiting line was used and is empty again stops paying for it (issue 20: no partition key
takes more than 1/N of an event's write units): the first return that proves the line empty by its
counters unmarks it (store/marks.py), and from then on cancels and releases go back to open sale on their
own stock shard, with no action on any `LINECOUNT#<event>#<k>`; a join marks it again, so returns go to
the line while anyone waits."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.store import dynamo, inventory, line, marks
from boxoffice.store import waitlist as store
from scripts.bench.common import sent_transactions
from tests.support.bookings import Account, new_account, new_event
from tests.support.handlers import Api, Result
from tests.support.holds import place, stock
from tests.support.waitlist import entries, join, leave


def book(api: Api, who: Account, event_id: str) -> dict[str, Any]:
    booked = api.call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": 1})
    assert booked.status == 201, booked.body
    body: dict[str, Any] = booked.body
    return body


def cancel(api: Api, who: Account, booking: dict[str, Any]) -> Result:
    return api.call("cancel_booking", token=who.token, path={"booking_id": booking["id"]})


def quota(event_id: str, shard: int) -> dict[str, Any]:
    item = dynamo.get(settings().events_table, inventory.quota_key(event_id, shard))
    assert item is not None
    return item


def marked(event_id: str, shards: int) -> list[bool]:
    return [inventory.LINE_USED in quota(event_id, k) for k in range(shards)]


def on_line_counters(sent: list[dict[str, Any]], event_id: str) -> list[dict[str, Any]]:
    """The transaction actions sent on any of the event's line counters."""
    counters = {line.counter_key(event_id, k)["pk"] for k in range(line.LINE_SHARDS)}
    return [a for a in sent if next(iter(a.values()))["Key"]["pk"]["S"] in counters]


def emptied_line(api: Api, shards: int = 2) -> tuple[str, Account, list[dict[str, Any]]]:
    """A sold-out event of `shards` stock shards (one booking a ticket, by one buyer) whose line someone
    joined and left: its shards marked, its line empty."""
    event_id = new_event(total=2 * shards, inventory_shards=shards)
    buyer = new_account()
    bookings = [book(api, buyer, event_id) for _ in range(2 * shards)]
    waiter = new_account()
    joined = join(api, waiter, event_id)
    assert joined.status == 201, joined.body
    assert leave(api, waiter, joined.body["id"]).status == 200
    assert all(marked(event_id, shards))
    return event_id, buyer, bookings


def test_after_the_line_empties_one_return_pays_the_checks_and_the_next_cancel_and_release_send_none(
    api: Api,
) -> None:
    event_id, buyer, bookings = emptied_line(api)

    assert cancel(api, buyer, bookings[0]).status == 200  # proves nobody waits, and unmarks the line
    assert marked(event_id, 2) == [False, False]
    holder = new_account()
    hold = place(api, holder, event_id, 1)
    assert hold.status == 201, hold.body
    with sent_transactions() as sent:
        assert cancel(api, buyer, bookings[1]).status == 200
        released = api.call("release_hold", token=holder.token, path={"hold_id": hold.body["id"]})
        assert released.status == 200, released.body

    assert on_line_counters(sent, event_id) == []
    assert sum(int(quota(event_id, k)["available_tickets"]) for k in range(2)) == 2
    assert stock(event_id).balanced


def test_a_process_that_still_guesses_the_line_used_learns_it_unmarked_from_one_failed_return(api: Api) -> None:
    event_id, buyer, bookings = emptied_line(api)
    assert cancel(api, buyer, bookings[0]).status == 200
    inventory._last_seen[event_id] = inventory.NOBODY  # as another process last saw it

    assert cancel(api, buyer, bookings[1]).status == 200  # fails once on the unmarked quota, then goes again
    with sent_transactions() as sent:
        assert cancel(api, buyer, bookings[2]).status == 200

    assert on_line_counters(sent, event_id) == []
    assert stock(event_id).balanced


def test_a_join_after_the_unmark_marks_every_shard_again_and_the_next_return_goes_to_it(api: Api) -> None:
    event_id, buyer, bookings = emptied_line(api, shards=3)
    assert cancel(api, buyer, bookings[0]).status == 200
    book(api, new_account(), event_id)  # sold out again
    assert event_id in store._marked  # this process still guesses the line marked: its join finds it is not
    waiter = new_account()

    assert join(api, waiter, event_id).status == 201

    assert all(marked(event_id, 3))
    assert entries(api, waiter).body["items"][0]["status"] == "WAITING"
    assert cancel(api, buyer, bookings[1]).status == 200
    assert entries(api, waiter).body["items"][0]["status"] == "OFFERED"
    assert stock(event_id).balanced


def test_a_counter_from_before_the_flag_takes_the_first_join_path_once_and_the_line_can_then_be_unmarked(
    api: Api,
) -> None:
    event_id, buyer, bookings = emptied_line(api)
    for k in range(line.LINE_SHARDS):  # as joins before counters carried the flag left them
        dynamo.client().update_item(
            TableName=settings().events_table,
            Key=dynamo.dump(line.counter_key(event_id, k)),
            UpdateExpression=f"REMOVE {line.STOCK_MARKED}",
        )
    waiter = new_account()

    joined = join(api, waiter, event_id)

    assert joined.status == 201, joined.body
    shard = line.shard_of(joined.body["id"])
    counter = dynamo.get(settings().events_table, line.counter_key(event_id, shard))
    assert counter is not None
    assert counter.get(line.STOCK_MARKED)
    assert not marks.unmark(event_id)  # someone waits: the marks stay
    assert all(marked(event_id, 2))
    assert leave(api, waiter, joined.body["id"]).status == 200
    marks._failed.pop(event_id)  # (past the debounce)
    assert cancel(api, buyer, bookings[0]).status == 200
    assert marked(event_id, 2) == [False, False]


def test_an_unmark_that_failed_is_not_tried_again_for_that_event_within_the_debounce(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id, _, _ = emptied_line(api)
    waiter = new_account()
    assert join(api, waiter, event_id).status == 201
    assert not marks.unmark(event_id)
    assert leave(api, waiter, entries(api, waiter).body["items"][0]["id"]).status == 200

    with sent_transactions() as sent:
        assert not marks.unmark(event_id)  # within the second: not even tried
    assert sent == []
    monkeypatch.setattr(marks, "DEBOUNCE_SECONDS", 0.0)
    assert marks.unmark(event_id)
    assert marked(event_id, 2) == [False, False]


def test_the_last_in_line_leaving_with_an_offer_in_hand_unmarks_the_line(api: Api) -> None:
    event_id = new_event(total=2, inventory_shards=2)
    buyer, waiter = new_account(), new_account()
    bookings = [book(api, buyer, event_id) for _ in range(2)]
    joined = join(api, waiter, event_id)
    assert joined.status == 201, joined.body
    assert cancel(api, buyer, bookings[0]).status == 200
    assert entries(api, waiter).body["items"][0]["status"] == "OFFERED"

    assert leave(api, waiter, joined.body["id"]).status == 200  # its offer's tickets back: nobody waits

    assert marked(event_id, 2) == [False, False]
    assert stock(event_id).balanced
