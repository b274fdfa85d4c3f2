"""Every instant a condition compares, with the clock exactly on it and a microsecond before: which side
is open is the rule, and a `<` written for `<=` (in the logic or in the transaction's condition) moves it.

Where the logic judges first and the transaction's condition agrees, the condition alone is tried too:
by moving the instant between the read and the write, or by calling the store on the instant."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from boxoffice.config import settings
from scripts.bench.common import count_calls
from tests.support.bookings import Account, new_account, new_event, type_ids
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, confirm, get, place, release, stock, sweep
from tests.support.waitlist import entries, join

TICK = timedelta(microseconds=1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(monkeypatch)
    frozen.now = frozen.now.replace(microsecond=0)  # whole seconds: instants written in ISO compare as given
    return frozen


def problem(result: Result, status: int, code: str) -> None:
    assert (result.status, result.body.get("code")) == (status, code), result.body


def held(api: Api, who: Account, event_id: str, quantity: int = 1) -> dict[str, Any]:
    result = place(api, who, event_id, quantity)
    assert result.status == 201, result.body
    body: dict[str, Any] = result.body
    return body


def book(api: Api, who: Account, event_id: str, key: str | None = None, **body: Any) -> Result:
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.call(
        "create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": 1, **body}, headers=headers
    )


# --- a hold's expiry (expires_at, and held_until in the conditions) ---


def test_a_hold_confirms_a_microsecond_before_its_expiry_and_is_expired_on_the_instant(api: Api, clock: Clock) -> None:
    event_id = new_event(total=10)
    early, late = new_account(), new_account()
    in_time, too_late = held(api, early, event_id), held(api, late, event_id)
    expires_at = datetime.fromisoformat(in_time["expires_at"])

    clock.now = expires_at - TICK
    assert confirm(api, early, in_time["id"]).status == 201
    clock.now = expires_at
    with count_calls() as calls:
        problem(confirm(api, late, too_late["id"]), 409, "HOLD_EXPIRED")
    assert "TransactWriteItems" not in calls.operations  # judged expired from the read alone
    assert (stock(event_id).sold, stock(event_id).held) == (1, 1)


def test_the_confirm_transaction_itself_refuses_a_hold_on_its_expiry_instant(api: Api, clock: Clock) -> None:
    """The logic refuses first on the instant; the transaction's `held_until > now` must refuse as well."""
    from boxoffice.logic.bookings import new_record, signed_codes
    from boxoffice.store import holds as hold_store

    buyer = new_account()
    hold_id = held(api, buyer, new_event(total=10), 2)["id"]
    _, hold = hold_store.read_hold(buyer.id, hold_id)
    assert hold is not None
    event = hold_store.event_of(hold)
    assert event is not None
    kind = hold.booked_type

    def confirmed_at(now: datetime) -> None:
        record = new_record(
            buyer.id, event, ticket_type=kind, quantity=2, unit_price=hold.unit_price, currency="EUR", now=now
        )
        hold_store.confirm(hold, record, codes=signed_codes(record), token_version=0, claim=None, now=now)

    with pytest.raises(hold_store.HoldChanged):
        confirmed_at(hold.expires_at)
    assert stock(hold.event_id).sold == 0
    confirmed_at(hold.expires_at - TICK)
    assert stock(hold.event_id).sold == 2


def test_a_release_on_the_expiry_instant_gives_the_tickets_back_as_expired(api: Api, clock: Clock) -> None:
    event_id = new_event(total=10)
    early, late = new_account(), new_account()
    in_time, lapsed = held(api, early, event_id, 2), held(api, late, event_id, 3)
    expires_at = datetime.fromisoformat(in_time["expires_at"])

    clock.now = expires_at - TICK
    released = release(api, early, in_time["id"])
    assert (released.status, released.body["status"]) == (200, "RELEASED")
    clock.now = expires_at
    problem(release(api, late, lapsed["id"]), 409, "HOLD_EXPIRED")
    state = stock(event_id)
    assert (state.available, state.held, state.holds[lapsed["id"]], state.balanced) == (10, 0, "EXPIRED", True)


def test_the_sweep_takes_a_hold_back_on_its_expiry_instant_and_not_a_microsecond_before(api: Api, clock: Clock) -> None:
    buyer, event_id = new_account(), new_event(total=10)
    hold = held(api, buyer, event_id, 4)
    expires_at = datetime.fromisoformat(hold["expires_at"])

    clock.now = expires_at - TICK
    assert get(api, buyer, hold["id"]).body["status"] == "HELD"
    assert sweep() == 0
    clock.now = expires_at
    assert get(api, buyer, hold["id"]).body["status"] == "EXPIRED"
    assert sweep() == 1
    assert (stock(event_id).available, stock(event_id).held) == (10, 0)


# --- a ticket type's sales window ---


def test_a_types_sales_open_on_the_sales_start_instant_and_not_a_microsecond_before(api: Api, clock: Clock) -> None:
    opens = clock.now + timedelta(days=1)
    event_id = new_event(types=[{"name": "Standard", "price": "10.00", "sales_start": opens.isoformat()}])

    clock.now = opens - TICK
    problem(book(api, new_account(), event_id), 409, "SALES_NOT_STARTED")
    problem(place(api, new_account(), event_id, 1), 409, "SALES_NOT_STARTED")
    clock.now = opens
    assert book(api, new_account(), event_id).status == 201
    assert place(api, new_account(), event_id, 1).status == 201


def test_a_types_sales_end_on_the_sales_end_instant_and_not_a_microsecond_before(api: Api, clock: Clock) -> None:
    closes = clock.now + timedelta(days=1)
    event_id = new_event(types=[{"name": "Standard", "price": "10.00", "sales_end": closes.isoformat()}])

    clock.now = closes - TICK
    assert book(api, new_account(), event_id).status == 201
    assert place(api, new_account(), event_id, 1).status == 201
    clock.now = closes
    problem(book(api, new_account(), event_id), 409, "SALES_ENDED")
    problem(place(api, new_account(), event_id, 1), 409, "SALES_ENDED")


def test_sales_ended_at_exactly_now_between_the_read_and_the_write_end_the_sale(
    api: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The logic saw no end; the transaction's `sales_end > now` sees it on the instant and refuses."""
    from boxoffice.store import bookings as booking_store
    from tests.support.races import between_read_and_write

    event_id = new_event(total=10)
    admin = new_account("admin")
    path = {"event_id": event_id, "ticket_type_id": type_ids(event_id)["General admission"]}

    def end_sales_now() -> None:
        ended = api.call("update_ticket_type", token=admin.token, path=path, body={"sales_end": clock.now.isoformat()})
        assert ended.status == 200, ended.body

    between_read_and_write(monkeypatch, booking_store, "read_for_booking", end_sales_now)
    problem(book(api, new_account(), event_id), 409, "SALES_ENDED")
    assert stock(event_id).sold == 0


# --- an Idempotency-Key's expiry ---


def test_an_idempotency_key_replays_until_its_expiry_second_and_is_free_on_it(api: Api, clock: Clock) -> None:
    from boxoffice import auth

    event_id, buyer = new_event(total=10), new_account()
    first = book(api, buyer, event_id, "order-7")
    assert first.status == 201, first.body
    expires = clock.now + timedelta(seconds=settings().idempotency_ttl_seconds)

    def again_at(moment: datetime) -> Result:
        clock.now = moment
        token, _ = auth.issue_token(buyer.id, "user", 0)  # the first token has expired by now
        return book(api, replace(buyer, token=token), event_id, "order-7")

    assert again_at(expires - TICK).body["id"] == first.body["id"]
    fresh = again_at(expires)
    assert fresh.status == 201, fresh.body
    assert fresh.body["id"] != first.body["id"]
    assert stock(event_id).sold == 2


def test_a_hold_and_a_confirm_replay_their_key_until_its_expiry_second_and_free_it_on_it(
    api: Api, clock: Clock
) -> None:
    from boxoffice import auth

    event_id = new_event(total=10, hold_cooldown_seconds=0, max_holds_per_user=10)
    buyer = new_account()
    headers = {"Idempotency-Key": "cart-3"}

    def hold_with_key(who: Account) -> Result:
        body = {"quantity": 1}
        return api.call("create_hold", token=who.token, path={"event_id": event_id}, body=body, headers=headers)

    first = hold_with_key(buyer).body
    confirmed = confirm(api, buyer, held(api, buyer, event_id)["id"], "pay-3")
    assert confirmed.status == 201, confirmed.body
    expires = clock.now + timedelta(seconds=settings().idempotency_ttl_seconds)

    def at(moment: datetime) -> Account:
        clock.now = moment
        return replace(buyer, token=auth.issue_token(buyer.id, "user", 0)[0])  # the first token has expired

    before = at(expires - TICK)
    assert hold_with_key(before).body["id"] == first["id"]
    problem(confirm(api, before, held(api, before, event_id)["id"], "pay-3"), 422, "IDEMPOTENCY_KEY_REUSED")
    on_it = at(expires)
    assert hold_with_key(on_it).body["id"] != first["id"]
    assert confirm(api, on_it, held(api, on_it, event_id)["id"], "pay-3").body["id"] != confirmed.body["id"]


# --- a waiting-list offer's expiry, and a waiting type's sales end ---


def test_an_offer_is_expired_on_its_expiry_instant_and_offered_a_microsecond_before(api: Api, clock: Clock) -> None:
    event_id, buyer, waiter = new_event(total=1), new_account(), new_account()
    booking = book(api, buyer, event_id).body
    assert join(api, waiter, event_id).status == 201
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200
    [offer] = entries(api, waiter).body["items"]
    assert offer["status"] == "OFFERED"
    expires_at = datetime.fromisoformat(offer["expires_at"])

    clock.now = expires_at - TICK
    assert entries(api, waiter).body["items"][0]["status"] == "OFFERED"
    clock.now = expires_at
    assert entries(api, waiter).body["items"][0]["status"] == "EXPIRED"
    problem(confirm(api, waiter, offer["hold_id"]), 409, "HOLD_EXPIRED")


def test_a_waiter_whose_type_stops_selling_on_the_instant_leaves_the_line_unoffered(api: Api, clock: Clock) -> None:
    closes = clock.now + timedelta(minutes=1)
    types = [{"name": "Early", "price": "10.00", "sales_end": closes.isoformat()}, {"name": "Late", "price": "9.00"}]
    event_id = new_event(total=1, types=types)
    early = type_ids(event_id)["Early"]
    buyer, waiter = new_account(), new_account()
    booking = book(api, buyer, event_id, ticket_type_id=type_ids(event_id)["Late"]).body
    assert join(api, waiter, event_id, ticket_type_id=early).status == 201

    clock.now = closes
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booking["id"]}).status == 200
    assert entries(api, waiter).body["items"][0]["status"] == "EXPIRED"
    assert (stock(event_id).available, stock(event_id).held) == (1, 0)


def test_a_join_whose_type_stops_selling_at_exactly_now_after_the_read_is_refused(
    api: Api, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The logic saw no end; the join's own `sales_end > now` sees it on the instant."""
    from boxoffice.store import waitlist as waitlist_store
    from tests.support.races import between_read_and_write

    event_id, admin, waiter = new_event(total=1), new_account("admin"), new_account()
    assert book(api, new_account(), event_id).status == 201
    path = {"event_id": event_id, "ticket_type_id": type_ids(event_id)["General admission"]}

    def end_sales_now() -> None:
        ended = api.call("update_ticket_type", token=admin.token, path=path, body={"sales_end": clock.now.isoformat()})
        assert ended.status == 200, ended.body

    between_read_and_write(monkeypatch, waitlist_store, "read_for_join", end_sales_now)
    problem(join(api, waiter, event_id), 409, "SALES_ENDED")
    assert entries(api, waiter).body["items"] == []
