"""What one account may keep off sale: a ceiling on its live held tickets and live holds per event, a
cool-down after it lets a hold expire, and a refused sale that returns only its own event's lapsed holds,
a bounded number per request. Through the real handlers over moto, with a clock the tests move."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.logic import expiry
from boxoffice.records import DEFAULT_HOLD_COOLDOWN_SECONDS, DEFAULT_MAX_HOLDS_PER_USER
from tests.support.bookings import Account, new_account, new_event
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, confirm, place, release, stock, sweep


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def hoarder(api: Api) -> Account:
    return new_account()


@pytest.fixture
def buyer(api: Api) -> Account:
    return new_account()


def problem(result: Result, status: int, code: str) -> dict[str, Any]:
    assert result.status == status, result.body
    assert result.content_type == "application/problem+json"
    assert result.body["code"] == code
    return result.body


def book(api: Api, who: Account, event_id: str, quantity: int) -> Result:
    return api.call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def event_of(api: Api, event_id: str) -> dict[str, Any]:
    return api.call("get_event", path={"event_id": event_id}).body


# --- the ceiling ---


def test_ten_holds_of_ten_on_a_hundred_ticket_event_stop_at_the_default_ceiling(api: Api, hoarder: Account) -> None:
    event_id = new_event(total=100, per_booking=10)
    shown = event_of(api, event_id)
    assert (shown["max_held_tickets_per_user"], shown["max_holds_per_user"], shown["hold_cooldown_seconds"]) == (
        10,  # one booking's worth
        DEFAULT_MAX_HOLDS_PER_USER,
        DEFAULT_HOLD_COOLDOWN_SECONDS,
    )
    results = [place(api, hoarder, event_id, 10) for _ in range(10)]
    assert [r.status for r in results] == [201] + [409] * 9
    refused = problem(results[1], 409, "HOLD_LIMIT_REACHED")
    assert (refused["remaining"], refused["limit"]) == (0, 10)
    state = stock(event_id)
    assert (state.available, state.held, state.balanced) == (90, 10, True)


def test_the_number_of_live_holds_is_capped_too(api: Api, hoarder: Account) -> None:
    event_id = new_event(total=100, max_held_tickets_per_user=50, max_holds_per_user=3)
    assert [place(api, hoarder, event_id, 1).status for _ in range(4)] == [201, 201, 201, 409]
    problem(place(api, hoarder, event_id, 1), 409, "HOLD_LIMIT_REACHED")
    assert stock(event_id).held == 3


def test_a_confirmed_or_released_hold_frees_its_room_under_the_ceiling(api: Api, hoarder: Account) -> None:
    event_id = new_event(total=100, max_held_tickets_per_user=4, max_holds_per_user=2)
    first = place(api, hoarder, event_id, 2).body
    second = place(api, hoarder, event_id, 2).body
    problem(place(api, hoarder, event_id, 1), 409, "HOLD_LIMIT_REACHED")
    assert confirm(api, hoarder, first["id"]).status == 201
    assert release(api, hoarder, second["id"]).status == 200
    assert place(api, hoarder, event_id, 4).status == 201
    assert book(api, hoarder, event_id, 10).status == 201  # the ceiling is on holds, not on buying


def test_the_ceilings_are_set_per_event_on_create_and_patch(api: Api) -> None:
    admin = new_account(role="admin")
    event_id = new_event(max_held_tickets_per_user=6, max_holds_per_user=1, hold_cooldown_seconds=0)
    shown = event_of(api, event_id)
    assert (shown["max_held_tickets_per_user"], shown["max_holds_per_user"], shown["hold_cooldown_seconds"]) == (
        6,
        1,
        0,
    )
    patched = api.call(
        "update_event",
        token=admin.token,
        path={"event_id": event_id},
        body={"max_held_tickets_per_user": None, "max_holds_per_user": 3, "hold_cooldown_seconds": 120},
    )
    assert patched.status == 200, patched.body
    assert (
        patched.body["max_held_tickets_per_user"],
        patched.body["max_holds_per_user"],
        patched.body["hold_cooldown_seconds"],
    ) == (10, 3, 120)  # null: back to one booking's worth
    # A listing shows them from the quota item it reads anyway (the index projections stay as they are).
    [listed] = [e for e in api.call("list_events", query={"limit": "100"}).body["items"] if e["id"] == event_id]
    assert (listed["max_held_tickets_per_user"], listed["max_holds_per_user"], listed["hold_cooldown_seconds"]) == (
        10,
        3,
        120,
    )
    bad = api.call("update_event", token=admin.token, path={"event_id": event_id}, body={"max_holds_per_user": 0})
    problem(bad, 422, "VALIDATION_FAILED")


def test_a_ceiling_lowered_between_read_and_write_is_what_the_hold_meets(
    api: Api, hoarder: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ceiling is a condition of the hold's own transaction, not of the read before it."""
    from boxoffice.store import bookings as booking_store

    admin = new_account(role="admin")
    event_id = new_event(total=100, max_held_tickets_per_user=10)
    assert place(api, hoarder, event_id, 5).status == 201
    real = booking_store.read_for_booking

    def read_then_lower(*args: Any, **kwargs: Any) -> Any:
        context = real(*args, **kwargs)
        monkeypatch.setattr(booking_store, "read_for_booking", real)
        lowered = api.call(
            "update_event", token=admin.token, path={"event_id": event_id}, body={"max_held_tickets_per_user": 6}
        )
        assert lowered.status == 200, lowered.body
        return context

    monkeypatch.setattr(booking_store, "read_for_booking", read_then_lower)
    refused = problem(place(api, hoarder, event_id, 5), 409, "HOLD_LIMIT_REACHED")
    assert (refused["remaining"], refused["limit"]) == (1, 6)
    assert stock(event_id).held == 5


# --- the cool-down ---


def test_the_hoarder_loop_no_longer_keeps_a_buyer_at_sold_out(
    api: Api, hoarder: Account, buyer: Account, clock: Clock
) -> None:
    event_id = new_event(total=10, per_booking=10)
    assert place(api, hoarder, event_id, 10).status == 201
    problem(book(api, buyer, event_id, 2), 409, "SOLD_OUT")
    clock.advance(settings().hold_seconds)
    # The hoarder's own refused request returns the lapsed hold, and the cool-down keeps them from retaking it.
    cooled = place(api, hoarder, event_id, 10)
    body = problem(cooled, 429, "HOLD_COOLDOWN")
    assert cooled.headers["Retry-After"] == str(DEFAULT_HOLD_COOLDOWN_SECONDS) == str(body["retry_after"])
    assert book(api, buyer, event_id, 2).status == 201
    state = stock(event_id)
    assert (state.available, state.sold, state.held, state.balanced) == (8, 2, 0, True)


def test_the_cool_down_ends_on_its_instant_counted_from_the_holds_expiry(
    api: Api, hoarder: Account, clock: Clock
) -> None:
    event_id = new_event(total=10, hold_cooldown_seconds=30)
    expires_at = datetime.fromisoformat(place(api, hoarder, event_id, 2).body["expires_at"])
    clock.now = expires_at - timedelta(milliseconds=1)
    assert sweep() == 0  # not lapsed yet: no cool-down, and the hold still counts
    clock.now = expires_at + timedelta(seconds=20)
    assert sweep() == 1  # swept 20 s late: the cool-down still runs from expires_at
    clock.now = expires_at + timedelta(seconds=30, milliseconds=-1)
    cooled = place(api, hoarder, event_id, 1)
    problem(cooled, 429, "HOLD_COOLDOWN")
    assert cooled.headers["Retry-After"] == "1"  # rounded up: never an answer to come back too early
    clock.now = expires_at + timedelta(seconds=30)
    assert place(api, hoarder, event_id, 1).status == 201


def test_a_released_or_confirmed_hold_starts_no_cool_down(api: Api, hoarder: Account) -> None:
    event_id = new_event(total=10)
    assert release(api, hoarder, place(api, hoarder, event_id, 1).body["id"]).status == 200
    assert confirm(api, hoarder, place(api, hoarder, event_id, 1).body["id"]).status == 201
    assert place(api, hoarder, event_id, 1).status == 201


def test_a_cool_down_is_per_event_and_does_not_stop_buying(api: Api, hoarder: Account, clock: Clock) -> None:
    event_id, other = new_event(total=10), new_event(total=10)
    assert place(api, hoarder, event_id, 2).status == 201
    clock.advance(settings().hold_seconds)
    assert sweep() == 1
    problem(place(api, hoarder, event_id, 1), 429, "HOLD_COOLDOWN")
    assert place(api, hoarder, other, 1).status == 201
    assert book(api, hoarder, event_id, 1).status == 201


# --- expiry inside a request: the event's own lapsed holds, a bounded number ---


@dataclass
class IndexReads:
    queries: Counter[str] = field(default_factory=Counter)  # by index name
    items: list[dict[str, Any]] = field(default_factory=list)  # every item the Queries returned
    scanned: int = 0  # every item they read, a filter's discards included


@contextmanager
def index_reads() -> Iterator[IndexReads]:
    """Every Query on an index through boxoffice's client while the block runs, and the items it read."""
    from boxoffice.store import dynamo
    from boxoffice.store.dynamo import load

    reads = IndexReads()

    def sent(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["index"] = params.get("IndexName")

    def answered(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if context.get("index"):
            reads.queries[context["index"]] += 1
            reads.items += [load(item) for item in parsed.get("Items", [])]
            reads.scanned += int(parsed.get("ScannedCount", 0))

    hooks = {"provide-client-params.dynamodb.Query": sent, "after-call.dynamodb.Query": answered}
    events = dynamo.client().meta.events
    for name, hook in hooks.items():
        events.register(name, hook, unique_id=f"test-{name}")
    try:
        yield reads
    finally:
        for name in hooks:
            events.unregister(name, unique_id=f"test-{name}")


def test_a_refused_sale_reads_and_releases_only_its_events_own_lapsed_holds_a_bounded_number(
    api: Api, buyer: Account, clock: Clock
) -> None:
    busy = new_event(total=200)
    for _ in range(40):  # the platform's backlog: another event's lapsed holds, swept by nobody yet
        assert place(api, new_account(), busy, 1).status == 201
    quiet = new_event(total=expiry.IN_REQUEST_RELEASES + 5)
    own = [place(api, new_account(), quiet, 1).body["id"] for _ in range(expiry.IN_REQUEST_RELEASES + 5)]
    clock.advance(settings().hold_seconds)
    with index_reads() as reads:
        booked = book(api, buyer, quiet, 1)
    assert booked.status == 201, booked.body
    assert {item["event_id"] for item in reads.items} == {quiet}
    assert reads.scanned <= expiry.IN_REQUEST_RELEASES
    state = stock(quiet)
    assert Counter(state.holds[h] for h in own) == {"EXPIRED": expiry.IN_REQUEST_RELEASES, "HELD": 5}
    assert stock(busy).held == 40  # the sweeper's, untouched
    assert sweep() == 45
    assert stock(quiet).balanced
