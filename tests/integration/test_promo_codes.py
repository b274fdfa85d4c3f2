"""Promo and access codes through the admin handlers over moto: create, list, change, delete, hostile input
that changes nothing, one code per event under a race, and the redemption actions phase 2's booking
transaction will carry (store.promocodes.redeem and give_back)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from boxoffice import clock
from boxoffice.records import PromoCode
from boxoffice.store import promocodes
from boxoffice.store.dynamo import Failed, Transaction
from tests.integration.test_legacy_events import v1_event
from tests.support.events import create, future, token_for
from tests.support.fixtures import serialised_moto
from tests.support.handlers import Api, Result


@pytest.fixture
def admin(api: Api) -> str:
    return token_for(api, role="admin")


@pytest.fixture
def event(api: Api, admin: str) -> dict[str, Any]:
    types = [{"name": "Adult", "price": "30.00"}, {"name": "Child", "price": "15.00"}]
    return create(api, admin, ticket_price=None, ticket_types=types)


def add(api: Api, admin: str, event_id: str, **body: Any) -> Result:
    return api.call("create_promo_code", token=admin, path={"event_id": event_id}, body=body)


def listed(api: Api, admin: str, event_id: str, **query: str) -> Result:
    result = api.call("list_promo_codes", token=admin, path={"event_id": event_id}, query=query)
    assert result.status == 200, result.body
    return result


def change(api: Api, admin: str, event_id: str, which: str, **body: Any) -> Result:
    return api.call("update_promo_code", token=admin, path={"event_id": event_id, "code": which}, body=body)


def remove(api: Api, admin: str, event_id: str, code: str) -> Result:
    return api.call("delete_promo_code", token=admin, path={"event_id": event_id, "code": code})


def refused(result: Result, status: int, code: str) -> dict[str, Any]:
    assert (result.status, result.body.get("code")) == (status, code), result.body
    assert result.content_type == "application/problem+json"
    body: dict[str, Any] = result.body
    return body


def test_a_code_is_stored_upper_case_and_listed_with_its_uses(api: Api, admin: str, event: dict[str, Any]) -> None:
    adult = event["ticket_types"][0]["id"]
    until = future(10)
    made = add(api, admin, event["id"], code="early10", percent=10, max_uses=100, valid_until=until)
    assert made.status == 201, made.body
    assert made.body | {"id": "", "created_at": "", "updated_at": ""} == {
        "id": "",
        "code": "EARLY10",
        "percent": 10,
        "amount_off": None,
        "fixed_price": None,
        "ticket_type_ids": None,
        "max_uses": 100,
        "uses": 0,
        "discount_given": "0.00",
        "valid_from": None,
        "valid_until": until.replace("+00:00", "Z"),
        "unlocks": [],
        "created_at": "",
        "updated_at": "",
    }
    five_off = add(api, admin, event["id"], code="KIDS-5", amount_off="5", ticket_type_ids=[adult])
    assert (five_off.status, five_off.body["amount_off"], five_off.body["ticket_type_ids"]) == (201, "5.00", [adult])
    assert [c["code"] for c in listed(api, admin, event["id"]).body["items"]] == ["EARLY10", "KIDS-5"]


def test_codes_are_paged_in_code_order_with_a_cursor_bound_to_the_event(
    api: Api, admin: str, event: dict[str, Any]
) -> None:
    for code in ("CCCC", "AAAA", "BBBB"):
        assert add(api, admin, event["id"], code=code, fixed_price="10").status == 201
    first = listed(api, admin, event["id"], limit="2").body
    assert [c["code"] for c in first["items"]] == ["AAAA", "BBBB"]
    rest = listed(api, admin, event["id"], limit="2", cursor=first["next_cursor"]).body
    assert ([c["code"] for c in rest["items"]], rest["next_cursor"]) == (["CCCC"], None)
    other = create(api, admin)
    moved = api.call(
        "list_promo_codes", token=admin, path={"event_id": other["id"]}, query={"cursor": first["next_cursor"]}
    )
    refused(moved, 422, "INVALID_CURSOR")


HOSTILE: list[tuple[dict[str, Any], str]] = [
    ({"code": "EARLY 10", "percent": 10}, "code"),
    ({"code": "ABC", "percent": 10}, "code"),
    ({"code": "A" * 33, "percent": 10}, "code"),
    ({"code": "ÉTÉ2026", "percent": 10}, "code"),
    ({"code": "EARLY\u200b10", "percent": 10}, "code"),
    ({"code": "EARLY10", "percent": 10, "amount_off": "5.00"}, "body"),
    ({"code": "EARLY10"}, "body"),
    ({"code": "EARLY10", "percent": 101}, "percent"),
    ({"code": "EARLY10", "percent": 0}, "body"),  # an access code unlocks something
    ({"code": "EARLY10", "amount_off": "5.001"}, "amount_off"),  # EUR has 2 places
    ({"code": "EARLY10", "amount_off": "0"}, "body"),
    ({"code": "EARLY10", "fixed_price": "-1"}, "fixed_price"),
    ({"code": "EARLY10", "percent": 10, "max_uses": 0}, "max_uses"),
    ({"code": "EARLY10", "percent": 10, "ticket_type_ids": []}, "ticket_type_ids"),
    ({"code": "EARLY10", "percent": 10, "ticket_type_ids": ["not-a-uuid"]}, "ticket_type_ids.0"),
    ({"code": "EARLY10", "percent": 10, "valid_from": future(5), "valid_until": future(4)}, "body"),
    ({"code": "EARLY10", "percent": 10, "uses": 5}, "uses"),
]


def test_hostile_codes_are_422_naming_the_field_and_write_nothing(api: Api, admin: str, event: dict[str, Any]) -> None:
    for body, field in HOSTILE:  # one event for all: each case is a request, not a fixture's new event
        problem = refused(add(api, admin, event["id"], **body), 422, "VALIDATION_FAILED")
        assert problem["errors"][0]["field"] == field, (body, problem)
    assert listed(api, admin, event["id"]).body["items"] == []


def test_types_and_amounts_are_judged_against_the_codes_own_event(api: Api, admin: str, event: dict[str, Any]) -> None:
    yen = create(api, admin, currency="JPY", ticket_price="3000")
    elsewhere = yen["ticket_types"][0]["id"]
    cases = [
        ({"code": "EARLY10", "percent": 10, "ticket_type_ids": [elsewhere]}, "ticket_type_ids.0"),
        ({"code": "EARLY10", "percent": 0, "unlocks": [elsewhere]}, "unlocks.0"),
    ]
    for body, field in cases:
        assert refused(add(api, admin, event["id"], **body), 422, "VALIDATION_FAILED")["errors"][0]["field"] == field
    assert refused(add(api, admin, yen["id"], code="YEN", amount_off="0.5"), 422, "VALIDATION_FAILED")
    assert refused(add(api, admin, yen["id"], code="YEN1", amount_off="500.5"), 422, "VALIDATION_FAILED")
    assert add(api, admin, yen["id"], code="YEN1", amount_off="500").body["amount_off"] == "500"
    assert listed(api, admin, event["id"]).body["items"] == []


def test_a_code_is_unique_per_event_whatever_its_case(api: Api, admin: str, event: dict[str, Any]) -> None:
    assert add(api, admin, event["id"], code="Early10", percent=10).status == 201
    refused(add(api, admin, event["id"], code="EARLY10", amount_off="1"), 409, "PROMO_CODE_EXISTS")
    assert add(api, admin, create(api, admin)["id"], code="early10", percent=10).status == 201  # another event's
    assert [c["percent"] for c in listed(api, admin, event["id"]).body["items"]] == [10]


def test_an_admin_changes_a_code_by_its_text_in_any_case(api: Api, admin: str, event: dict[str, Any]) -> None:
    press = next(t["id"] for t in event["ticket_types"] if t["name"] == "Child")
    add(api, admin, event["id"], code="EARLY10", percent=10, max_uses=100)
    changed = change(api, admin, event["id"], "early10", amount_off="2.50", max_uses=None, unlocks=[press])
    assert changed.status == 200, changed.body
    assert (changed.body["percent"], changed.body["amount_off"], changed.body["max_uses"]) == (None, "2.50", None)
    assert changed.body["unlocks"] == [press]
    assert listed(api, admin, event["id"]).body["items"] == [changed.body]
    refused(change(api, admin, event["id"], "EARLY10", percent=5, fixed_price="1"), 422, "VALIDATION_FAILED")
    refused(change(api, admin, event["id"], "EARLY10", code="OTHER"), 422, "VALIDATION_FAILED")
    refused(change(api, admin, event["id"], "EARLY10", amount_off="2.505"), 422, "VALIDATION_FAILED")
    refused(change(api, admin, event["id"], "EARLY10", percent=0, unlocks=[]), 422, "VALIDATION_FAILED")
    refused(change(api, admin, event["id"], "NOPE", percent=5), 404, "PROMO_CODE_NOT_FOUND")
    refused(change(api, admin, event["id"], "no such code", percent=5), 404, "PROMO_CODE_NOT_FOUND")
    assert listed(api, admin, event["id"]).body["items"] == [changed.body]


def test_a_deleted_code_is_gone_and_its_text_free_again(api: Api, admin: str, event: dict[str, Any]) -> None:
    add(api, admin, event["id"], code="EARLY10", percent=10)
    assert remove(api, admin, event["id"], "early10").status == 204
    refused(remove(api, admin, event["id"], "EARLY10"), 404, "PROMO_CODE_NOT_FOUND")
    assert listed(api, admin, event["id"]).body["items"] == []
    assert add(api, admin, event["id"], code="EARLY10", percent=20).status == 201


def test_only_admins_reach_an_events_codes(api: Api, admin: str, event: dict[str, Any]) -> None:
    user = token_for(api)
    refused(api.call("list_promo_codes", token=user, path={"event_id": event["id"]}), 403, "FORBIDDEN")
    refused(api.call("create_promo_code", path={"event_id": event["id"]}, body={}), 401, "UNAUTHENTICATED")
    missing = "00000000-0000-4000-8000-000000000000"
    refused(add(api, admin, missing, code="EARLY10", percent=10), 404, "EVENT_NOT_FOUND")
    refused(api.call("list_promo_codes", token=admin, path={"event_id": missing}), 404, "EVENT_NOT_FOUND")


def test_an_event_stored_before_ticket_types_takes_codes_for_its_one_type(api: Api, admin: str) -> None:
    event_id = v1_event()
    made = add(api, admin, event_id, code="OLDTIMER", percent=50)
    assert made.status == 201, made.body
    assert [c["code"] for c in listed(api, admin, event_id).body["items"]] == ["OLDTIMER"]


# --- the redemption actions (phase 2's booking transaction carries them) ---


def test_a_redemption_counts_tickets_up_to_max_uses_and_is_refused_after_an_edit(
    api: Api, admin: str, event: dict[str, Any]
) -> None:
    add(api, admin, event["id"], code="SAVE10", percent=10, max_uses=3)
    read = promocodes.get(event["id"], "SAVE10")
    assert read is not None
    now = clock.now() + timedelta(seconds=1)

    def redeem(code: PromoCode, quantity: int) -> bool:
        try:
            Transaction().add("code", promocodes.redeem(code, quantity, Decimal("3.00") * quantity, now)).commit()
        except Failed:
            return False
        return True

    assert redeem(read, 2)
    assert not redeem(read, 2)  # 2 + 2 tickets > 3
    assert redeem(read, 1)
    shown = listed(api, admin, event["id"]).body["items"][0]
    assert (shown["uses"], shown["discount_given"]) == (3, "9.00")
    change(api, admin, event["id"], "SAVE10", max_uses=10)
    assert not redeem(read, 1)  # judged under the version before the edit: judged again
    again = promocodes.get(event["id"], "SAVE10")
    assert again is not None
    assert redeem(again, 1)
    ended = clock.now().replace(microsecond=0)
    change(api, admin, event["id"], "SAVE10", valid_until=ended.isoformat())
    closed = promocodes.get(event["id"], "SAVE10")
    assert closed is not None
    assert closed.version == again.version + 1
    assert not redeem(replace(closed, valid_until=None), 1)  # the stored instant decides, at `now`


def test_uses_are_given_back_only_to_the_code_a_booking_used(api: Api, admin: str, event: dict[str, Any]) -> None:
    add(api, admin, event["id"], code="SAVE10", percent=10)
    first = promocodes.get(event["id"], "SAVE10")
    assert first is not None
    Transaction().add("code", promocodes.redeem(first, 2, Decimal("6.00"), clock.now())).commit()
    Transaction().add("code", promocodes.give_back(event["id"], "SAVE10", first.id, 1, Decimal("3.00"))).commit()
    assert (listed(api, admin, event["id"]).body["items"][0]["uses"]) == 1
    remove(api, admin, event["id"], "SAVE10")
    add(api, admin, event["id"], code="SAVE10", percent=10)
    with pytest.raises(Failed):
        Transaction().add("code", promocodes.give_back(event["id"], "SAVE10", first.id, 1, Decimal("3.00"))).commit()
    assert listed(api, admin, event["id"]).body["items"][0]["uses"] == 0


def test_ten_parallel_creates_of_one_code_make_one() -> None:
    with serialised_moto("promo-race"):
        api = Api()
        admin = token_for(api, role="admin")
        event_id = create(api, admin)["id"]
        start, results = threading.Barrier(10), []

        def create_one(n: int) -> None:
            start.wait()
            results.append(add(Api(), admin, event_id, code="RUSH", percent=n + 1))

        threads = [threading.Thread(target=create_one, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = listed(api, admin, event_id).body["items"]
    assert sorted((r.status, r.body.get("code")) for r in results) == [(201, "RUSH")] + [(409, "PROMO_CODE_EXISTS")] * 9
    winner = next(r.body for r in results if r.status == 201)
    assert codes == [winner]


def test_the_window_a_code_was_read_with_is_kept_to_the_second(api: Api, admin: str, event: dict[str, Any]) -> None:
    start = clock.now().replace(microsecond=0) + timedelta(days=1)
    made = add(api, admin, event["id"], code="LATER", percent=5, valid_from=start.isoformat())
    assert made.status == 201, made.body
    read = promocodes.get(event["id"], "LATER")
    assert read is not None
    assert read.valid_from == start
    with pytest.raises(Failed):  # not valid yet
        Transaction().add("code", promocodes.redeem(read, 1, Decimal("1.50"), clock.now())).commit()
