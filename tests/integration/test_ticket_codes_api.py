"""Every ticket carries a signed code; GET /.well-known/jwks.json publishes what verifies it."""

from __future__ import annotations

import json
import os
from typing import Any

import jwt

from tests.support.bookings import new_account, new_event
from tests.support.handlers import Api


def verify_offline(code: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """What a scanner does with no network: pick the key by kid from the JWKS document, check EdDSA."""
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}
    claims: dict[str, Any] = jwt.decode(code, keys[jwt.get_unverified_header(code)["kid"]].key, algorithms=["EdDSA"])
    return claims


def test_the_key_set_is_public_cacheable_and_holds_only_public_keys(api: Api) -> None:
    result = api.call("jwks")
    assert result.status == 200
    assert result.headers["Cache-Control"] == "public, max-age=300"
    (key,) = result.body["keys"]
    assert key == {"kty": "OKP", "crv": "Ed25519", "x": key["x"], "kid": key["kid"], "alg": "EdDSA", "use": "sig"}
    assert result.body == json.loads(os.environ["TICKET_PUBLIC_KEYS"])  # the published document, as stored


def test_each_booked_ticket_has_a_code_that_verifies_offline_and_names_it(api: Api) -> None:
    ada, event_id = new_account(), new_event()
    booking = api.call("create_booking", token=ada.token, path={"event_id": event_id}, body={"quantity": 3}).body
    jwks = api.call("jwks").body
    for ticket in booking["tickets"]:
        assert verify_offline(ticket["code"], jwks) == {"tn": ticket["ticket_number"], "ev": event_id}


def test_reading_listing_and_replaying_show_the_same_codes(api: Api) -> None:
    ada, event_id = new_account(), new_event()
    args = {"token": ada.token, "path": {"event_id": event_id}, "body": {"quantity": 2}}
    booking = api.call("create_booking", headers={"Idempotency-Key": "codes"}, **args).body
    replayed = api.call("create_booking", headers={"Idempotency-Key": "codes"}, **args).body
    read = api.call("get_booking", token=ada.token, path={"booking_id": booking["id"]}).body
    listed = api.call("list_bookings", token=ada.token).body["items"][0]
    codes = [t["code"] for t in booking["tickets"]]
    assert all(codes)
    for shown in (replayed, read, listed):
        assert [t["code"] for t in shown["tickets"]] == codes


def test_a_cancelled_ticket_shows_no_code(api: Api) -> None:
    ada = new_account()
    booking = api.call("create_booking", token=ada.token, path={"event_id": new_event()}, body={"quantity": 1}).body
    cancelled = api.call("cancel_booking", token=ada.token, path={"booking_id": booking["id"]}).body
    read = api.call("get_booking", token=ada.token, path={"booking_id": booking["id"]}).body
    assert cancelled["tickets"][0]["code"] is None
    assert read["tickets"][0]["code"] is None
