"""Booking, listing, reading and cancelling through the real handlers over moto."""

from __future__ import annotations

import functools
import io
import itertools
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from boxoffice import clock, retry
from scripts.bench.common import count_calls, hooked
from tests.support.bookings import Account, bookings_of, ledger, new_account, new_event, put_bookings
from tests.support.events import stock
from tests.support.handlers import Api, Result

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TICKET = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$")
MISSING_EVENT = "00000000-0000-4000-8000-000000000000"
MISSING_BOOKING = "01JDQ7Y3M4N5P6Q7R8S9T0V1W2"


@pytest.fixture
def alice(api: Api) -> Account:
    return new_account()


@pytest.fixture
def bob(api: Api) -> Account:
    return new_account()


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


def book(api: Api, who: Account, event_id: str, quantity: Any = 2, *, key: str | None = None) -> Result:
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.call(
        "create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity}, headers=headers
    )


def cancel(api: Api, who: Account, booking_id: str) -> Result:
    return api.call("cancel_booking", token=who.token, path={"booking_id": booking_id})


def move_clock(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + by)


def stocked_events(count: int) -> list[str]:
    return [e["id"] for e in stock(*({} for _ in range(count)))]


def problem(result: Result, status: int, code: str) -> dict[str, Any]:
    assert result.status == status, result.body
    assert result.content_type == "application/problem+json"
    assert result.body["code"] == code
    body: dict[str, Any] = result.body
    return body


# --- booking ---


def test_booking_returns_the_booking_with_distinct_readable_tickets(api: Api, alice: Account) -> None:
    event_id = new_event(total=50, price="19.99")
    result = book(api, alice, event_id, 3)
    assert result.status == 201, result.body
    booking = result.body
    assert set(booking) == {
        "id",
        "event_id",
        "event",
        "ticket_type",
        "quantity",
        "tickets",
        "lines",
        "unit_price",
        "promo_code",
        "subtotal",
        "discount",
        "total",
        "total_price",
        "currency",
        "status",
        "created_at",
        "cancelled_at",
    }
    assert booking["event_id"] == event_id
    assert booking["event"]["name"] == "Moonlight Sonata"
    assert booking["event"]["status"] == "ON_SALE"
    assert booking["ticket_type"]["name"] == "General admission"
    assert (booking["quantity"], booking["status"], booking["cancelled_at"]) == (3, "CONFIRMED", None)
    assert (booking["unit_price"], booking["total_price"], booking["currency"]) == ("19.99", "59.97", "EUR")
    assert (booking["subtotal"], booking["discount"], booking["total"]) == ("59.97", "0.00", "59.97")
    numbers = [t["ticket_number"] for t in booking["tickets"]]
    assert len(set(numbers)) == 3
    assert all(TICKET.match(n) for n in numbers)
    assert {t["status"] for t in booking["tickets"]} == {"VALID"}
    assert "Idempotent-Replayed" not in result.headers
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (47, 3, True)
    assert sorted(state.ticket_numbers) == sorted(numbers)


def test_booking_ids_are_unique_and_not_sequential(api: Api, alice: Account) -> None:
    event_id = new_event()
    ids = [book(api, alice, event_id, 1).body["id"] for _ in range(5)]
    assert len(set(ids)) == 5
    # Bookings made in a row are far apart: their 80-bit tails are random, not counted up.
    tails = [functools.reduce(lambda n, c: n * 32 + CROCKFORD.index(c), i[10:], 0) for i in ids]
    assert all(abs(a - b) > 2**50 for a, b in itertools.combinations(tails, 2))


BAD_BODIES: list[Any] = [
    {"quantity": 0},
    {"quantity": -1},
    {"quantity": 51},
    {"quantity": "2"},
    {"quantity": True},
    {"quantity": 2.5},
    {"quantity": None},
    {},
    [],
    {"quantity": 2, "unit_price": "0.01"},
]


def test_bad_quantities_are_422_and_change_nothing(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    for body in BAD_BODIES:
        result = api.call("create_booking", token=alice.token, path={"event_id": event_id}, body=body)
        problem(result, 422, "VALIDATION_FAILED")
    assert ledger(event_id).available == 10
    assert bookings_of(alice.id) == []


def test_more_than_the_events_per_booking_limit_is_422(api: Api, alice: Account) -> None:
    event_id = new_event(total=10, per_booking=4)
    body = problem(book(api, alice, event_id, 5), 422, "VALIDATION_FAILED")
    assert body["errors"] == [{"field": "quantity", "message": "must be between 1 and 4 for this event"}]
    assert book(api, alice, event_id, 4).status == 201


def test_malformed_json_is_400(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    result = api.call("create_booking", token=alice.token, path={"event_id": event_id}, raw_body="{quantity: 2")
    problem(result, 400, "MALFORMED_BODY")
    assert ledger(event_id).available == 10


def test_booking_an_unknown_event_is_404(api: Api, alice: Account) -> None:
    for event_id in [MISSING_EVENT, MISSING_EVENT.upper(), "not-an-id", "x" * 3000]:
        problem(book(api, alice, event_id), 404, "EVENT_NOT_FOUND")


def test_booking_a_deleted_event_is_404(api: Api, alice: Account, admin: Account) -> None:
    event_id = new_event()
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204
    problem(book(api, alice, event_id), 404, "EVENT_NOT_FOUND")


def test_sold_out_and_not_enough_left_are_409_saying_how_many_are_left(api: Api, alice: Account) -> None:
    event_id = new_event(total=5)
    assert book(api, alice, event_id, 3).status == 201
    body = problem(book(api, alice, event_id, 3), 409, "NOT_ENOUGH_TICKETS")
    assert body["available_tickets"] == 2
    assert book(api, alice, event_id, 2).status == 201
    problem(book(api, alice, event_id, 1), 409, "SOLD_OUT")
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (0, 5, True)


def test_booking_after_the_event_started_is_409(api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    event_id = new_event(starts_in=timedelta(minutes=10))
    move_clock(monkeypatch, timedelta(minutes=11))
    problem(book(api, alice, event_id), 409, "EVENT_STARTED")
    assert ledger(event_id).available == 100


def test_the_transaction_decides_when_the_event_sells_out_after_our_read(
    api: Api, alice: Account, bob: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.store import bookings as store

    event_id = new_event(total=4)
    read = store.read_for_booking

    def read_then_bob_buys_the_rest(*args: Any) -> Any:
        context = read(*args)
        monkeypatch.setattr(store, "read_for_booking", read)
        assert book(api, bob, event_id, 3).status == 201
        return context

    monkeypatch.setattr(store, "read_for_booking", read_then_bob_buys_the_rest)
    body = problem(book(api, alice, event_id, 2), 409, "NOT_ENOUGH_TICKETS")
    assert body["available_tickets"] == 1  # from the item the failed condition returned
    assert ledger(event_id).balanced


def test_a_price_change_after_our_read_books_at_the_new_price(
    api: Api, alice: Account, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.store import bookings as store

    event_id = new_event(price="10.00")
    read = store.read_for_booking

    def read_then_reprice(*args: Any) -> Any:
        context = read(*args)
        monkeypatch.setattr(store, "read_for_booking", read)
        patch = api.call("update_event", token=admin.token, path={"event_id": event_id}, body={"ticket_price": "12.50"})
        assert patch.status == 200, patch.body
        return context

    monkeypatch.setattr(store, "read_for_booking", read_then_reprice)
    result = book(api, alice, event_id, 2)
    assert result.status == 201, result.body
    assert (result.body["unit_price"], result.body["total_price"]) == ("12.50", "25.00")


def test_a_colliding_ticket_number_is_drawn_again(api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    from boxoffice import ids

    event_id = new_event()
    taken = book(api, alice, event_id, 1).body["tickets"][0]["ticket_number"]
    draws = iter([taken])
    fresh = ids.new_ticket_number
    monkeypatch.setattr(ids, "new_ticket_number", lambda: next(draws, None) or fresh())
    result = book(api, alice, event_id, 1)
    assert result.status == 201
    assert result.body["tickets"][0]["ticket_number"] != taken
    state = ledger(event_id)
    assert (state.valid_tickets, state.balanced) == (2, True)


# --- Idempotency-Key ---


def test_the_same_key_and_body_replay_the_same_booking(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    first = book(api, alice, event_id, 2, key="order-42")
    again = book(api, alice, event_id, 2, key="order-42")
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(bookings_of(alice.id)) == 1
    assert ledger(event_id).available == 8


def test_a_replay_shows_the_booking_as_it_is_now_in_one_read(api: Api, alice: Account, admin: Account) -> None:
    event_id = new_event(total=10)
    first = book(api, alice, event_id, 2, key="k")
    assert cancel(api, alice, first.body["id"]).status == 200
    renamed = {"name": "Moonlight Sonata, moved"}
    assert api.call("update_event", token=admin.token, path={"event_id": event_id}, body=renamed).status == 200
    with count_calls() as calls:
        again = book(api, alice, event_id, 2, key="k")
    assert (again.status, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.body == api.call("get_booking", token=alice.token, path={"booking_id": first.body["id"]}).body
    assert (again.body["status"], again.body["event"]["name"]) == ("CANCELLED", "Moonlight Sonata, moved")
    assert {t["status"] for t in again.body["tickets"]} == {"CANCELLED"}
    assert again.body["cancelled_at"] is not None
    assert calls.operations == {"BatchGetItem": 1}
    assert ledger(event_id).available == 10


def test_a_replay_after_the_event_is_deleted_shows_it_deleted(api: Api, alice: Account, admin: Account) -> None:
    event_id = new_event(total=10)
    first = book(api, alice, event_id, 2, key="k")
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204
    again = book(api, alice, event_id, 2, key="k")
    assert again.status == 201, again.body
    assert (again.body["status"], again.body["event"]["status"]) == ("CONFIRMED", "DELETED")
    assert again.body == api.call("get_booking", token=alice.token, path={"booking_id": first.body["id"]}).body


def test_cancelling_a_booking_whose_key_now_stands_for_another_leaves_that_one_alone(
    api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice import auth

    event_id = new_event(total=10)
    old = book(api, alice, event_id, 2, key="k").body
    move_clock(monkeypatch, timedelta(hours=24, seconds=1))
    later = Account(alice.id, alice.email, alice.password, auth.issue_token(alice.id, "user", 0)[0])
    new = book(api, later, event_id, 3, key="k").body
    cancelled = cancel(api, later, old["id"])
    assert (cancelled.status, cancelled.body["status"]) == (200, "CANCELLED")
    replay = book(api, later, event_id, 3, key="k")
    assert (replay.body["id"], replay.body["status"]) == (new["id"], "CONFIRMED")
    assert ledger(event_id).available == 7


def test_the_same_key_with_another_body_or_event_is_422(api: Api, alice: Account) -> None:
    event_id, other_event = new_event(total=10), new_event(total=10)
    assert book(api, alice, event_id, 2, key="k").status == 201
    problem(book(api, alice, event_id, 3, key="k"), 422, "IDEMPOTENCY_KEY_REUSED")
    problem(book(api, alice, other_event, 2, key="k"), 422, "IDEMPOTENCY_KEY_REUSED")
    assert (ledger(event_id).available, ledger(other_event).available) == (8, 10)


def test_another_users_identical_key_is_independent(api: Api, alice: Account, bob: Account) -> None:
    event_id = new_event(total=10)
    mine, theirs = book(api, alice, event_id, 2, key="k"), book(api, bob, event_id, 2, key="k")
    assert (mine.status, theirs.status) == (201, 201)
    assert mine.body["id"] != theirs.body["id"]
    assert "Idempotent-Replayed" not in theirs.headers
    assert ledger(event_id).available == 6


def test_a_key_expires_after_24_hours(api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    from boxoffice import auth

    event_id = new_event(total=10)
    first = book(api, alice, event_id, 2, key="k")
    move_clock(monkeypatch, timedelta(hours=24, seconds=1))
    later = Account(alice.id, alice.email, alice.password, auth.issue_token(alice.id, "user", 0)[0])
    again = book(api, later, event_id, 3, key="k")
    assert again.status == 201, again.body
    assert again.body["id"] != first.body["id"]
    assert "Idempotent-Replayed" not in again.headers
    assert ledger(event_id).available == 5


def test_a_key_still_holds_just_before_24_hours(api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    from boxoffice import auth

    event_id = new_event(total=10)
    first = book(api, alice, event_id, 2, key="k")
    move_clock(monkeypatch, timedelta(hours=23, minutes=59))
    later = Account(alice.id, alice.email, alice.password, auth.issue_token(alice.id, "user", 0)[0])
    assert book(api, later, event_id, 2, key="k").body == first.body


def test_malformed_idempotency_keys_are_422(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    for key in ["", "x" * 256, "tab\there", "naïve", "line\nbreak", "\x7f"]:
        body = problem(book(api, alice, event_id, 1, key=key), 422, "VALIDATION_FAILED")
        assert body["errors"][0]["field"] == "idempotency-key"
    assert ledger(event_id).available == 10


def test_the_longest_printable_key_is_accepted(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    key = "~ !" * 85
    assert book(api, alice, event_id, 1, key=key).status == 201
    assert book(api, alice, event_id, 1, key=key).headers.get("Idempotent-Replayed") == "true"


# --- auth ---


def revoke(api: Api, who: Account) -> None:
    body = {"password": "a brand new password", "current_password": who.password}
    assert api.call("update_me", token=who.token, body=body).status == 200


ROUTES: list[tuple[str, Callable[[str, str], dict[str, Any]]]] = [
    ("create_booking", lambda event_id, _: {"path": {"event_id": event_id}, "body": {"quantity": 1}}),
    ("list_bookings", lambda _, __: {"query": {}}),
    ("get_booking", lambda _, booking_id: {"path": {"booking_id": booking_id}}),
    ("cancel_booking", lambda _, booking_id: {"path": {"booking_id": booking_id}}),
]


@pytest.mark.parametrize(("route", "args"), ROUTES)
def test_a_token_revoked_by_a_password_change_is_401(
    api: Api, alice: Account, route: str, args: Callable[[str, str], dict[str, Any]]
) -> None:
    event_id = new_event(total=10)
    booking_id = book(api, alice, event_id, 2).body["id"]
    revoke(api, alice)
    problem(api.call(route, token=alice.token, **args(event_id, booking_id)), 401, "UNAUTHENTICATED")
    state = ledger(event_id)
    assert (state.available, state.valid_tickets) == (8, 2)


def test_no_token_or_a_forged_one_is_401(api: Api, alice: Account) -> None:
    forged = alice.token[:-4] + ("AAAA" if not alice.token.endswith("AAAA") else "BBBB")
    for route, args in ROUTES:
        problem(api.call(route, **args(MISSING_EVENT, MISSING_BOOKING)), 401, "UNAUTHENTICATED")
        problem(api.call(route, token=forged, **args(MISSING_EVENT, MISSING_BOOKING)), 401, "UNAUTHENTICATED")


# --- reading ---


def test_get_returns_the_owners_booking(api: Api, alice: Account) -> None:
    event_id = new_event()
    made = book(api, alice, event_id, 2).body
    result = api.call("get_booking", token=alice.token, path={"booking_id": made["id"]})
    assert result.status == 200
    assert result.body == made


def test_anyone_elses_booking_is_as_missing_as_a_missing_one(api: Api, alice: Account, bob: Account) -> None:
    alices = book(api, alice, new_event(), 2).body["id"]
    theirs = problem(api.call("get_booking", token=bob.token, path={"booking_id": alices}), 404, "BOOKING_NOT_FOUND")
    for booking_id in [MISSING_BOOKING, "nope", alices.lower(), "x" * 2000]:
        missing = api.call("get_booking", token=bob.token, path={"booking_id": booking_id})
        assert problem(missing, 404, "BOOKING_NOT_FOUND") == theirs
        problem(cancel(api, bob, booking_id), 404, "BOOKING_NOT_FOUND")
    problem(cancel(api, bob, alices), 404, "BOOKING_NOT_FOUND")
    assert api.call("get_booking", token=alice.token, path={"booking_id": alices}).body["status"] == "CONFIRMED"


def test_the_list_is_newest_first_with_cancelled_ones_and_each_events_state(
    api: Api, alice: Account, bob: Account, admin: Account
) -> None:
    kept, deleted = new_event(name="Kept"), new_event(name="Gone")
    first = book(api, alice, kept, 1).body
    second = book(api, alice, deleted, 2).body
    third = book(api, alice, kept, 3).body
    book(api, bob, kept, 1)
    assert cancel(api, alice, first["id"]).status == 200
    assert api.call("delete_event", token=admin.token, path={"event_id": deleted}).status == 204

    page = api.call("list_bookings", token=alice.token, query={})
    assert page.status == 200
    assert page.body["next_cursor"] is None
    items = page.body["items"]
    assert [b["id"] for b in items] == [third["id"], second["id"], first["id"]]
    assert [b["status"] for b in items] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert [b["event"]["status"] for b in items] == ["ON_SALE", "DELETED", "ON_SALE"]
    assert items[1]["event"]["name"] == "Gone"
    assert {t["status"] for t in items[2]["tickets"]} == {"CANCELLED"}


def test_the_list_pages_with_an_opaque_cursor(api: Api, alice: Account) -> None:
    event_id = new_event()
    made = [book(api, alice, event_id, 1).body["id"] for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.call("list_bookings", token=alice.token, query=query)
        assert page.status == 200, page.body
        seen += [b["id"] for b in page.body["items"]]
        pages += 1
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    assert pages == 3  # 2 + 2 + 1: no empty last page


def test_a_user_without_bookings_gets_an_empty_list(api: Api, alice: Account) -> None:
    result = api.call("list_bookings", token=alice.token, query={"limit": "5"})
    assert (result.status, result.body) == (200, {"items": [], "next_cursor": None})


def test_tampered_or_foreign_cursors_are_422(api: Api, alice: Account, bob: Account) -> None:
    event_id = new_event()
    for _ in range(3):
        book(api, alice, event_id, 1)
    cursor = api.call("list_bookings", token=alice.token, query={"limit": "1"}).body["next_cursor"]
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    for bad in [flipped, "garbage", cursor + "x", "." * 10]:
        problem(api.call("list_bookings", token=alice.token, query={"cursor": bad}), 422, "INVALID_CURSOR")
    # Bob cannot walk Alice's list with her cursor.
    problem(api.call("list_bookings", token=bob.token, query={"cursor": cursor}), 422, "INVALID_CURSOR")


def test_a_page_holds_up_to_100_bookings_of_as_many_events(api: Api, alice: Account) -> None:
    # 101 bookings of 101 events: one page reads 100 events and the caller's account at once.
    made = put_bookings(alice.id, stocked_events(101))
    page = api.call("list_bookings", token=alice.token, query={"limit": "100"})
    assert page.status == 200, page.body
    assert [b["id"] for b in page.body["items"]] == list(reversed(made))[:100]
    assert {b["event"]["name"] for b in page.body["items"]} == {"Beethoven Night"}
    rest = api.call("list_bookings", token=alice.token, query={"cursor": page.body["next_cursor"]})
    assert [b["id"] for b in rest.body["items"]] == made[:1]
    assert len(api.call("list_bookings", token=alice.token, query={}).body["items"]) == 20


def test_bad_limits_are_422(api: Api, alice: Account) -> None:
    for limit in ["0", "101", "ten", "-1", "2.5"]:
        problem(api.call("list_bookings", token=alice.token, query={"limit": limit}), 422, "VALIDATION_FAILED")


# --- cancelling ---


def test_cancel_releases_the_tickets_once(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    made = book(api, alice, event_id, 3).body
    result = cancel(api, alice, made["id"])
    assert result.status == 200, result.body
    assert result.body["status"] == "CANCELLED"
    assert result.body["cancelled_at"] is not None
    assert {t["status"] for t in result.body["tickets"]} == {"CANCELLED"}
    assert [t["ticket_number"] for t in result.body["tickets"]] == [t["ticket_number"] for t in made["tickets"]]
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (10, 0, True)

    problem(cancel(api, alice, made["id"]), 409, "ALREADY_CANCELLED")
    assert ledger(event_id).available == 10
    assert api.call("get_booking", token=alice.token, path={"booking_id": made["id"]}).body == result.body


def test_cancel_after_the_event_started_is_409(api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    event_id = new_event(total=10, starts_in=timedelta(minutes=10))
    booking_id = book(api, alice, event_id, 2).body["id"]
    move_clock(monkeypatch, timedelta(minutes=11))
    problem(cancel(api, alice, booking_id), 409, "EVENT_STARTED")
    state = ledger(event_id)
    assert (state.available, state.valid_tickets) == (8, 2)


def test_a_booking_of_a_deleted_event_can_be_cancelled_and_the_books_still_balance(
    api: Api, alice: Account, admin: Account
) -> None:
    event_id = new_event(total=10)
    booking_id = book(api, alice, event_id, 3).body["id"]
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204
    result = cancel(api, alice, booking_id)
    assert result.status == 200, result.body
    assert result.body["event"]["status"] == "DELETED"
    state = ledger(event_id)
    assert (state.status, state.available, state.valid_tickets, state.balanced) == ("DELETED", 10, 0, True)


def test_cancel_shows_the_events_live_start_and_reading_shows_its_new_name(
    api: Api, alice: Account, admin: Account
) -> None:
    # A cancel touches only the event's small quota item (which has its start and status, not its
    # name): the answer has the live start; the name comes with the next read of the booking.
    event_id = new_event(total=10)
    booking_id = book(api, alice, event_id, 1).body["id"]
    later = (clock.now() + timedelta(days=40)).replace(microsecond=0).isoformat()
    body = {"name": "New Name", "starts_at": later}
    patch = api.call("update_event", token=admin.token, path={"event_id": event_id}, body=body)
    assert patch.status == 200, patch.body
    result = cancel(api, alice, booking_id)
    assert result.status == 200, result.body
    assert result.body["event"]["starts_at"] == patch.body["starts_at"]
    read = api.call("get_booking", token=alice.token, path={"booking_id": booking_id})
    assert read.body["event"]["name"] == "New Name"
    assert ledger(event_id).balanced


def test_capacity_edits_keep_the_books_balanced(api: Api, alice: Account, admin: Account) -> None:
    event_id = new_event(total=10)
    booking_id = book(api, alice, event_id, 4).body["id"]
    grow = api.call("update_event", token=admin.token, path={"event_id": event_id}, body={"total_tickets": 20})
    assert grow.body["available_tickets"] == 16
    below = api.call("update_event", token=admin.token, path={"event_id": event_id}, body={"total_tickets": 3})
    problem(below, 409, "CAPACITY_BELOW_SOLD")
    assert cancel(api, alice, booking_id).status == 200
    state = ledger(event_id)
    assert (state.total, state.available, state.balanced) == (20, 20, True)


# --- contention and failures ---


@contextmanager
def transactions_answering(*codes: str) -> Iterator[list[str]]:
    """The next TransactWriteItems calls get these answers, as botocore's Stubber gives them
    (a before-call hook that returns the response), then the calls reach moto again."""

    queue, calls = list(codes), []

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        calls.append("TransactWriteItems")
        if not queue:
            return None
        code = queue.pop(0)
        if code == "InternalServerError":
            return AWSResponse("", 500, {}, None), {"Error": {"Code": code, "Message": "injected"}}
        reasons = [{"Code": "None"}] * len(json.loads(params["body"])["TransactItems"])
        reasons[0] = {"Code": code}
        error = {"Code": "TransactionCanceledException", "Message": f"Transaction cancelled [{code}]"}
        return AWSResponse("", 400, {}, None), {"Error": error, "CancellationReasons": reasons}

    with hooked("before-call.dynamodb.TransactWriteItems", answer):
        yield calls


def test_transaction_conflicts_are_retried_until_the_booking_commits(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    with transactions_answering("TransactionConflict", "TransactionConflict") as calls:
        result = book(api, alice, event_id, 2)
    assert result.status == 201, result.body
    assert len(calls) == 3
    state = ledger(event_id)
    assert (state.available, state.balanced) == (8, True)


def test_conflicts_that_outlast_the_retries_are_409_busy_with_retry_after(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    with transactions_answering(*["TransactionConflict"] * 4) as calls:
        result = book(api, alice, event_id, 2)
    problem(result, 409, "BUSY")
    assert int(result.headers["Retry-After"]) >= 1
    assert len(calls) == retry.ATTEMPTS
    assert ledger(event_id).available == 10
    assert bookings_of(alice.id) == []


def test_a_busy_cancel_changes_nothing_and_can_be_retried(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    booking_id = book(api, alice, event_id, 2).body["id"]
    with transactions_answering(*["TransactionConflict"] * 4):
        problem(cancel(api, alice, booking_id), 409, "BUSY")
    assert ledger(event_id).available == 8
    assert cancel(api, alice, booking_id).status == 200
    assert ledger(event_id).available == 10


def test_other_dynamodb_failures_are_503(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    with transactions_answering("InternalServerError"):
        problem(book(api, alice, event_id, 2), 503, "SERVICE_UNAVAILABLE")
    assert ledger(event_id).available == 10


# --- logs and metrics ---


def test_logs_carry_the_booking_and_request_ids_and_never_the_token(api: Api, alice: Account) -> None:
    from boxoffice.observability import logger

    event_id = new_event(total=3)
    buffer = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    try:
        booking_id = book(api, alice, event_id, 2).body["id"]
        problem(book(api, alice, event_id, 2), 409, "NOT_ENOUGH_TICKETS")
        assert cancel(api, alice, booking_id).status == 200
    finally:
        handler.setStream(previous)
    out = buffer.getvalue()
    assert alice.token not in out
    assert alice.password not in out
    lines = [json.loads(line) for line in out.splitlines()]
    created = next(line for line in lines if line["message"] == "Booking created")
    cancelled = next(line for line in lines if line["message"] == "Booking cancelled")
    for line in (created, cancelled):
        assert line["booking_id"] == booking_id
        assert line["correlation_id"]  # the API Gateway request id


def test_metrics_count_bookings_tickets_rejections_and_cancels(
    api: Api, alice: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    event_id = new_event(total=3)
    capsys.readouterr()
    booking_id = book(api, alice, event_id, 2).body["id"]
    problem(book(api, alice, event_id, 2), 409, "NOT_ENOUGH_TICKETS")
    assert cancel(api, alice, booking_id).status == 200
    emitted: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        emf = json.loads(line) if line.startswith('{"_aws"') else {}
        for metric in emf.get("_aws", {}).get("CloudWatchMetrics", [{}])[0].get("Metrics", []):
            emitted[metric["Name"]] = emitted.get(metric["Name"], 0) + sum(emf[metric["Name"]])
    assert emitted == {
        "BookingsCreated": 1,
        "TicketsSold": 2,
        "SoldOutRejections": 1,
        "BookingsCancelled": 1,
        "TicketsReleased": 2,
    }
