"""Checkout holds through the real handlers over moto, with a clock the tests move: placing, reading,
confirming, releasing, expiring (by condition, with or without a sweep), and the rules a hold shares
with a booking (ticket types, sales windows, per-user caps)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from boxoffice import ticket_codes
from boxoffice.config import settings
from boxoffice.store import dynamo, inventory
from tests.support.bookings import Account, new_account, new_event, recount, type_ids
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, confirm, get, place, release, stock, sweep

MISSING_HOLD = "01JDQ7X9A8B7C6D5E4F3G2H1J0"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def alice(api: Api) -> Account:
    return new_account()


@pytest.fixture
def bob(api: Api) -> Account:
    return new_account()


def problem(result: Result, status: int, code: str) -> None:
    assert result.status == status, result.body
    assert result.content_type == "application/problem+json"
    assert result.body["code"] == code


def book(api: Api, who: Account, event_id: str, quantity: int) -> Result:
    return api.call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def test_a_hold_takes_the_tickets_off_sale_until_it_expires(api: Api, alice: Account, clock: Clock) -> None:
    event_id = new_event(total=10, price="12.50")
    result = place(api, alice, event_id, 3)
    assert result.status == 201, result.body
    hold = result.body
    assert hold["status"] == "HELD"
    assert (hold["event_id"], hold["quantity"], hold["unit_price"], hold["total_price"], hold["currency"]) == (
        event_id,
        3,
        "12.50",
        "37.50",
        "EUR",
    )
    assert (hold["subtotal"], hold["discount"], hold["total"]) == ("37.50", "0.00", "37.50")
    assert hold["ticket_type"] == {"id": type_ids(event_id)["General admission"], "name": "General admission"}
    early = clock.now + timedelta(seconds=settings().hold_seconds) - datetime.fromisoformat(hold["expires_at"])
    assert timedelta(0) <= early < timedelta(milliseconds=1)  # to the millisecond, as the index keeps it
    assert get(api, alice, hold["id"]).body == hold
    state = stock(event_id)
    assert (state.available, state.held, state.sold, state.balanced) == (7, 3, 0, True)
    shown = api.call("get_event", path={"event_id": event_id}).body
    assert shown["available_tickets"] == 7


def test_a_hold_is_its_owners_alone(api: Api, alice: Account, bob: Account) -> None:
    hold_id = place(api, alice, new_event()).body["id"]
    problem(get(api, bob, hold_id), 404, "HOLD_NOT_FOUND")
    problem(confirm(api, bob, hold_id), 404, "HOLD_NOT_FOUND")
    problem(release(api, bob, hold_id), 404, "HOLD_NOT_FOUND")
    problem(get(api, alice, MISSING_HOLD), 404, "HOLD_NOT_FOUND")
    problem(get(api, alice, "not-a-hold-id"), 404, "HOLD_NOT_FOUND")
    problem(confirm(api, alice, "not-a-hold-id"), 404, "HOLD_NOT_FOUND")
    problem(confirm(api, alice, MISSING_HOLD), 404, "HOLD_NOT_FOUND")
    assert api.call("get_hold", path={"hold_id": hold_id}).status == 401


def test_holds_are_refused_like_bookings(api: Api, alice: Account) -> None:
    event_id = new_event(total=3, per_booking=2, max_held_tickets_per_user=3)
    problem(place(api, alice, event_id, 3), 422, "VALIDATION_FAILED")
    problem(place(api, alice, event_id, 0), 422, "VALIDATION_FAILED")
    problem(place(api, alice, "00000000-0000-4000-8000-000000000000"), 404, "EVENT_NOT_FOUND")
    problem(place(api, alice, "not-an-event"), 404, "EVENT_NOT_FOUND")
    assert place(api, alice, event_id, 2).status == 201
    problem(place(api, alice, event_id, 2), 409, "NOT_ENOUGH_TICKETS")
    assert place(api, alice, event_id, 1).status == 201
    problem(place(api, alice, event_id, 1), 409, "SOLD_OUT")
    problem(book(api, alice, event_id, 1), 409, "SOLD_OUT")
    assert stock(event_id).balanced


def test_a_hold_names_its_ticket_type_and_takes_from_its_sub_quota_and_window(
    api: Api, alice: Account, clock: Clock
) -> None:
    opens = (clock.now + timedelta(days=1)).replace(microsecond=0).isoformat()
    event_id = new_event(
        total=10,
        types=[
            {"name": "Stalls", "price": "30.00", "total_tickets": 2},
            {"name": "Balcony", "price": "20.00"},
            {"name": "Late", "price": "10.00", "sales_start": opens},
        ],
    )
    ids = type_ids(event_id)
    problem(place(api, alice, event_id, 1), 422, "VALIDATION_FAILED")
    problem(place(api, alice, event_id, 1, ticket_type_id=MISSING_HOLD), 404, "TICKET_TYPE_NOT_FOUND")
    problem(place(api, alice, event_id, 1, ticket_type_id=ids["Late"]), 409, "SALES_NOT_STARTED")
    stalls = place(api, alice, event_id, 2, ticket_type_id=ids["Stalls"])
    assert stalls.status == 201, stalls.body
    assert (stalls.body["ticket_type"]["name"], stalls.body["unit_price"]) == ("Stalls", "30.00")
    problem(place(api, alice, event_id, 1, ticket_type_id=ids["Stalls"]), 409, "SOLD_OUT")
    assert place(api, alice, event_id, 3, ticket_type_id=ids["Balcony"]).status == 201
    state = stock(event_id)
    assert (state.available, state.held, state.types[ids["Stalls"]]) == (5, 5, (0, 2, 0, 2))
    assert state.balanced
    booking = confirm(api, alice, stalls.body["id"]).body
    assert (booking["ticket_type"]["name"], booking["total_price"]) == ("Stalls", "60.00")
    assert stock(event_id).types[ids["Stalls"]] == (2, 0, 0, 2)
    assert release(api, alice, place(api, alice, event_id, 1, ticket_type_id=ids["Balcony"]).body["id"]).status == 200
    assert stock(event_id).balanced


def test_holds_count_toward_the_per_user_cap_until_released(api: Api, alice: Account, bob: Account) -> None:
    event_id = new_event(total=20, per_user=4)
    first = place(api, alice, event_id, 3).body
    capped = place(api, alice, event_id, 2)
    problem(capped, 409, "USER_LIMIT_REACHED")
    assert capped.body["remaining"] == 1
    problem(book(api, alice, event_id, 2), 409, "USER_LIMIT_REACHED")
    assert place(api, bob, event_id, 4).status == 201
    assert confirm(api, alice, first["id"]).status == 201  # a confirm keeps the tickets the buyer's
    problem(place(api, alice, event_id, 2), 409, "USER_LIMIT_REACHED")
    second = place(api, alice, event_id, 1).body
    assert release(api, alice, second["id"]).status == 200
    assert place(api, alice, event_id, 1).status == 201


def test_confirming_makes_one_booking_with_signed_tickets_without_taking_tickets_again(
    api: Api, alice: Account
) -> None:
    admin = new_account("admin")
    event_id = new_event(total=10, price="20.00")
    hold = place(api, alice, event_id, 2).body
    before = stock(event_id)
    result = confirm(api, alice, hold["id"])
    assert result.status == 201, result.body
    booking = result.body
    assert (booking["event_id"], booking["quantity"], booking["status"]) == (event_id, 2, "CONFIRMED")
    assert (booking["unit_price"], booking["total_price"]) == ("20.00", "40.00")
    assert booking["ticket_type"] == hold["ticket_type"]
    assert "Idempotent-Replayed" not in result.headers
    for ticket in booking["tickets"]:
        assert ticket["status"] == "VALID"
        claim = ticket_codes.verify(ticket["code"])
        assert (claim.event_id, claim.ticket_number) == (event_id, ticket["ticket_number"])
    after = stock(event_id)
    assert (before.available, after.available) == (8, 8)
    assert (after.sold, after.held, after.balanced) == (2, 0, True)
    shown = get(api, alice, hold["id"]).body
    assert (shown["status"], shown["booking_id"]) == ("CONFIRMED", booking["id"])
    again = confirm(api, alice, hold["id"])
    assert (again.status, again.body, again.headers.get("Idempotent-Replayed")) == (201, booking, "true")
    problem(release(api, alice, hold["id"]), 409, "HOLD_CONFIRMED")
    assert api.call("get_booking", token=alice.token, path={"booking_id": booking["id"]}).body == booking
    numbers = api.call("event_stats", token=admin.token, path={"event_id": event_id}).body
    assert (numbers["sold"], numbers["held"], numbers["revenue"]) == (2, 0, {"EUR": "40.00"})
    assert numbers == recount(event_id)


def test_stats_show_held_tickets_beside_sold_and_available(api: Api, alice: Account) -> None:
    admin = new_account("admin")
    event_id = new_event(total=10)
    place(api, alice, event_id, 3)
    book(api, alice, event_id, 2)
    numbers = api.call("event_stats", token=admin.token, path={"event_id": event_id}).body
    assert (numbers["sold"], numbers["held"], numbers["reserved"], numbers["available"]) == (2, 3, 0, 5)
    assert numbers == recount(event_id)


def test_an_idempotency_key_answers_with_its_booking_and_refuses_another_hold(api: Api, alice: Account) -> None:
    event_id = new_event()
    first, second = (place(api, alice, event_id, 1).body["id"] for _ in range(2))
    booking = confirm(api, alice, first, key="pay-1").body
    replayed = confirm(api, alice, first, key="pay-1")
    assert (replayed.status, replayed.body["id"], replayed.headers["Idempotent-Replayed"]) == (
        201,
        booking["id"],
        "true",
    )
    problem(confirm(api, alice, second, key="pay-1"), 422, "IDEMPOTENCY_KEY_REUSED")
    assert stock(event_id).sold == 1


def test_a_hold_past_its_expiry_cannot_be_confirmed_even_before_any_sweep(
    api: Api, alice: Account, clock: Clock
) -> None:
    event_id = new_event(total=5)
    hold = place(api, alice, event_id, 2).body
    clock.advance(settings().hold_seconds - 0.001)
    assert get(api, alice, hold["id"]).body["status"] == "HELD"
    clock.advance(0.001)
    assert get(api, alice, hold["id"]).body["status"] == "EXPIRED"
    problem(confirm(api, alice, hold["id"]), 409, "HOLD_EXPIRED")
    assert stock(event_id).held == 2  # not swept yet: still off sale, and still counted


def test_the_owner_releases_a_hold_once(api: Api, alice: Account) -> None:
    event_id = new_event(total=5)
    hold = place(api, alice, event_id, 2).body
    result = release(api, alice, hold["id"])
    assert result.status == 200, result.body
    assert result.body["status"] == "RELEASED"
    problem(release(api, alice, hold["id"]), 409, "HOLD_RELEASED")
    problem(confirm(api, alice, hold["id"]), 409, "HOLD_RELEASED")
    state = stock(event_id)
    assert (state.available, state.held, state.balanced) == (5, 0, True)


def test_releasing_an_expired_hold_gives_its_tickets_back_once_and_says_it_expired(
    api: Api, alice: Account, clock: Clock
) -> None:
    event_id = new_event(total=5)
    hold = place(api, alice, event_id, 2).body
    clock.advance(settings().hold_seconds)
    problem(release(api, alice, hold["id"]), 409, "HOLD_EXPIRED")
    problem(release(api, alice, hold["id"]), 409, "HOLD_EXPIRED")
    assert sweep() == 0
    state = stock(event_id)
    assert (state.available, state.holds, state.balanced) == (5, {hold["id"]: "EXPIRED"}, True)


def test_the_sweep_returns_expired_holds_to_sale_once_and_leaves_live_ones(
    api: Api, alice: Account, bob: Account, clock: Clock
) -> None:
    event_id = new_event(total=10, max_holds_per_user=3)
    old = [place(api, alice, event_id, 2).body["id"] for _ in range(3)]
    clock.advance(60)
    young = place(api, bob, event_id, 1).body["id"]
    assert sweep() == 0
    clock.advance(settings().hold_seconds - 60)
    assert sweep() == 3
    assert sweep() == 0
    state = stock(event_id)
    assert (state.available, state.held, state.balanced) == (9, 1, True)
    assert state.holds == {**dict.fromkeys(old, "EXPIRED"), young: "HELD"}


def test_a_sale_refused_for_lack_of_tickets_first_releases_expired_holds(
    api: Api, alice: Account, bob: Account, clock: Clock
) -> None:
    event_id = new_event(total=4)
    hold = place(api, alice, event_id, 4).body
    problem(place(api, bob, event_id, 1), 409, "SOLD_OUT")
    clock.advance(settings().hold_seconds)
    booked = book(api, bob, event_id, 3)
    assert booked.status == 201, booked.body
    assert place(api, bob, event_id, 1).status == 201
    state = stock(event_id)
    assert state.holds[hold["id"]] == "EXPIRED"
    assert (state.available, state.sold, state.held, state.balanced) == (0, 3, 1, True)


def test_a_buyers_own_lapsed_hold_does_not_keep_them_under_the_cap(api: Api, alice: Account, clock: Clock) -> None:
    event_id = new_event(total=10, per_user=2)
    hold = place(api, alice, event_id, 2).body
    clock.advance(settings().hold_seconds)
    assert book(api, alice, event_id, 2).status == 201  # holding again waits out a cool-down: buying does not
    assert stock(event_id).holds[hold["id"]] == "EXPIRED"


def test_a_deleted_event_takes_a_released_hold_back_and_cannot_be_confirmed(api: Api, alice: Account) -> None:
    admin = new_account("admin")
    event_id = new_event(total=5)
    hold = place(api, alice, event_id, 2).body
    assert api.call("delete_event", token=admin.token, path={"event_id": event_id}).status == 204
    problem(confirm(api, alice, hold["id"]), 404, "EVENT_NOT_FOUND")
    assert release(api, alice, hold["id"]).status == 200
    assert stock(event_id).balanced


def test_an_event_that_started_takes_no_confirm(api: Api, alice: Account, clock: Clock) -> None:
    event_id = new_event(total=5, starts_in=timedelta(seconds=settings().hold_seconds / 2))
    hold = place(api, alice, event_id, 2).body
    clock.advance(settings().hold_seconds / 2)
    problem(confirm(api, alice, hold["id"]), 409, "EVENT_STARTED")


def test_an_event_deleted_between_read_and_confirm_is_not_found(
    api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.store import holds as hold_store
    from tests.support.races import between_read_and_write

    admin = new_account("admin")
    event_id = new_event(total=5)
    hold = place(api, alice, event_id, 2).body

    def delete() -> Result:
        return api.call("delete_event", token=admin.token, path={"event_id": event_id})

    between_read_and_write(monkeypatch, hold_store, "event_of", delete)
    problem(confirm(api, alice, hold["id"]), 404, "EVENT_NOT_FOUND")
    assert stock(event_id).holds[hold["id"]] == "HELD"


def _wait(event_id: str, entries: int) -> None:
    """People join the event's waiting list for more tickets than will come back (the waiting list's own
    count and line items, as its joins would write them), or, with 0, all leave it."""
    from boxoffice.store import line as lines

    table = settings().events_table
    dynamo.client().update_item(
        TableName=table,
        Key=dynamo.dump(inventory.quota_key(event_id)),
        UpdateExpression="SET waiting = :n",
        ExpressionAttributeValues=dynamo.values(n=entries),
    )
    line = lines.line_pk(event_id, lines.LEGACY)  # the line of before the shards, counted on the quota
    for item in dynamo.client().query(
        TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=dynamo.values(pk=line)
    )["Items"]:
        dynamo.client().delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    [kind] = type_ids(event_id).values()
    for n in range(entries):
        item = {"pk": line, "sk": f"2026-01-01T00:00:00.00000{n}+00:00#{event_id}.{n}", "entry_id": f"{event_id}.{n}"}
        item |= {"user_id": str(n), "ticket_type_id": kind, "ticket_type_name": "General admission", "quantity": 10}
        dynamo.client().put_item(TableName=table, Item=dynamo.dump(item))


def test_tickets_that_come_back_while_people_wait_are_kept_for_the_waiting_list(
    api: Api, alice: Account, clock: Clock
) -> None:
    event_id = new_event(total=10)
    booking = book(api, alice, event_id, 3).body
    released, lapsed = (place(api, alice, event_id, 2).body for _ in range(2))
    _wait(event_id, 1)
    assert api.call("cancel_booking", token=alice.token, path={"booking_id": booking["id"]}).status == 200
    assert release(api, alice, released["id"]).status == 200
    state = stock(event_id)
    assert (state.available, state.reserved, state.held, state.sold, state.balanced) == (3, 5, 2, 0, True)
    problem(book(api, alice, event_id, 4), 409, "NOT_ENOUGH_TICKETS")  # reserved tickets are not on open sale
    _wait(event_id, 0)
    clock.advance(settings().hold_seconds)
    assert sweep() == 1
    state = stock(event_id)  # nobody waits any more: the sweeper puts what was kept back on open sale
    assert (state.available, state.reserved, state.held, state.balanced) == (10, 0, 0, True)
    assert state.holds[lapsed["id"]] == "EXPIRED"


def test_a_hold_on_an_event_stored_before_ticket_types_upgrades_it_first(api: Api, alice: Account) -> None:
    from tests.integration.test_legacy_events import v1_event

    event_id = v1_event(total=10, available=8)
    hold = place(api, alice, event_id, 2)
    assert hold.status == 201, hold.body
    assert hold.body["ticket_type"]["name"] == "General admission"
    state = stock(event_id)
    assert (state.total, state.available, state.held, state.sold) == (10, 6, 2, 2)


def test_capacity_changes_move_open_sale_only_and_never_below_what_is_sold_or_held(api: Api, alice: Account) -> None:
    admin = new_account("admin")
    event_id = new_event(total=10)
    place(api, alice, event_id, 4)
    book(api, alice, event_id, 3)

    def resize(total: int) -> Result:
        return api.call("update_event", token=admin.token, path={"event_id": event_id}, body={"total_tickets": total})

    assert resize(12).status == 200
    assert (stock(event_id).available, stock(event_id).balanced) == (5, True)
    refused = resize(6)
    problem(refused, 409, "CAPACITY_BELOW_SOLD")
    assert refused.body["tickets_sold"] == 7
    assert resize(7).status == 200
    state = stock(event_id)
    assert (state.total, state.available, state.held, state.sold, state.balanced) == (7, 0, 4, 3, True)


def test_a_ticket_types_sub_quota_leaves_its_held_tickets_out_and_a_type_with_holds_stays(
    api: Api, alice: Account
) -> None:
    admin = new_account("admin")
    event_id = new_event(total=20, types=[{"name": "Stalls", "price": "30.00"}, {"name": "Balcony", "price": "20.00"}])
    stalls = type_ids(event_id)["Stalls"]
    path = {"event_id": event_id, "ticket_type_id": stalls}
    place(api, alice, event_id, 3, ticket_type_id=stalls)

    def sub_quota(total: int) -> Result:
        return api.call("update_ticket_type", token=admin.token, path=path, body={"total_tickets": total})

    problem(sub_quota(2), 409, "CAPACITY_BELOW_SOLD")
    assert sub_quota(5).status == 200
    assert stock(event_id).types[stalls] == (0, 3, 2, 5)
    assert sub_quota(4).status == 200
    assert stock(event_id).types[stalls] == (0, 3, 1, 4)
    problem(sub_quota(2), 409, "CAPACITY_BELOW_SOLD")
    problem(api.call("delete_ticket_type", token=admin.token, path=path), 409, "TICKET_TYPE_HAS_SALES")
    assert stock(event_id).balanced
