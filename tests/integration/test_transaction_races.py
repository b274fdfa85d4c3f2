"""Every condition in a transaction is there for a race: here each one meets its race, deterministically.

The logic answers early from its one read; the transaction's conditions decide what changed after
that read. Each test below makes a concurrent request's change land exactly between a request's read
and its write (tests/support/races.py) and fails if the condition that catches it is dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from boxoffice import auth, clock, ids
from boxoffice.logic import accounts
from boxoffice.logic import events as event_logic
from boxoffice.models.events import CreateEvent
from boxoffice.store import bookings as booking_store
from boxoffice.store import events as event_store
from boxoffice.store import users as user_store
from boxoffice.store.dynamo import Failed
from tests.support.bookings import Account, bookings_of, ledger, new_account, new_event
from tests.support.events import event_body
from tests.support.handlers import Api, Result
from tests.support.races import Clock, between_read_and_write


@pytest.fixture
def alice(api: Api) -> Account:
    return new_account()


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


def book(api: Api, who: Account, event_id: str, quantity: int = 2, *, key: str | None = None) -> Result:
    headers = {"Idempotency-Key": key} if key else None
    return api.call(
        "create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity}, headers=headers
    )


def cancel(api: Api, who: Account, booking_id: str) -> Result:
    return api.call("cancel_booking", token=who.token, path={"booking_id": booking_id})


def edit(api: Api, admin: Account, event_id: str, *, token: str | None = None, **changes: Any) -> Result:
    return api.call("update_event", token=token or admin.token, path={"event_id": event_id}, body=changes)


def changed(result: Result, status: int = 200) -> None:
    assert result.status == status, result.body


def code(result: Result, status: int, expected: str) -> None:
    assert (result.status, result.body["code"]) == (status, expected), result.body


def search(api: Api, words: str) -> list[str]:
    result = api.call("list_events", query={"q": words})
    assert result.status == 200, result.body
    return [e["id"] for e in result.body["items"]]


# --- booking: the event's condition ---


def test_an_event_rescheduled_to_before_our_request_between_read_and_write_is_not_booked(
    api: Api, alice: Account, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=10)
    now = Clock(monkeypatch, clock.now())

    def reschedule_from_a_slow_instance() -> None:
        # Its clock is 10 minutes slow, so "5 minutes from now" there has already begun for us.
        with now.behind(timedelta(minutes=10)):
            token, _ = auth.issue_token(admin.id, "admin", 0)  # signed there: its iat is that clock's
            soon = (clock.now() + timedelta(minutes=5)).isoformat()
            changed(edit(api, admin, event_id, token=token, starts_at=soon))

    between_read_and_write(monkeypatch, booking_store, "read_for_booking", reschedule_from_a_slow_instance)
    code(book(api, alice, event_id), 409, "EVENT_STARTED")
    assert ledger(event_id).available == 10


def test_an_event_deleted_between_read_and_write_is_not_booked(
    api: Api, alice: Account, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=10)

    def delete() -> None:
        changed(api.call("delete_event", token=admin.token, path={"event_id": event_id}), 204)

    between_read_and_write(monkeypatch, booking_store, "read_for_booking", delete)
    code(book(api, alice, event_id), 404, "EVENT_NOT_FOUND")
    assert (ledger(event_id).available, bookings_of(alice.id)) == (10, [])


def test_a_currency_change_between_read_and_write_books_in_the_new_currency(
    api: Api, alice: Account, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=10)
    between_read_and_write(
        monkeypatch, booking_store, "read_for_booking", lambda: changed(edit(api, admin, event_id, currency="USD"))
    )
    result = book(api, alice, event_id)
    changed(result, 201)
    assert result.body["currency"] == "USD"


def test_a_lower_per_booking_limit_between_read_and_write_refuses_the_booking(
    api: Api, alice: Account, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=10, per_booking=4)
    between_read_and_write(
        monkeypatch,
        booking_store,
        "read_for_booking",
        lambda: changed(edit(api, admin, event_id, max_tickets_per_booking=2)),
    )
    result = book(api, alice, event_id, 3)
    assert result.status == 422, result.body
    assert ledger(event_id).available == 10


def test_a_retry_whose_first_attempt_commits_between_read_and_write_replays_it(
    api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=10)
    first: list[Result] = []
    between_read_and_write(
        monkeypatch,
        booking_store,
        "read_for_booking",
        lambda: first.append(book(api, alice, event_id, key="order-7")),
    )

    retry = book(api, alice, event_id, key="order-7")

    changed(first[0], 201)
    changed(retry, 201)
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.body["id"] == first[0].body["id"]
    assert (len(bookings_of(alice.id)), ledger(event_id).available) == (1, 8)


# --- booking: the booking's own put ---


def test_a_colliding_booking_id_is_drawn_again_and_never_replaces_a_booking(
    api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=10)
    first = book(api, alice, event_id, 1).body["id"]
    draws = iter([first])
    fresh = ids.new_booking_id
    monkeypatch.setattr(ids, "new_booking_id", lambda now: next(draws, None) or fresh(now))

    second = book(api, alice, event_id, 2)

    changed(second, 201)
    assert sorted(int(b["quantity"]) for b in bookings_of(alice.id)) == [1, 2]
    assert ledger(event_id).balanced


# --- cancelling ---


def test_a_cancel_racing_another_between_read_and_write_releases_the_tickets_once(
    api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=10)
    booking_id = book(api, alice, event_id, 3).body["id"]
    between_read_and_write(monkeypatch, booking_store, "read_booking", lambda: changed(cancel(api, alice, booking_id)))

    code(cancel(api, alice, booking_id), 409, "ALREADY_CANCELLED")
    state = ledger(event_id)
    assert (state.available, state.valid_tickets, state.balanced) == (10, 0, True)


# --- cancelling: the event as the booking last saw it ---


def test_a_cancel_after_an_edit_shows_the_new_start_and_the_next_read_the_new_venue(
    api: Api, alice: Account, admin: Account
) -> None:
    # The cancel stays off the large descriptive event item (the start and status come from the small
    # quota item it updates anyway); the booking's read shows the event as it is now.
    event_id = new_event(total=10, venue="Old Hall")
    booking_id = book(api, alice, event_id, 1).body["id"]
    later = (clock.now() + timedelta(days=60)).replace(microsecond=0)
    changed(edit(api, admin, event_id, venue="New Hall", starts_at=later.isoformat()))

    result = cancel(api, alice, booking_id)

    changed(result)
    assert datetime.fromisoformat(result.body["event"]["starts_at"]) == later
    shown = api.call("get_booking", token=alice.token, path={"booking_id": booking_id})
    changed(shown)
    assert (shown.body["event"]["venue"], datetime.fromisoformat(shown.body["event"]["starts_at"])) == (
        "New Hall",
        later,
    )


def test_a_cancel_shows_the_new_start_after_only_the_start_moved(api: Api, alice: Account, admin: Account) -> None:
    event_id = new_event(total=10)
    booking_id = book(api, alice, event_id, 1).body["id"]
    later = (clock.now() + timedelta(days=60)).replace(microsecond=0)
    changed(edit(api, admin, event_id, starts_at=later.isoformat()))

    result = cancel(api, alice, booking_id)

    changed(result)
    assert datetime.fromisoformat(result.body["event"]["starts_at"]) == later


# --- accounts ---


def test_a_colliding_user_id_never_replaces_an_account(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    first = accounts.create_account("First", "first@example.com", "correct horse battery")

    monkeypatch.setattr(ids, "new_uuid", lambda: first.id)
    result = api.call("register", body={"name": "Second", "email": "second@example.com", "password": "another horse"})

    assert result.status != 201, result.body
    login = api.call("login", body={"email": "first@example.com", "password": "correct horse battery"})
    changed(login)
    assert login.body["user"]["name"] == "First"


def test_a_password_change_between_read_and_write_refuses_the_other_tokens_edit(
    api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    def change_password() -> None:
        body = {"password": "a new password", "current_password": alice.password}
        changed(api.call("update_me", token=alice.token, body=body))

    between_read_and_write(monkeypatch, user_store, "get", change_password)
    code(api.call("update_me", token=alice.token, body={"name": "Mallory"}), 401, "UNAUTHENTICATED")
    login = api.call("login", body={"email": alice.email, "password": "a new password"})
    changed(login)
    assert login.body["user"]["name"] != "Mallory"


# --- events ---


def test_an_event_added_under_a_taken_id_never_replaces_the_event(api: Api) -> None:
    first = new_event(name="First Night")

    with pytest.raises(Failed):  # the operator's path (sample data): the id it names must be new
        event_logic.add_event(CreateEvent.model_validate(event_body(name="Second Night")), event_id=first)

    shown = api.call("get_event", path={"event_id": first})
    changed(shown)
    assert shown.body["name"] == "First Night"


# --- event edits: the event as the edit read it ---


def test_an_edit_of_an_event_deleted_between_read_and_write_is_404_and_it_stays_deleted(
    api: Api, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=10)

    def delete() -> None:
        changed(api.call("delete_event", token=admin.token, path={"event_id": event_id}), 204)

    between_read_and_write(monkeypatch, event_store, "get_for_user", delete)
    code(edit(api, admin, event_id, description="too late"), 404, "EVENT_NOT_FOUND")
    assert ledger(event_id).status == "DELETED"
    assert api.call("get_event", path={"event_id": event_id}).status == 404


def test_of_two_racing_deletes_one_is_204_and_the_other_404(
    api: Api, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(total=10)
    results: list[Result] = []

    def delete() -> None:
        results.append(api.call("delete_event", token=admin.token, path={"event_id": event_id}))

    between_read_and_write(monkeypatch, event_store, "get_for_user", delete)
    results.append(api.call("delete_event", token=admin.token, path={"event_id": event_id}))
    assert [r.status for r in results] == [204, 404]


def test_a_rename_that_loses_a_race_with_another_rename_keeps_every_word_searchable(
    api: Api, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(name="Alpha")
    between_read_and_write(
        monkeypatch, event_store, "get_for_user", lambda: changed(edit(api, admin, event_id, name="Gamma"))
    )
    changed(edit(api, admin, event_id, name="Alpha Beta"))
    assert event_id in search(api, "alpha")
    assert event_id in search(api, "beta")
    assert event_id not in search(api, "gamma")


def test_a_rename_racing_a_new_start_keeps_the_new_name_searchable(
    api: Api, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(name="Alpha")
    later = (clock.now() + timedelta(days=60)).replace(microsecond=0).isoformat()
    between_read_and_write(
        monkeypatch, event_store, "get_for_user", lambda: changed(edit(api, admin, event_id, starts_at=later))
    )
    changed(edit(api, admin, event_id, name="Gamma"))
    assert event_id in search(api, "gamma")
