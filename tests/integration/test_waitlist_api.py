"""The waiting list through the real handlers over moto: joining while too few tickets are on sale, one
live entry per user and event, exact positions, leaving, and more capacity kept for the line."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.store import dynamo, inventory
from boxoffice.store import waitlist as store
from tests.integration.test_legacy_events import v1_event
from tests.support.bookings import Account, new_account, new_event, type_ids
from tests.support.events import sell
from tests.support.handlers import Api, Result
from tests.support.races import between_read_and_write
from tests.support.waitlist import entries, join, leave, position, tickets

MISSING_EVENT = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


def sold_out(total: int = 10, **kwargs: Any) -> str:
    event_id = new_event(total=total, **kwargs)
    assert sell(event_id, total)
    return event_id


def book(api: Api, who: Account, event_id: str, quantity: int = 1) -> Result:
    return api.call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def patch_event(api: Api, admin: Account, event_id: str, **changes: Any) -> Result:
    return api.call("update_event", token=admin.token, path={"event_id": event_id}, body=changes)


def test_joining_a_sold_out_event_puts_the_user_in_line_in_join_order(api: Api) -> None:
    event_id = sold_out()
    first, second = new_account(), new_account()

    one, two = join(api, first, event_id, 2), join(api, second, event_id, 1)

    assert (one.status, two.status) == (201, 201), (one.body, two.body)
    assert one.body["status"] == "WAITING"
    assert one.body["quantity"] == 2
    assert one.body["event_id"] == event_id
    assert (one.body["position"], two.body["position"]) == (1, 2)
    assert one.body["ticket_type"]["name"] == "General admission"
    assert one.body["hold_id"] is None
    assert one.body["expires_at"] is None
    assert tickets(event_id).waiting == 2


def test_joining_while_enough_tickets_are_on_sale_is_refused_with_how_many(api: Api) -> None:
    event_id = new_event(total=10)
    assert sell(event_id, 8)

    refused = join(api, new_account(), event_id, 2)
    accepted = join(api, new_account(), event_id, 3)

    assert (refused.status, refused.body["code"], refused.body["available"]) == (409, "TICKETS_AVAILABLE", 2)
    assert accepted.status == 201  # 3 wanted, 2 left: too few
    assert tickets(event_id).waiting == 1


def test_a_user_has_one_live_entry_per_event_and_may_join_again_after_leaving(api: Api) -> None:
    event_id = sold_out()
    alice, bob = new_account(), new_account()
    first = join(api, alice, event_id).body
    join(api, bob, event_id)

    again = join(api, alice, event_id)
    left = leave(api, alice, first["id"])
    rejoined = join(api, alice, event_id)

    assert (again.status, again.body["code"]) == (409, "ALREADY_WAITING")
    assert (left.status, left.body["status"], left.body["position"]) == (200, "LEFT", None)
    assert rejoined.status == 201
    assert rejoined.body["id"] != first["id"]
    assert rejoined.body["position"] == 2  # behind bob: leaving gives up one's place
    assert leave(api, alice, first["id"]).status == 404  # the old entry was replaced by the new one
    assert tickets(event_id).waiting == 2


def test_positions_are_exact_as_people_ahead_leave(api: Api) -> None:
    event_id = sold_out()
    people = [new_account() for _ in range(4)]
    ids = [join(api, p, event_id).body["id"] for p in people]

    assert leave(api, people[1], ids[1]).status == 200
    assert leave(api, people[0], ids[0]).status == 200

    assert [position(api, p, i) for p, i in zip(people[2:], ids[2:], strict=True)] == [1, 2]


def test_leaving_twice_is_not_waiting_and_others_entries_are_not_found(api: Api) -> None:
    event_id = sold_out()
    alice, bob = new_account(), new_account()
    entry = join(api, alice, event_id).body
    assert leave(api, alice, entry["id"]).status == 200

    twice = leave(api, alice, entry["id"])
    foreign = leave(api, bob, entry["id"])
    nonsense = leave(api, alice, "not-an-entry")

    assert (twice.status, twice.body["code"], twice.body["entry_status"]) == (409, "NOT_WAITING", "LEFT")
    assert (foreign.status, foreign.body["code"]) == (404, "WAITING_ENTRY_NOT_FOUND")
    assert nonsense.status == 404
    assert tickets(event_id).waiting == 0


def test_the_list_shows_ended_entries_and_pages_by_cursor(api: Api) -> None:
    alice = new_account()
    events = [sold_out() for _ in range(3)]
    joined = [join(api, alice, e).body for e in events]
    assert leave(api, alice, joined[0]["id"]).status == 200

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(3):
        page = entries(api, alice, limit=2, **({"cursor": cursor} if cursor else {}))
        assert page.status == 200, page.body
        seen += page.body["items"]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break

    assert sorted(e["id"] for e in seen) == sorted(e["id"] for e in joined)
    by_id = {e["id"]: e for e in seen}
    assert by_id[joined[0]["id"]]["status"] == "LEFT"
    assert by_id[joined[0]["id"]]["position"] is None
    assert [by_id[e["id"]]["position"] for e in joined[1:]] == [1, 1]
    assert entries(api, new_account()).body == {"items": [], "next_cursor": None}
    assert entries(api, alice, cursor="forged").body["code"] == "INVALID_CURSOR"


def test_a_type_sold_out_in_its_own_sub_quota_can_be_waited_for(api: Api) -> None:
    types = [{"name": "VIP", "price": "90.00", "total_tickets": 2}, {"name": "Standard", "price": "20.00"}]
    event_id = new_event(total=10, types=types)
    vip, standard = type_ids(event_id)["VIP"], type_ids(event_id)["Standard"]
    buyer = new_account()
    assert (
        api.call(
            "create_booking",
            token=buyer.token,
            path={"event_id": event_id},
            body={"quantity": 2, "ticket_type_id": vip},
        ).status
        == 201
    )

    waiting = join(api, new_account(), event_id, 1, ticket_type_id=vip)
    refused = join(api, new_account(), event_id, 1, ticket_type_id=standard)
    unnamed = join(api, new_account(), event_id, 1)

    assert waiting.status == 201
    assert waiting.body["ticket_type"] == {"id": vip, "name": "VIP"}
    assert (refused.status, refused.body["code"], refused.body["available"]) == (409, "TICKETS_AVAILABLE", 8)
    assert unnamed.status == 422  # several types: which one must be said


@pytest.mark.parametrize(
    ("kwargs", "body", "status", "code"),
    [
        ({}, {"quantity": 11}, 422, "VALIDATION_FAILED"),
        ({}, {"quantity": 0}, 422, "VALIDATION_FAILED"),
        ({}, {"quantity": 1, "ticket_type_id": MISSING_EVENT}, 404, "TICKET_TYPE_NOT_FOUND"),
        ({"per_user": 2}, {"quantity": 3}, 409, "USER_LIMIT_REACHED"),
    ],
)
def test_joining_follows_the_booking_rules_but_for_the_tickets_left(
    api: Api, kwargs: dict[str, Any], body: dict[str, Any], status: int, code: str
) -> None:
    event_id = sold_out(per_booking=10, **kwargs)

    result = api.call("join_waiting_list", token=new_account().token, path={"event_id": event_id}, body=body)

    assert (result.status, result.body["code"]) == (status, code), result.body
    assert tickets(event_id).waiting == 0


def test_joining_a_missing_started_or_closed_event_is_refused(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    user = new_account()
    types = [{"name": "Early", "price": "10.00", "sales_end": (clock.now() + timedelta(days=1)).isoformat()}]
    closing = sold_out(types=types)
    started = sold_out(starts_in=timedelta(hours=1))

    assert join(api, user, MISSING_EVENT).body["code"] == "EVENT_NOT_FOUND"
    assert join(api, user, "garbage").status == 404
    later = clock.now() + timedelta(days=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    user = new_account()  # a token of the later day
    assert join(api, user, started).body["code"] == "EVENT_STARTED"
    assert join(api, user, closing).body["code"] == "SALES_ENDED"


def test_tickets_coming_back_between_read_and_join_refuse_it_by_condition(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = sold_out()
    buyer, late = new_account(), new_account()

    def cancel_three() -> None:  # a cancel elsewhere, while nobody waits: back on open sale
        dynamo.client().update_item(
            TableName=settings().events_table,
            Key=dynamo.dump(inventory.quota_key(event_id)),
            UpdateExpression="SET available_tickets = available_tickets + :q, sold = sold - :q",
            ExpressionAttributeValues=dynamo.values(q=3),
        )

    between_read_and_write(monkeypatch, store, "read_for_join", cancel_three)
    refused = join(api, late, event_id, 2)

    assert (refused.status, refused.body["code"], refused.body["available"]) == (409, "TICKETS_AVAILABLE", 3)
    assert tickets(event_id).waiting == 0
    assert book(api, buyer, event_id, 3).status == 201


def test_more_capacity_while_people_wait_is_offered_to_the_line_and_the_rest_goes_on_sale(
    api: Api, admin: Account
) -> None:
    event_id = sold_out(total=10)
    waiter = new_account()
    entry = join(api, waiter, event_id, 2).body

    grown = patch_event(api, admin, event_id, total_tickets=13)

    assert grown.status == 200
    counts = tickets(event_id)
    assert (counts.total, counts.held, counts.reserved, counts.available, counts.waiting) == (13, 2, 0, 1, 0)
    assert counts.balanced
    offered = entries(api, waiter).body["items"][0]
    assert (offered["id"], offered["status"]) == (entry["id"], "OFFERED")
    assert offered["hold_id"] is not None
    assert _pooled() == []


def test_tickets_nobody_in_line_fits_stay_kept_until_the_line_empties(api: Api, admin: Account) -> None:
    event_id = sold_out(total=10)
    waiter = new_account()
    entry = join(api, waiter, event_id, 4).body

    assert patch_event(api, admin, event_id, total_tickets=13).body["available_tickets"] == 0

    counts = tickets(event_id)
    assert (counts.total, counts.reserved, counts.available) == (13, 3, 0)
    assert counts.balanced
    assert book(api, new_account(), event_id).body["code"] == "SOLD_OUT"
    assert _pooled() == [event_id]
    assert leave(api, waiter, entry["id"]).status == 200  # nobody waits any more: back on open sale
    counts = tickets(event_id)
    assert (counts.reserved, counts.available, counts.waiting) == (0, 3, 0)
    assert counts.balanced
    assert _pooled() == []
    assert book(api, new_account(), event_id, 3).status == 201


def test_more_capacity_with_nobody_waiting_goes_on_sale_and_less_only_takes_unsold_tickets(
    api: Api, admin: Account
) -> None:
    event_id = new_event(total=10)
    assert sell(event_id, 6)

    assert patch_event(api, admin, event_id, total_tickets=12).body["available_tickets"] == 6
    assert patch_event(api, admin, event_id, total_tickets=7).body["available_tickets"] == 1
    below = patch_event(api, admin, event_id, total_tickets=5)

    assert (below.status, below.body["code"], below.body["tickets_sold"]) == (409, "CAPACITY_BELOW_SOLD", 6)
    counts = tickets(event_id)
    assert (counts.total, counts.available, counts.reserved) == (7, 1, 0)
    assert counts.balanced
    assert _pooled() == []


def test_a_line_that_forms_during_a_capacity_edit_makes_the_edit_keep_the_tickets_for_it(
    api: Api, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.logic import access

    event_id = sold_out(total=10)
    waiter = new_account()
    between_read_and_write(monkeypatch, access.store, "get_for_user", lambda: join(api, waiter, event_id, 2))

    assert patch_event(api, admin, event_id, total_tickets=11).status == 200

    counts = tickets(event_id)  # one ticket for a line that wants two: kept
    assert (counts.reserved, counts.available, counts.waiting) == (1, 0, 1)
    assert counts.balanced


def test_an_event_stored_before_ticket_types_can_be_waited_for(api: Api) -> None:
    event_id = v1_event(total=5, available=0)

    joined = join(api, new_account(), event_id)

    assert joined.status == 201, joined.body
    assert tickets(event_id).waiting == 1


def _pooled() -> list[str]:
    """Events in the pool index (the sweeper's list of events keeping tickets for their line)."""
    found = []
    for key in inventory.pool_keys():
        raw = dynamo.client().query(
            TableName=settings().events_table,
            IndexName=inventory.BY_POOL,
            KeyConditionExpression="pool_pk = :pooled",
            ExpressionAttributeValues=dynamo.values(pooled=key),
        )
        found += [inventory.event_of(dynamo.load(i)["pk"]) for i in raw.get("Items", [])]
    return found
