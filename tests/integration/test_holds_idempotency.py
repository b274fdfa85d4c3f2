"""An Idempotency-Key makes placing a hold safe to retry, with the rules and codes of bookings: the same
key and body answer with the first hold (201, Idempotent-Replayed), another body is 422."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from tests.support.bookings import Account, new_account, new_event, type_ids
from tests.support.conformance import DOCUMENT
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, confirm, get, stock


@pytest.fixture
def alice(api: Api) -> Account:
    return new_account()


def place(api: Api, who: Account, event_id: str, body: dict[str, Any], key: str) -> Result:
    return api.call(
        "create_hold", token=who.token, path={"event_id": event_id}, body=body, headers={"Idempotency-Key": key}
    )


def test_a_retried_hold_with_the_same_key_answers_with_the_first_hold(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    first = place(api, alice, event_id, {"quantity": 2}, "checkout-1")
    assert first.status == 201, first.body
    assert "Idempotent-Replayed" not in first.headers
    again = place(api, alice, event_id, {"quantity": 2}, "checkout-1")
    assert (again.status, again.body, again.headers["Idempotent-Replayed"]) == (201, first.body, "true")
    state = stock(event_id)
    assert (state.held, len(state.holds), state.balanced) == (2, 1, True)


def test_a_replay_shows_the_hold_as_it_is_now(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    hold = place(api, alice, event_id, {"quantity": 1}, "checkout-2").body
    booking = confirm(api, alice, hold["id"]).body
    again = place(api, alice, event_id, {"quantity": 1}, "checkout-2")
    assert again.status == 201, again.body
    assert again.body == get(api, alice, hold["id"]).body
    assert (again.body["status"], again.body["booking_id"]) == ("CONFIRMED", booking["id"])
    assert stock(event_id).sold == 1


def test_the_same_key_with_another_body_or_for_a_booking_is_refused(api: Api, alice: Account) -> None:
    event_id, other = new_event(total=10), new_event(total=10)
    assert place(api, alice, event_id, {"quantity": 1}, "checkout-3").status == 201
    for event, body in ((event_id, {"quantity": 2}), (other, {"quantity": 1})):
        refused = place(api, alice, event, body, "checkout-3")
        assert (refused.status, refused.body["code"]) == (422, "IDEMPOTENCY_KEY_REUSED"), refused.body
    booked = api.call(
        "create_booking",
        token=alice.token,
        path={"event_id": event_id},
        body={"quantity": 1},
        headers={"Idempotency-Key": "checkout-3"},
    )
    assert (booked.status, booked.body["code"]) == (422, "IDEMPOTENCY_KEY_REUSED"), booked.body
    assert (
        api.call(
            "create_booking",
            token=alice.token,
            path={"event_id": event_id},
            body={"quantity": 1},
            headers={"Idempotency-Key": "paid-4"},
        ).status
        == 201
    )
    refused = place(api, alice, event_id, {"quantity": 1}, "paid-4")  # a booking's key, the same body
    assert (refused.status, refused.body["code"]) == (422, "IDEMPOTENCY_KEY_REUSED"), refused.body
    assert (stock(event_id).held, stock(event_id).sold, stock(other).held) == (1, 1, 0)


def test_a_key_is_free_again_once_it_expires(api: Api, alice: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    from boxoffice import auth
    from boxoffice.config import settings

    clock = Clock(monkeypatch)
    event_id = new_event(total=10, hold_cooldown_seconds=0)
    first = place(api, alice, event_id, {"quantity": 1}, "checkout-5").body
    clock.advance(settings().idempotency_ttl_seconds)
    token, _ = auth.issue_token(alice.id, "user", 0)  # the first one has expired too
    second = place(api, replace(alice, token=token), event_id, {"quantity": 1}, "checkout-5")
    assert second.status == 201, second.body
    assert second.body["id"] != first["id"]


def test_a_bad_key_is_refused_before_anything_is_held(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    refused = place(api, alice, event_id, {"quantity": 1}, "x" * 256)
    assert (refused.status, refused.body["code"]) == (422, "VALIDATION_FAILED")
    assert stock(event_id).held == 0


def test_the_document_declares_the_header_on_holds() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    operation = document["paths"]["/events/{event_id}/holds"]["post"]
    assert "idempotency-key" in {p["name"].lower() for p in operation["parameters"] if p["in"] == "header"}
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    assert "422" in operation["responses"]
    assert "IDEMPOTENCY_KEY_REUSED" in operation["responses"]["422"]["content"]["application/problem+json"]["examples"]


def test_a_retried_cart_hold_with_the_same_key_answers_with_the_first_hold(api: Api, alice: Account) -> None:
    event_id = new_event(total=10)
    [kind] = type_ids(event_id).values()
    cart = {"items": [{"ticket_type_id": kind, "quantity": 2}]}
    first = place(api, alice, event_id, cart, "cart-1")
    assert first.status == 201, first.body
    again = place(api, alice, event_id, cart, "cart-1")
    assert (again.status, again.body, again.headers["Idempotent-Replayed"]) == (201, first.body, "true")
    state = stock(event_id)
    assert (state.held, len(state.holds), state.balanced) == (2, 1, True)
