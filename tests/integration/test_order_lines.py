"""Bookings of several lines (issue 22): `items` of distinct ticket types in one transaction, through the
handlers over moto. Every line's sub-quota, window and price and the event's limits on the sum are judged
together; a refusal names its line; a code applies per line; cancelling gives back per line."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from boxoffice.config import settings
from scripts.bench.common import count_calls
from tests.integration.test_promo_bookings import add_code, code_state, refused
from tests.integration.test_stats import stats
from tests.support.bookings import Account, ledger, new_account, new_event, recount, type_ids
from tests.support.fixtures import serialised_moto
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, sweep

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
    assert result.body["detail"].startswith("items[1]: ")
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


def hostile_orders(api: Api, admin: Account, event_id: str) -> dict[str, tuple[dict[str, Any], int, str]]:
    """Bodies an order must refuse, by why: (body, status, code)."""
    types = type_ids(event_id)
    adult, child = types["Adult"], types["Child"]
    other = new_event(total=10, types=[SENIOR])
    add_code(api, admin, other, code="ELSEWHERE", percent=10)

    def lines(*pairs: tuple[str, Any]) -> list[dict[str, Any]]:
        return [{"ticket_type_id": t, "quantity": q} for t, q in pairs]

    eleven = [{"ticket_type_id": f"type-{n}", "quantity": 1} for n in range(11)]
    return {
        "11 lines": ({"items": eleven}, 422, "VALIDATION_FAILED"),
        "no line": ({"items": []}, 422, "VALIDATION_FAILED"),
        "a type twice": ({"items": lines((adult, 1), (adult, 2))}, 422, "VALIDATION_FAILED"),
        "quantity 0": ({"items": lines((adult, 1), (child, 0))}, 422, "VALIDATION_FAILED"),
        "quantity as text": ({"items": lines((adult, "2"))}, 422, "VALIDATION_FAILED"),
        "items and quantity": ({"items": lines((adult, 1)), "quantity": 1}, 422, "VALIDATION_FAILED"),
        "another event's type": (
            {"items": lines((adult, 1), (type_ids(other)["Senior"], 1))},
            404,
            "TICKET_TYPE_NOT_FOUND",
        ),
        "another event's code": (
            {"items": lines((adult, 1), (child, 1)), "promo_code": "ELSEWHERE"},
            422,
            "INVALID_PROMO_CODE",
        ),
        "a code with a space": (
            {"items": lines((adult, 1), (child, 1)), "promo_code": "EARLY 10"},
            422,
            "VALIDATION_FAILED",
        ),
    }


def test_hostile_orders_are_problems_of_the_document_and_write_nothing(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    for why, (body, status, code) in hostile_orders(api, admin, event_id).items():
        result = api.call("create_booking", token=buyer.token, path={"event_id": event_id}, body=body)
        assert (result.status, result.body.get("code")) == (status, code), (why, result.body)
        assert result.content_type == "application/problem+json", why
    state = ledger(event_id)
    assert (state.sold, state.confirmed_quantity, state.ticket_numbers) == (0, 0, [])


def test_a_type_asked_twice_is_named_by_its_second_line(api: Api, buyer: Account, event_id: str) -> None:
    adult = type_ids(event_id)["Adult"]
    result = order(api, buyer, event_id, [(adult, 1), (adult, 2)])
    refused(result, 422, "VALIDATION_FAILED")
    assert result.body["errors"] == [
        {"field": "items.1.ticket_type_id", "message": "names a ticket type already in another line"}
    ]


def test_a_hidden_type_is_not_found_without_its_code_and_sold_beside_a_public_line_with_it(
    api: Api, admin: Account, buyer: Account
) -> None:
    from boxoffice.store import events

    event_id = new_event(total=20, types=[ADULT, {"name": "Press", "price": "10.00", "hidden": True}])
    stored = events.get(event_id)
    assert stored is not None
    (press,) = [t.id for t in stored.ticket_types if t.hidden]
    adult = type_ids(event_id)["Adult"]
    add_code(api, admin, event_id, code="PRESS-2026", percent=0, unlocks=[press], max_uses=1)
    hidden = order(api, buyer, event_id, [(adult, 1), (press, 1)])
    refused(hidden, 404, "TICKET_TYPE_NOT_FOUND")
    assert hidden.body["line"] == 1
    assert ledger(event_id).sold == 0
    unlocked = order(api, buyer, event_id, [(adult, 1), (press, 1)], code="press-2026")
    assert unlocked.status == 201, unlocked.body
    assert unlocked.body["total_price"] == "40.00"  # an access code: no discount
    assert code_state(api, admin, event_id, "PRESS-2026") == (1, "0.00")  # its one use: the press ticket


def race_orders(event_id: str, orders: int, lines: list[tuple[str, int]], code: str | None = None) -> list[Result]:
    """`orders` buyers each booking `lines` at once, through the handlers on 16 threads."""
    buyers = [new_account() for _ in range(orders)]
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda who: order(Api(), who, event_id, lines, code=code), buyers))


def test_sixty_racing_two_line_orders_sell_exactly_the_sub_quotas_and_never_one_line_alone() -> None:
    with serialised_moto("order-lines"):
        event_id = new_event(total=200, types=[{**ADULT, "total_tickets": 40}, CHILD | {"total_tickets": 20}])
        types = type_ids(event_id)
        results = race_orders(event_id, 60, [(types["Adult"], 2), (types["Child"], 1)])
        state = ledger(event_id)
    answers = Counter((r.status, r.body.get("code", "")) for r in results)
    assert answers[(201, "")] == 20, answers
    assert set(answers) <= {(201, ""), (409, "NOT_ENOUGH_TICKETS"), (409, "SOLD_OUT")}, answers
    booked = [r.body for r in results if r.status == 201]
    assert all(
        [(x["ticket_type"]["name"], x["quantity"]) for x in b["lines"]] == [("Adult", 2), ("Child", 1)] for b in booked
    )
    assert state.balanced, state
    assert (state.types[types["Adult"]].sold, state.types[types["Child"]].sold, state.sold) == (40, 20, 60)


def test_a_codes_max_uses_lowered_while_orders_race_is_never_overrun() -> None:
    with serialised_moto("order-code-edit"):
        api, admin = Api(), new_account("admin")
        event_id = new_event(total=200, types=[ADULT, SENIOR])
        types = type_ids(event_id)
        add_code(
            api, admin, event_id, code="SENIOR5", amount_off="5.00", ticket_type_ids=[types["Senior"]], max_uses=30
        )
        path = {"event_id": event_id, "code": "SENIOR5"}

        def lower() -> Result:
            return Api().call("update_promo_code", token=admin.token, path=path, body={"max_uses": 6})

        with ThreadPoolExecutor(2) as pool:
            edit = pool.submit(lower)
            results = race_orders(event_id, 24, [(types["Adult"], 1), (types["Senior"], 2)], code="SENIOR5")
            assert edit.result().status == 200
        uses, given = code_state(api, admin, event_id, "SENIOR5")
        state = ledger(event_id)
    booked = [r.body for r in results if r.status == 201]
    assert {(r.status, r.body.get("code")) for r in results if r.status != 201} <= {(409, "PROMO_CODE_USED_UP")}
    assert {b["total_price"] for b in booked} == {"60.00"}  # 30 + 2 x (20 - 5): never the wrong price
    assert (uses, given) == (2 * len(booked), f"{10 * len(booked)}.00")
    assert state.balanced, state
    assert state.sold == 3 * len(booked)
    assert 3 <= len(booked) < 24  # 6 uses (3 orders) after the edit; some may have gone before it


def hold_cart(api: Api, who: Account, event_id: str, lines: list[tuple[str, int]], code: str | None = None) -> Result:
    body: dict[str, Any] = {"items": [{"ticket_type_id": t, "quantity": q} for t, q in lines]}
    if code is not None:
        body["promo_code"] = code
    return api.call("create_hold", token=who.token, path={"event_id": event_id}, body=body)


def test_a_cart_is_held_as_one_hold_and_confirmed_into_one_order_at_its_prices(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    types = type_ids(event_id)
    add_code(api, admin, event_id, code="KIDS10", percent=10, ticket_type_ids=[types["Child"]])
    held = hold_cart(api, buyer, event_id, [(types["Adult"], 2), (types["Child"], 2)], code="KIDS10")
    assert held.status == 201, held.body
    assert [(x["ticket_type"]["name"], x["quantity"], x["total"]) for x in held.body["lines"]] == [
        ("Adult", 2, "60.00"),
        ("Child", 2, "27.00"),
    ]
    assert (held.body["quantity"], held.body["discount"], held.body["total_price"]) == (4, "3.00", "87.00")
    assert code_state(api, admin, event_id, "KIDS10") == (2, "3.00")
    assert ledger(event_id).types[types["Child"]].available == 2  # held: off sale
    confirmed = api.call("confirm_hold", token=buyer.token, path={"hold_id": held.body["id"]})
    assert confirmed.status == 201, confirmed.body
    assert confirmed.body["lines"] == held.body["lines"]
    assert confirmed.body["total_price"] == "87.00"
    state = ledger(event_id)
    assert state.balanced, state
    assert (state.types[types["Adult"]].sold, state.types[types["Child"]].sold) == (2, 2)
    assert code_state(api, admin, event_id, "KIDS10") == (2, "3.00")  # counted once, at the hold
    assert stats(admin, event_id, api) == recount(event_id)


def test_a_released_cart_gives_every_line_and_the_codes_uses_back(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    types = type_ids(event_id)
    add_code(api, admin, event_id, code="KIDS10", percent=10, ticket_type_ids=[types["Child"]])
    held = hold_cart(api, buyer, event_id, [(types["Adult"], 1), (types["Child"], 3)], code="KIDS10").body
    released = api.call("release_hold", token=buyer.token, path={"hold_id": held["id"]})
    assert (released.status, released.body["status"]) == (200, "RELEASED"), released.body
    state = ledger(event_id)
    assert (state.available, state.types[types["Child"]].available) == (50, 4)
    assert code_state(api, admin, event_id, "KIDS10") == (0, "0.00")


def test_an_expired_cart_is_swept_back_line_by_line(
    api: Api, admin: Account, buyer: Account, event_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = Clock(monkeypatch)
    types = type_ids(event_id)
    add_code(api, admin, event_id, code="KIDS10", percent=10, ticket_type_ids=[types["Child"]])
    held = hold_cart(api, buyer, event_id, [(types["Adult"], 2), (types["Child"], 4)], code="KIDS10")
    assert held.status == 201, held.body
    assert ledger(event_id).types[types["Child"]].available == 0
    moment.advance(settings().hold_seconds)
    assert sweep() == 1
    state = ledger(event_id)
    assert (state.available, state.types[types["Child"]].available) == (50, 4)
    assert code_state(api, admin, event_id, "KIDS10") == (0, "0.00")


def test_a_cart_short_on_one_line_names_it_and_holds_nothing(api: Api, buyer: Account, event_id: str) -> None:
    types = type_ids(event_id)
    result = hold_cart(api, buyer, event_id, [(types["Adult"], 1), (types["Child"], 5)])
    refused(result, 409, "NOT_ENOUGH_TICKETS")
    assert (result.body["line"], result.body["available"]) == (1, 4)
    assert ledger(event_id).available == 50


def test_an_order_retried_with_its_idempotency_key_is_booked_once(api: Api, buyer: Account, event_id: str) -> None:
    types = type_ids(event_id)
    body = {
        "items": [{"ticket_type_id": types["Adult"], "quantity": 1}, {"ticket_type_id": types["Child"], "quantity": 2}]
    }
    path, key = {"event_id": event_id}, {"Idempotency-Key": "order-1"}
    first = api.call("create_booking", token=buyer.token, path=path, body=body, headers=key)
    again = api.call("create_booking", token=buyer.token, path=path, body=body, headers=key)
    assert (first.status, again.status) == (201, 201), again.body
    assert (again.body["id"], again.body["lines"]) == (first.body["id"], first.body["lines"])
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert ledger(event_id).sold == 3


def test_single_ticket_cancels_racing_a_whole_cancel_of_an_order_return_each_ticket_once() -> None:
    with serialised_moto("order-cancels"):
        buyer = new_account()
        event_id = new_event(total=50, types=[ADULT, CHILD])
        types = type_ids(event_id)
        booked = order(Api(), buyer, event_id, [(types["Adult"], 2), (types["Child"], 2)]).body
        path = {"booking_id": booked["id"]}
        calls = [("cancel_booking", path)] + [
            ("cancel_ticket", path | {"ticket_number": t["ticket_number"]}) for t in booked["tickets"]
        ]
        with ThreadPoolExecutor(5) as pool:
            results = list(pool.map(lambda call: Api().call(call[0], token=buyer.token, path=call[1]), calls))
        state = ledger(event_id)
    assert {r.status for r in results} <= {200, 409}, [r.body for r in results]
    assert state.balanced, state
    assert (state.sold, state.types[types["Adult"]].sold, state.types[types["Child"]].available) == (0, 0, 4)


def test_an_orders_lines_are_discounted_per_ticket_in_a_currency_without_decimals(
    api: Api, admin: Account, buyer: Account
) -> None:
    event_id = new_event(
        total=20, currency="JPY", types=[{"name": "Adult", "price": "125"}, {"name": "Child", "price": "75"}]
    )
    types = type_ids(event_id)
    add_code(api, admin, event_id, code="YEN10", percent=10)
    result = order(api, buyer, event_id, [(types["Adult"], 1), (types["Child"], 2)], code="YEN10")
    assert result.status == 201, result.body
    # 12.5 off 125 rounds half to even to 12; 7.5 off 75 to 8, per ticket
    assert [(x["discount"], x["total"]) for x in result.body["lines"]] == [("12", "113"), ("16", "134")]
    assert (result.body["subtotal"], result.body["discount"], result.body["total_price"]) == ("275", "28", "247")


def test_an_order_of_one_line_is_refused_naming_it_too(api: Api, buyer: Account, event_id: str) -> None:
    result = order(api, buyer, event_id, [(type_ids(event_id)["Child"], 5)])
    refused(result, 409, "NOT_ENOUGH_TICKETS")
    assert (result.body["line"], result.body["available"]) == (0, 4)
    booked = order(api, buyer, event_id, [(type_ids(event_id)["Child"], 2)])
    assert booked.status == 201, booked.body
    assert (booked.body["ticket_type"]["name"], booked.body["unit_price"], booked.body["total_price"]) == (
        "Child",
        "15.00",
        "30.00",
    )
