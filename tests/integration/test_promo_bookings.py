"""Bookings under a promo code, through the handlers over moto (issue 22, phase 2): the code's uses move in
the booking's one transaction and come back with a cancel, the price is the discounted one, hidden types
need a code that unlocks them, every refused code is one 422 counted against the account's wrong-code
ceiling, and 50 racing bookings on a 10-use code make exactly 10 discounted ones."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.store import bookings as booking_store
from boxoffice.store import events
from scripts.bench.common import count_calls
from tests.integration.test_stats import stats
from tests.support.bookings import Account, ledger, new_account, new_event, recount, type_ids
from tests.support.fixtures import serialised_moto
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, confirm, release, sweep
from tests.support.races import between_read_and_write

ADULT, CHILD = {"name": "Adult", "price": "30.00"}, {"name": "Child", "price": "15.00"}


@pytest.fixture
def admin(api: Api) -> Account:
    return new_account("admin")


@pytest.fixture
def buyer(api: Api) -> Account:
    return new_account()


@pytest.fixture
def event_id(api: Api) -> str:
    return new_event(total=100, types=[ADULT, CHILD])


def add_code(api: Api, admin: Account, event_id: str, **body: Any) -> dict[str, Any]:
    result = api.call("create_promo_code", token=admin.token, path={"event_id": event_id}, body=body)
    assert result.status == 201, result.body
    made: dict[str, Any] = result.body
    return made


def code_state(api: Api, admin: Account, event_id: str, code: str) -> tuple[int, str]:
    """The code's (uses, discount_given), as the admin's list shows them."""
    result = api.call("list_promo_codes", token=admin.token, path={"event_id": event_id})
    assert result.status == 200, result.body
    (listed,) = [c for c in result.body["items"] if c["code"] == code]
    return listed["uses"], listed["discount_given"]


def book(api: Api, who: Account, event_id: str, quantity: int, type_id: str, code: str | None = None) -> Result:
    body = {"quantity": quantity, "ticket_type_id": type_id, **({"promo_code": code} if code is not None else {})}
    return api.call("create_booking", token=who.token, path={"event_id": event_id}, body=body)


def refused(result: Result, status: int, code: str) -> None:
    assert (result.status, result.body.get("code")) == (status, code), result.body
    assert result.content_type == "application/problem+json"


def test_a_booking_with_a_code_pays_the_discounted_price_and_moves_its_uses(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    add_code(api, admin, event_id, code="EARLY10", percent=10, max_uses=100)
    adult = type_ids(event_id)["Adult"]
    result = book(api, buyer, event_id, 2, adult, code="early10")  # any case
    assert result.status == 201, result.body
    prices = {k: result.body[k] for k in ("promo_code", "unit_price", "subtotal", "discount", "total_price")}
    assert prices == {
        "promo_code": "EARLY10",
        "unit_price": "30.00",
        "subtotal": "60.00",
        "discount": "6.00",
        "total_price": "54.00",
    }
    assert code_state(api, admin, event_id, "EARLY10") == (2, "6.00")
    numbers = stats(admin, event_id, api)
    assert numbers["revenue"] == {"EUR": "54.00"}  # net of the discount
    assert numbers["promo_codes"] == [{"code": "EARLY10", "uses": 2, "discount": "6.00"}]
    again = api.call("get_booking", token=buyer.token, path={"booking_id": result.body["id"]})
    assert (again.body["discount"], again.body["total_price"]) == ("6.00", "54.00")


def test_a_booking_with_a_code_is_still_one_read_and_one_transaction(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    add_code(api, admin, event_id, code="EARLY10", percent=10)
    adult = type_ids(event_id)["Adult"]
    assert book(api, buyer, event_id, 1, adult).status == 201  # this process now knows the event
    with count_calls() as calls:
        assert book(api, buyer, event_id, 2, adult, code="EARLY10").status == 201
    assert dict(calls.operations) == {"BatchGetItem": 1, "TransactWriteItems": 1}
    # quota, type, holding, account, booking, 2 tickets, the code's counter and the wrong-code check
    assert calls.items_written == 9


@pytest.mark.parametrize(
    ("currency", "price", "code", "unit", "total"),
    [
        ("JPY", "125", {"percent": 10}, "125", "226"),  # 12.5 yen off: half to even, 12
        ("KWD", "0.125", {"percent": 10}, "0.125", "0.226"),  # 0.0125 dinar off: 0.012
        ("EUR", "30.00", {"amount_off": "50.00"}, "30.00", "0.00"),  # never below zero
    ],
)
def test_discounts_are_exact_in_the_minor_unit_and_never_below_zero(
    api: Api, admin: Account, buyer: Account, currency: str, price: str, code: dict[str, str], unit: str, total: str
) -> None:
    event_id = new_event(total=10, types=[{"name": "Seat", "price": price}], currency=currency)
    add_code(api, admin, event_id, code="MONEY", **code)
    result = book(api, buyer, event_id, 2, type_ids(event_id)["Seat"], code="MONEY")
    assert result.status == 201, result.body
    assert (result.body["currency"], result.body["unit_price"], result.body["total_price"]) == (currency, unit, total)


def test_cancelling_one_ticket_then_the_rest_gives_each_its_use_and_discount_back(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    add_code(api, admin, event_id, code="SAVE5", amount_off="5.00", max_uses=10)
    booked = book(api, buyer, event_id, 3, type_ids(event_id)["Adult"], code="SAVE5").body
    assert (booked["total_price"], code_state(api, admin, event_id, "SAVE5")) == ("75.00", (3, "15.00"))
    number = booked["tickets"][0]["ticket_number"]
    one = api.call("cancel_ticket", token=buyer.token, path={"booking_id": booked["id"], "ticket_number": number})
    assert one.status == 200, one.body
    assert (one.body["subtotal"], one.body["discount"], one.body["total_price"]) == ("60.00", "10.00", "50.00")
    assert code_state(api, admin, event_id, "SAVE5") == (2, "10.00")
    rest = api.call("cancel_booking", token=buyer.token, path={"booking_id": booked["id"]})
    assert rest.status == 200, rest.body
    assert code_state(api, admin, event_id, "SAVE5") == (0, "0.00")
    assert stats(admin, event_id, api) == recount(event_id)


def test_a_used_up_code_answers_409_and_sells_nothing(api: Api, admin: Account, buyer: Account, event_id: str) -> None:
    add_code(api, admin, event_id, code="FEW1", percent=50, max_uses=3)
    adult = type_ids(event_id)["Adult"]
    assert book(api, buyer, event_id, 2, adult, code="FEW1").status == 201
    refused(book(api, buyer, event_id, 2, adult, code="FEW1"), 409, "PROMO_CODE_USED_UP")
    assert book(api, buyer, event_id, 1, adult, code="FEW1").status == 201  # the last use
    assert ledger(event_id).sold == 3
    assert code_state(api, admin, event_id, "FEW1") == (3, "45.00")


def hostile_codes(api: Api, admin: Account, event_id: str) -> dict[str, str]:
    """Codes this event's Adult booking must refuse as invalid, by why."""
    now = clock.now()
    add_code(api, admin, event_id, code="OVER", percent=10, valid_until=(now - timedelta(minutes=1)).isoformat())
    add_code(api, admin, event_id, code="SOON", percent=10, valid_from=(now + timedelta(days=1)).isoformat())
    add_code(api, admin, event_id, code="KIDS", percent=10, ticket_type_ids=[type_ids(event_id)["Child"]])
    add_code(api, admin, new_event(total=10, types=[ADULT]), code="ELSEWHERE", percent=10)
    return {
        "unknown": "NOPE1234",
        "expired": "over",
        "not yet valid": "SOON",
        "other type": "KIDS",
        "other event": "ELSEWHERE",
    }


def test_unknown_expired_not_yet_valid_other_type_and_other_event_codes_are_one_422_writing_nothing(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    hostile = hostile_codes(api, admin, event_id)
    adult = type_ids(event_id)["Adult"]
    for why, code in hostile.items():
        result = book(api, buyer, event_id, 1, adult, code=code)
        refused(result, 422, "INVALID_PROMO_CODE")
        assert result.body["detail"] == "This promo code cannot be used for this booking", why  # nothing told apart
    assert ledger(event_id).sold == 0
    assert all(code_state(api, admin, event_id, c)[0] == 0 for c in ("OVER", "SOON", "KIDS"))


@pytest.mark.parametrize("code", ["EARLY 10", "ab", "EARLY10\u200b", "ÉARLY10", "A" * 33, 10])
def test_a_malformed_code_is_a_validation_422_writing_nothing(
    api: Api, buyer: Account, event_id: str, code: Any
) -> None:
    result = book(api, buyer, event_id, 1, type_ids(event_id)["Adult"], code=code)
    refused(result, 422, "VALIDATION_FAILED")
    assert result.body["errors"][0]["field"] == "promo_code"
    assert ledger(event_id).sold == 0


def test_a_hidden_type_is_not_found_without_a_code_and_sold_with_one_that_unlocks_it(
    api: Api, admin: Account, buyer: Account
) -> None:
    event_id = new_event(total=50, types=[ADULT, {"name": "Press", "price": "0.00", "hidden": True}])
    stored = events.get(event_id)  # the public read leaves hidden types out
    assert stored is not None
    (press,) = [t.id for t in stored.ticket_types if t.hidden]
    add_code(api, admin, event_id, code="PRESS-2026", percent=0, unlocks=[press], max_uses=5)
    add_code(api, admin, event_id, code="EARLY10", percent=10)  # discounts every type, unlocks none
    refused(book(api, buyer, event_id, 1, press), 404, "TICKET_TYPE_NOT_FOUND")
    refused(book(api, buyer, event_id, 1, press, code="EARLY10"), 422, "INVALID_PROMO_CODE")
    result = book(api, buyer, event_id, 2, press, code="press-2026")
    assert result.status == 201, result.body
    assert (result.body["ticket_type"]["name"], result.body["total_price"]) == ("Press", "0.00")
    assert code_state(api, admin, event_id, "PRESS-2026") == (2, "0.00")
    assert ledger(event_id).sold == 2


def test_wrong_codes_are_throttled_per_account_and_then_a_right_one_is_refused_too(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    add_code(api, admin, event_id, code="RIGHT1", percent=10)
    adult = type_ids(event_id)["Adult"]
    answers = [book(api, buyer, event_id, 1, adult, code=f"GUESS{n:03}") for n in range(11)]
    assert [a.status for a in answers] == [422] * 10 + [429]
    refused(answers[-1], 429, "TOO_MANY_WRONG_CODES")
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 900
    refused(book(api, buyer, event_id, 1, adult, code="RIGHT1"), 429, "TOO_MANY_WRONG_CODES")
    assert book(api, buyer, event_id, 1, adult).status == 201  # without a code, sales go on
    assert book(api, new_account(), event_id, 1, adult, code="RIGHT1").status == 201  # per account
    assert code_state(api, admin, event_id, "RIGHT1") == (1, "3.00")


def test_a_code_edited_between_the_read_and_the_write_is_applied_as_it_is_now(
    api: Api, admin: Account, buyer: Account, event_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_code(api, admin, event_id, code="EDIT", percent=10)

    def edit() -> None:
        path = {"event_id": event_id, "code": "EDIT"}
        assert api.call("update_promo_code", token=admin.token, path=path, body={"percent": 50}).status == 200

    between_read_and_write(monkeypatch, booking_store, "read_for_booking", edit)
    result = book(api, buyer, event_id, 1, type_ids(event_id)["Adult"], code="EDIT")
    assert result.status == 201, result.body
    assert (result.body["discount"], code_state(api, admin, event_id, "EDIT")) == ("15.00", (1, "15.00"))


@pytest.mark.parametrize(
    ("edit", "answer"),
    [
        ({"max_uses": 1}, (409, "PROMO_CODE_USED_UP")),  # lowered to its uses: used up
        (None, (422, "INVALID_PROMO_CODE")),  # deleted
    ],
)
def test_a_code_lowered_or_deleted_between_the_read_and_the_write_refuses_the_booking_and_sells_nothing(
    api: Api,
    admin: Account,
    buyer: Account,
    event_id: str,
    monkeypatch: pytest.MonkeyPatch,
    edit: dict[str, int] | None,
    answer: tuple[int, str],
) -> None:
    add_code(api, admin, event_id, code="MOVING", percent=10, max_uses=10)
    adult = type_ids(event_id)["Adult"]
    assert book(api, buyer, event_id, 1, adult, code="MOVING").status == 201

    def change() -> None:
        path = {"event_id": event_id, "code": "MOVING"}
        if edit is None:
            assert api.call("delete_promo_code", token=admin.token, path=path).status == 204
        else:
            assert api.call("update_promo_code", token=admin.token, path=path, body=edit).status == 200

    between_read_and_write(monkeypatch, booking_store, "read_for_booking", change)
    refused(book(api, buyer, event_id, 1, adult, code="MOVING"), *answer)
    assert ledger(event_id).sold == 1


def test_a_code_deleted_after_the_booking_lets_its_cancel_through(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    add_code(api, admin, event_id, code="GONE", percent=10, max_uses=5)
    booked = book(api, buyer, event_id, 2, type_ids(event_id)["Adult"], code="GONE").body
    path = {"event_id": event_id, "code": "GONE"}
    assert api.call("delete_promo_code", token=admin.token, path=path).status == 204
    add_code(api, admin, event_id, code="GONE", percent=10, max_uses=5)  # the same text, another code
    cancelled = api.call("cancel_booking", token=buyer.token, path={"booking_id": booked["id"]})
    assert (cancelled.status, cancelled.body["status"]) == (200, "CANCELLED")
    assert code_state(api, admin, event_id, "GONE") == (0, "0.00")  # the new code got nothing back
    assert ledger(event_id).balanced


def hold(api: Api, who: Account, event_id: str, quantity: int, type_id: str, code: str) -> dict[str, Any]:
    body = {"quantity": quantity, "ticket_type_id": type_id, "promo_code": code}
    result = api.call("create_hold", token=who.token, path={"event_id": event_id}, body=body)
    assert result.status == 201, result.body
    held: dict[str, Any] = result.body
    return held


def test_a_hold_with_a_code_takes_its_uses_and_its_confirm_books_at_the_discounted_price(
    api: Api, admin: Account, buyer: Account, event_id: str
) -> None:
    add_code(api, admin, event_id, code="HOLD10", percent=10, max_uses=4)
    adult = type_ids(event_id)["Adult"]
    held = hold(api, buyer, event_id, 3, adult, "hold10")
    assert (held["promo_code"], held["discount"], held["total_price"]) == ("HOLD10", "9.00", "81.00")
    assert code_state(api, admin, event_id, "HOLD10") == (3, "9.00")
    refused(book(api, new_account(), event_id, 2, adult, code="HOLD10"), 409, "PROMO_CODE_USED_UP")  # 1 left
    booked = confirm(api, buyer, held["id"])
    assert booked.status == 201, booked.body
    assert (booked.body["discount"], booked.body["total_price"]) == ("9.00", "81.00")
    assert code_state(api, admin, event_id, "HOLD10") == (3, "9.00")  # counted once, at the hold
    numbers = stats(admin, event_id, api)
    assert (numbers["revenue"], numbers) == ({"EUR": "81.00"}, recount(event_id))


def test_a_released_or_expired_hold_gives_its_code_uses_back(
    api: Api, admin: Account, buyer: Account, event_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = Clock(monkeypatch)
    add_code(api, admin, event_id, code="BACK", amount_off="1.00", max_uses=10)
    adult = type_ids(event_id)["Adult"]
    first = hold(api, buyer, event_id, 2, adult, "BACK")
    hold(api, buyer, event_id, 3, adult, "BACK")
    assert code_state(api, admin, event_id, "BACK") == (5, "5.00")
    assert release(api, buyer, first["id"]).status == 200
    assert code_state(api, admin, event_id, "BACK") == (3, "3.00")
    moment.advance(settings().hold_seconds)
    assert sweep() == 1
    assert code_state(api, admin, event_id, "BACK") == (0, "0.00")
    assert (ledger(event_id).sold, ledger(event_id).available) == (0, 100)


def test_the_waiting_list_takes_no_code_and_no_hidden_type(api: Api, admin: Account, buyer: Account) -> None:
    event_id = new_event(total=1, types=[ADULT, {"name": "Press", "price": "0.00", "hidden": True}])
    stored = events.get(event_id)
    assert stored is not None
    adult, press = (t.id for t in stored.ticket_types)
    assert book(api, new_account(), event_id, 1, adult).status == 201  # sold out
    path = {"event_id": event_id}
    coded = api.call("join_waiting_list", token=buyer.token, path=path, body={"quantity": 1, "promo_code": "ANY1"})
    refused(coded, 422, "VALIDATION_FAILED")
    hidden = api.call("join_waiting_list", token=buyer.token, path=path, body={"quantity": 1, "ticket_type_id": press})
    refused(hidden, 404, "TICKET_TYPE_NOT_FOUND")


def test_fifty_racing_bookings_on_a_ten_use_code_make_exactly_ten_discounted_ones() -> None:
    with serialised_moto("promo-bookings"):
        api = Api()
        admin = new_account("admin")
        event_id = new_event(total=200, types=[ADULT])
        add_code(api, admin, event_id, code="TEN-OFF", percent=20, max_uses=10)
        adult = type_ids(event_id)["Adult"]
        buyers = [new_account() for _ in range(50)]
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda who: book(Api(), who, event_id, 1, adult, code="TEN-OFF"), buyers))
        answers = Counter((r.status, r.body.get("code", "")) for r in results)
        sold = ledger(event_id)
        state = code_state(api, admin, event_id, "TEN-OFF")
    assert answers == {(201, ""): 10, (409, "PROMO_CODE_USED_UP"): 40}, answers
    assert {r.body["total_price"] for r in results if r.status == 201} == {"24.00"}
    assert (sold.sold, sold.balanced, state) == (10, True, (10, "60.00"))


def test_single_ticket_cancels_racing_a_whole_cancel_give_each_use_back_once() -> None:
    with serialised_moto("promo-cancels"):
        api = Api()
        admin, buyer = new_account("admin"), new_account()
        event_id = new_event(total=20, types=[ADULT])
        add_code(api, admin, event_id, code="RACE", percent=10, max_uses=4)
        booked = book(api, buyer, event_id, 4, type_ids(event_id)["Adult"], code="RACE").body
        path = {"booking_id": booked["id"]}
        calls = [("cancel_booking", path)] + [
            ("cancel_ticket", path | {"ticket_number": t["ticket_number"]}) for t in booked["tickets"]
        ]
        with ThreadPoolExecutor(5) as pool:
            results = list(pool.map(lambda call: Api().call(call[0], token=buyer.token, path=call[1]), calls))
        state = code_state(api, admin, event_id, "RACE")
        sold = ledger(event_id)
    assert {r.status for r in results} <= {200, 409}, [r.body for r in results]
    assert (state, sold.sold, sold.balanced) == ((0, "0.00"), 0, True)
