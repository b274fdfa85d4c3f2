"""Bookings of several lines (issue 22): `items` of distinct ticket types in one transaction, through the
handlers over moto. Every line's sub-quota, window and price and the event's limits on the sum are judged
together; a refusal names its line; a code applies per line; cancelling gives back per line."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.bench.common import count_calls
from tests.integration.test_promo_bookings import add_code, code_state, refused
from tests.integration.test_stats import stats
from tests.support.bookings import Account, ledger, new_account, new_event, recount, type_ids
from tests.support.handlers import Api, Result

ADULT = {"name": "Adult", "price": "30.00", "total_tickets": 20}
CHILD = {"name": "Child", "price": "15.00", "total_tickets": 4}
SENIOR = {"name": "Senior", "price": "20.00"}


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


@pytest.fixture
def buyer(api: Api) -> Account:
    return new_account()


@pytest.fixture
def event_id(api: Api) -> str:
    return new_event(total=50, types=[ADULT, CHILD, SENIOR], per_booking=10)


def order(api: Api, who: Account, event_id: str, lines: list[tuple[str, int]], code: str | None = None) -> Result:
    body: dict[str, Any] = {"items": [{"ticket_type_id": t, "quantity": q} for t, q in lines]}
    if code is not None:
        body["promo_code"] = code
    return api.call("create_booking", token=who.token, path={"event_id": event_id}, body=body)


def test_a_two_line_order_with_a_code_prices_each_line_and_counts_the_discounted_tickets(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    types = type_ids(event_id)
    add_code(api, admin, event_id, code="KIDS10", percent=10, ticket_type_ids=[types["Child"]], max_uses=10)
    result = order(api, buyer, event_id, [(types["Adult"], 2), (types["Child"], 2)], code="kids10")
    assert result.status == 201, result.body
    booking = result.body
    assert booking["lines"] == [
        {
            "ticket_type": {"id": types["Adult"], "name": "Adult"},
            "quantity": 2,
            "unit_price": "30.00",
            "discount": "0.00",
            "total": "60.00",
        },
        {
            "ticket_type": {"id": types["Child"], "name": "Child"},
            "quantity": 2,
            "unit_price": "15.00",
            "discount": "3.00",
            "total": "27.00",
        },
    ]
    assert (booking["quantity"], booking["subtotal"], booking["discount"], booking["total_price"]) == (
        4,
        "90.00",
        "3.00",
        "87.00",
    )
    assert (booking["ticket_type"], booking["unit_price"]) == (None, None)  # several types: see the lines
    assert sorted(t["ticket_type"]["name"] for t in booking["tickets"]) == ["Adult", "Adult", "Child", "Child"]
    assert code_state(api, admin, event_id, "KIDS10") == (2, "3.00")  # only the tickets it discounts count
    again = api.call("get_booking", token=buyer.token, path={"booking_id": booking["id"]})
    assert (again.body["lines"], again.body["total_price"]) == (booking["lines"], "87.00")
    state = ledger(event_id)
    assert state.balanced, state
    assert (state.types[types["Adult"]].sold, state.types[types["Child"]].sold) == (2, 2)
    assert stats(admin, event_id, api) == recount(event_id)


def test_a_three_line_order_with_a_code_is_one_read_and_one_transaction(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    types = type_ids(event_id)
    add_code(api, admin, event_id, code="EARLY10", percent=10)
    assert order(api, buyer, event_id, [(types["Adult"], 1)]).status == 201  # this process now knows the event
    lines = [(types["Adult"], 1), (types["Child"], 1), (types["Senior"], 2)]
    with count_calls() as calls:
        assert order(api, buyer, event_id, lines, code="EARLY10").status == 201
    assert dict(calls.operations) == {"BatchGetItem": 1, "TransactWriteItems": 1}
    # quota, 3 types, holding, account, booking, 4 tickets, the code's counter and the wrong-code check
    assert calls.items_written == 13


def test_a_line_short_of_tickets_is_named_with_its_types_available_and_nothing_is_sold(
    api: Api, buyer: Account, event_id: str
) -> None:
    types = type_ids(event_id)
    result = order(api, buyer, event_id, [(types["Adult"], 2), (types["Child"], 5)])
    refused(result, 409, "NOT_ENOUGH_TICKETS")
    assert (result.body["line"], result.body["pointer"], result.body["available"]) == (1, "/items/1", 4)
    assert ledger(event_id).sold == 0


def test_the_events_limits_count_the_sum_of_the_lines(api: Api, buyer: Account) -> None:
    event_id = new_event(total=50, types=[ADULT, SENIOR], per_booking=4, per_user=5)
    types = type_ids(event_id)
    too_many = order(api, buyer, event_id, [(types["Adult"], 3), (types["Senior"], 2)])
    refused(too_many, 422, "VALIDATION_FAILED")
    assert too_many.body["errors"][0]["field"] == "items"
    assert order(api, buyer, event_id, [(types["Adult"], 2), (types["Senior"], 2)]).status == 201
    capped = order(api, buyer, event_id, [(types["Adult"], 1), (types["Senior"], 1)])
    refused(capped, 409, "USER_LIMIT_REACHED")
    assert (capped.body["line"], capped.body["remaining"]) == (1, 1)
    assert ledger(event_id).sold == 4


def test_cancelling_one_ticket_of_an_order_gives_back_its_lines_price_and_discount(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    types = type_ids(event_id)
    add_code(api, admin, event_id, code="KIDS10", percent=10, ticket_type_ids=[types["Child"]])
    booked = order(api, buyer, event_id, [(types["Adult"], 2), (types["Child"], 2)], code="KIDS10").body
    child = next(t["ticket_number"] for t in booked["tickets"] if t["ticket_type"]["name"] == "Child")
    one = api.call("cancel_ticket", token=buyer.token, path={"booking_id": booked["id"], "ticket_number": child})
    assert one.status == 200, one.body
    assert [(x["ticket_type"]["name"], x["quantity"], x["total"]) for x in one.body["lines"]] == [
        ("Adult", 2, "60.00"),
        ("Child", 1, "13.50"),
    ]
    assert (one.body["status"], one.body["quantity"], one.body["total_price"]) == ("CONFIRMED", 3, "73.50")
    assert code_state(api, admin, event_id, "KIDS10") == (1, "1.50")
    state = ledger(event_id)
    assert state.balanced, state
    assert state.types[types["Child"]].available == 3
    rest = api.call("cancel_booking", token=buyer.token, path={"booking_id": booked["id"]})
    assert (rest.status, rest.body["status"]) == (200, "CANCELLED"), rest.body
    assert code_state(api, admin, event_id, "KIDS10") == (0, "0.00")
    state = ledger(event_id)
    assert state.balanced, state
    assert state.sold == 0
    assert stats(admin, event_id, api) == recount(event_id)


def test_an_order_on_a_sharded_event_takes_every_line_and_gives_them_back(api: Api, buyer: Account) -> None:
    event_id = new_event(total=40, types=[ADULT, SENIOR], inventory_shards=4)
    types = type_ids(event_id)
    booked = order(api, buyer, event_id, [(types["Adult"], 3), (types["Senior"], 4)])
    assert booked.status == 201, booked.body
    state = ledger(event_id)  # its counters are spread over the shards: count the tickets
    assert (state.valid_tickets, state.confirmed_quantity) == (7, 7)
    assert api.call("cancel_booking", token=buyer.token, path={"booking_id": booked.body["id"]}).status == 200
    state = ledger(event_id)
    assert (state.valid_tickets, state.confirmed_quantity) == (0, 0)
