"""POST/PATCH/DELETE /events and GET /events/{id}: each handler over moto with its events/ sample."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.store import dynamo
from boxoffice.store.dynamo import dump, values
from boxoffice.store.events import event_key
from boxoffice.store.inventory import quota_key
from tests.support.events import create, event_body, future, raw_item, raw_quota, revoke, sell, token_for
from tests.support.handlers import Api, Result

UNKNOWN_ID = "0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50"


@pytest.fixture
def admin(api: Api) -> str:
    return token_for(api, role="admin")


def problem(result: Result, status: int, code: str) -> None:
    assert result.status == status, result.body
    assert result.content_type == "application/problem+json"
    assert result.body["code"] == code


def listed(api: Api, **query: str) -> list[str]:
    result = api.call("list_events", query=query)
    assert result.status == 200, result.body
    return [e["id"] for e in result.body["items"]]


# --- create ---


def test_create_returns_the_event_on_sale_with_every_field(api: Api, admin: str) -> None:
    result = api.call(
        "create_event",
        token=admin,
        body=event_body(starts_at="2031-03-05T19:30:00+01:00", ticket_price=19.9, currency="gbp"),
    )
    assert result.status == 201, result.body
    event = result.body
    assert set(event) == {
        "id", "name", "description", "venue", "starts_at", "date", "time", "total_tickets", "available_tickets",
        "ticket_price", "currency", "max_tickets_per_booking", "status", "created_at", "updated_at",
        "timezone", "max_tickets_per_user", "ticket_types", "doors_open_minutes_before", "doors_close_minutes_after",
        "doors_open_at", "doors_close_at", "max_held_tickets_per_user", "max_holds_per_user", "hold_cooldown_seconds",
        "inventory_shards",
    }  # fmt: skip
    assert event["inventory_shards"] == 1  # the default for 100 tickets
    assert event["starts_at"] == "2031-03-05T18:30:00Z"  # stored and returned in UTC
    assert (event["doors_open_at"], event["doors_close_at"]) == ("2031-03-05T12:30:00Z", "2031-03-06T06:30:00Z")
    assert (event["doors_open_minutes_before"], event["doors_close_minutes_after"]) == (360, 720)
    assert (event["date"], event["time"]) == ("2031-03-05", "18:30:00")
    assert event["available_tickets"] == event["total_tickets"] == 100
    assert event["ticket_price"] == "19.90"  # a JSON number in, an exact decimal string out
    assert event["currency"] == "GBP"
    assert event["max_tickets_per_booking"] == 10
    assert event["status"] == "ON_SALE"
    assert (event["timezone"], event["max_tickets_per_user"]) == ("UTC", None)
    [general] = event["ticket_types"]
    assert general == {
        "id": general["id"], "name": "General admission", "description": "", "price": "19.90",
        "total_tickets": None, "available_tickets": None, "max_tickets_per_booking": 10,
        "sales_start": None, "sales_end": None, "hidden": False,
    }  # fmt: skip
    assert api.call("get_event", path={"event_id": event["id"]}).body == event


def test_create_defaults_the_currency_from_config(api: Api, admin: str) -> None:
    assert create(api, admin)["currency"] == "EUR"


def test_prices_are_exact_decimals_from_numbers_or_strings(api: Api, admin: str) -> None:
    for price in ["0", 0, "0.1", "1000000", "12.30", 12.3, 0.07, "999999.99"]:
        event = create(api, admin, ticket_price=price)
        assert event["ticket_price"] == event["ticket_types"][0]["price"] == f"{Decimal(str(price)):.2f}"
        stored = raw_item(event["id"])["ticket_types"][event["ticket_types"][0]["id"]]["price"]  # type: ignore[index]
        assert stored == Decimal(str(price))


INVALID: list[tuple[str, Any]] = [
    ("name", ""),
    ("name", "   "),
    ("name", "x" * 201),
    ("name", "a\nb"),
    ("description", "d" * 5001),
    ("venue", ""),
    ("venue", "v" * 201),
    ("starts_at", "2031-03-05T19:30:00"),  # no offset
    ("starts_at", "2031-03-05"),
    ("starts_at", "next friday"),
    ("starts_at", 1_900_000_000),
    ("starts_at", "1893456000"),  # epoch seconds in a string
    ("starts_at", "2020-01-01T00:00:00+00:00"),  # in the past
    ("total_tickets", 0),
    ("total_tickets", 1_000_001),
    ("total_tickets", "100"),
    ("total_tickets", True),
    ("total_tickets", 2.5),
    ("ticket_price", -1),
    ("ticket_price", "1.234"),
    ("ticket_price", "ten"),
    ("ticket_price", "NaN"),
    ("ticket_price", "1_000"),
    ("ticket_price", "1000000.01"),
    ("ticket_price", True),
    ("currency", "XYZ"),
    ("currency", "EURO"),
    ("max_tickets_per_booking", 0),
    ("max_tickets_per_booking", 51),
    ("available_tickets", 5),  # not settable
    ("status", "DELETED"),
]


def test_create_rejects_bad_fields_and_stores_nothing(api: Api, admin: str) -> None:
    # One moto per test is the slow part: the cases share one table (nothing may land in it anyway).
    for field, value in INVALID:
        result = api.call("create_event", token=admin, body=event_body(**{field: value}))
        problem(result, 422, "VALIDATION_FAILED")
        assert any(field in e["field"] for e in result.body["errors"]), (field, value, result.body)
    assert listed(api) == []


def test_create_requires_the_core_fields(api: Api, admin: str) -> None:
    for missing in ("name", "venue", "starts_at", "total_tickets", "ticket_price"):
        body = event_body()
        del body[missing]
        problem(api.call("create_event", token=admin, body=body), 422, "VALIDATION_FAILED")


def test_create_rejects_a_body_that_is_not_an_object(api: Api, admin: str) -> None:
    for raw in ("[]", '"x"', "null", "{", ""):
        result = api.call("create_event", token=admin, raw_body=raw)
        assert result.status in (400, 422), (raw, result.body)


HOSTILE_STORED = [
    "<script>alert('x')</script>",
    "'; DROP TABLE events; --",
    "Robert'); DELETE FROM events WHERE ('1'='1",
    "Café Ünïcødé 東京 🎻 مرحبا",
    "{{7*7}} ${jndi:ldap://x}",
]


def test_markup_sql_and_unicode_are_stored_as_inert_text(api: Api, admin: str) -> None:
    for text in HOSTILE_STORED:
        event = create(api, admin, name=text, venue=text, description=text)
        fetched = api.call("get_event", path={"event_id": event["id"]}).body
        assert (fetched["name"], fetched["venue"], fetched["description"]) == (text, text, text)
        assert listed(api, venue=text) == [event["id"]]


def test_oversized_and_control_characters_are_rejected(api: Api, admin: str) -> None:
    for field, text in [("name", "x" * 10_000), ("name", "nul\x00byte"), ("description", "a\x00"), ("venue", "\x07")]:
        problem(api.call("create_event", token=admin, body=event_body(**{field: text})), 422, "VALIDATION_FAILED")
    assert listed(api) == []


# NFKD spells U+FDFA as 18 letters (33 bytes): 200 of them fold to 6,600 bytes, over DynamoDB's key limit.
SWOLLEN = "\ufdfa" * 200


def test_a_venue_too_long_to_key_once_folded_is_422_on_create_and_update(api: Api, admin: str) -> None:
    result = api.call("create_event", token=admin, body=event_body(venue=SWOLLEN))
    problem(result, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in result.body["errors"]] == ["venue"]
    event = create(api, admin)
    result = api.call("update_event", token=admin, path={"event_id": event["id"]}, body={"venue": SWOLLEN})
    problem(result, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in result.body["errors"]] == ["venue"]
    assert listed(api) == [event["id"]]
    assert api.call("get_event", path={"event_id": event["id"]}).body == event


def test_long_venues_in_scripts_that_fold_to_several_letters_still_fit(api: Api, admin: str) -> None:
    hangul = "각" * 200  # each syllable folds to three jamo: 1,800 bytes of key
    event = create(api, admin, venue=hangul)
    assert listed(api, venue=hangul) == [event["id"]]


def test_a_name_of_swollen_characters_is_indexed_by_bounded_word_prefixes(api: Api, admin: str) -> None:
    event = create(api, admin, name=SWOLLEN)
    assert listed(api, q="\ufdfa") == [event["id"]]


# --- permissions, per route ---

ADMIN_ROUTES: list[tuple[str, dict[str, Any] | None]] = [
    ("create_event", event_body()),
    ("update_event", {"name": "Renamed"}),
    ("delete_event", None),
]


@pytest.mark.parametrize(("route", "body"), ADMIN_ROUTES, ids=[r for r, _ in ADMIN_ROUTES])
def test_admin_routes_refuse_anonymous_callers_users_and_revoked_tokens(
    api: Api, admin: str, route: str, body: dict[str, Any] | None
) -> None:
    event = create(api, admin)
    path = None if route == "create_event" else {"event_id": event["id"]}
    problem(api.call(route, body=body, path=path), 401, "UNAUTHENTICATED")
    problem(api.call(route, body=body, path=path, token="not.a.jwt"), 401, "UNAUTHENTICATED")
    problem(api.call(route, body=body, path=path, token=token_for(api)), 403, "FORBIDDEN")
    revoked = token_for(api, role="admin")
    revoke(api, revoked)
    problem(api.call(route, body=body, path=path, token=revoked), 401, "UNAUTHENTICATED")
    # Nothing changed for any of them.
    assert api.call("get_event", path={"event_id": event["id"]}).body == event
    assert listed(api) == [event["id"]]


def test_reading_needs_no_token(api: Api, admin: str) -> None:
    event = create(api, admin)
    assert api.call("get_event", path={"event_id": event["id"]}).status == 200
    assert listed(api) == [event["id"]]


# --- get ---


def test_unknown_event_is_404(api: Api) -> None:
    problem(api.call("get_event", path={"event_id": UNKNOWN_ID}), 404, "EVENT_NOT_FOUND")


MALFORMED_IDS = ["abc", "x" * 10_000, "..", UNKNOWN_ID.upper(), "' OR 1=1 --", "%00", "EVENT", "null", "%F0%9F%8E%BB"]


def test_malformed_ids_are_404_on_every_route(api: Api, admin: str) -> None:
    for event_id in MALFORMED_IDS:
        path = {"event_id": event_id}
        problem(api.call("get_event", path=path), 404, "EVENT_NOT_FOUND")
        problem(api.call("update_event", path=path, token=admin, body={"name": "x"}), 404, "EVENT_NOT_FOUND")
        problem(api.call("delete_event", path=path, token=admin), 404, "EVENT_NOT_FOUND")


# --- update ---


def test_update_changes_the_given_fields_only(api: Api, admin: str) -> None:
    event = create(api, admin)
    starts = future(60, offset="-05:00")
    result = api.call(
        "update_event",
        token=admin,
        path={"event_id": event["id"]},
        body={"name": "Mozart Evening", "venue": "Wigmore Hall", "ticket_price": 30, "starts_at": starts},
    )
    assert result.status == 200, result.body
    updated = result.body
    assert (updated["name"], updated["venue"], updated["ticket_price"]) == ("Mozart Evening", "Wigmore Hall", "30.00")
    assert updated["description"] == event["description"]
    assert updated["starts_at"] > event["starts_at"]
    assert updated["updated_at"] > event["updated_at"]
    assert updated["created_at"] == event["created_at"]
    assert api.call("get_event", path={"event_id": event["id"]}).body == updated
    # Search follows the new name and venue, and forgets the old ones.
    assert listed(api, q="mozart") == [event["id"]]
    assert listed(api, q="beethoven") == []
    assert listed(api, venue="wigmore hall") == [event["id"]]
    assert listed(api, venue="Royal Albert Hall") == []


def test_raising_capacity_adds_the_difference_to_the_available_tickets(api: Api, admin: str) -> None:
    event = create(api, admin, total_tickets=10)
    assert sell(event["id"], 4)
    result = api.call("update_event", token=admin, path={"event_id": event["id"]}, body={"total_tickets": 25})
    assert result.status == 200, result.body
    assert (result.body["total_tickets"], result.body["available_tickets"]) == (25, 21)


def test_capacity_can_drop_to_exactly_the_tickets_sold(api: Api, admin: str) -> None:
    event = create(api, admin, total_tickets=10)
    assert sell(event["id"], 6)
    result = api.call("update_event", token=admin, path={"event_id": event["id"]}, body={"total_tickets": 6})
    assert (result.status, result.body["available_tickets"]) == (200, 0)


def test_capacity_below_the_tickets_sold_is_409_and_changes_nothing(api: Api, admin: str) -> None:
    event = create(api, admin, total_tickets=10)
    assert sell(event["id"], 6)
    result = api.call(
        "update_event", token=admin, path={"event_id": event["id"]}, body={"total_tickets": 5, "name": "Smaller"}
    )
    problem(result, 409, "CAPACITY_BELOW_SOLD")
    assert result.body["tickets_sold"] == 6
    after = api.call("get_event", path={"event_id": event["id"]}).body
    assert (after["name"], after["total_tickets"], after["available_tickets"]) == ("Beethoven Night", 10, 4)
    assert listed(api, q="smaller") == []


def test_moving_the_start_into_the_past_is_422(api: Api, admin: str) -> None:
    event = create(api, admin)
    result = api.call(
        "update_event", token=admin, path={"event_id": event["id"]}, body={"starts_at": "2020-01-01T00:00:00Z"}
    )
    problem(result, 422, "VALIDATION_FAILED")
    assert result.body["errors"][0]["field"] == "starts_at"


# Sent to a started event: each changes something that the sale or the bookings depend on.
AFTER_START_REFUSED: list[dict[str, Any]] = [
    {"starts_at": future(30)},
    {"total_tickets": 200},
    {"ticket_price": "30.00"},
    {"currency": "USD"},
    {"venue": "Wigmore Hall"},
    {"max_tickets_per_booking": 5},
    {"name": "Renamed", "total_tickets": 200},
]


def test_once_an_event_has_started_only_its_name_and_description_change(
    api: Api, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = create(api, admin, starts_at=future(1))
    later = clock.now() + timedelta(days=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    admin = token_for(api, role="admin")  # the first one has expired meanwhile
    path = {"event_id": event["id"]}
    before = raw_item(event["id"])
    for body in AFTER_START_REFUSED:
        problem(api.call("update_event", token=admin, path=path, body=body), 409, "EVENT_STARTED")
    assert raw_item(event["id"]) == before
    # Sending a field's current value changes nothing, so it is no reason to refuse.
    same = {"name": "Encore", "description": "Extended.", "venue": event["venue"], "total_tickets": 100}
    result = api.call("update_event", token=admin, path=path, body=same)
    assert result.status == 200, result.body
    assert (result.body["name"], result.body["description"]) == ("Encore", "Extended.")


def test_an_event_that_starts_between_the_read_and_the_write_keeps_its_capacity(
    api: Api, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write decides: after our read, another admin brings the start forward to an hour from
    now and the hour passes; our capacity edit then meets a started event."""
    from boxoffice.store import events as store

    event = create(api, admin)
    now = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    read = store.get_for_user

    def read_then_start(event_id: str, user_id: str, **options: Any) -> Any:
        found = read(event_id, user_id, **options)
        if now[0] < moved_at:
            reschedule(event_id, now[0] + timedelta(hours=1))
            now[0] += timedelta(hours=2)
        return found

    moved_at = now[0] + timedelta(seconds=1)
    monkeypatch.setattr(store, "get_for_user", read_then_start)
    result = api.call("update_event", token=admin, path={"event_id": event["id"]}, body={"total_tickets": 500})
    problem(result, 409, "EVENT_STARTED")
    item = raw_quota(event["id"])
    assert item is not None
    assert (item["total_tickets"], item["available_tickets"]) == (100, 100)


def reschedule(event_id: str, starts_at: datetime) -> None:
    """Another admin's edit of the start, straight to the item (its word entries do not matter here)."""
    at = starts_at.replace(microsecond=0).isoformat()
    for key, names in (
        (event_key(event_id), "starts_at = :at, starts_key = :key"),
        (quota_key(event_id), "starts_at = :at"),
    ):
        dynamo.client().update_item(
            TableName=settings().events_table,
            Key=dump(key),
            UpdateExpression=f"SET {names}",
            ExpressionAttributeValues=values(at=at, **({"key": f"{at}#{event_id}"} if "key" in names else {})),
        )


def test_update_rejects_bad_bodies_and_changes_nothing(api: Api, admin: str) -> None:
    event = create(api, admin)
    for body in [
        {},
        {"name": None},
        {"total_tickets": None},
        {"total_tickets": 0},
        {"available_tickets": 5},
        {"name": ""},
    ]:
        result = api.call("update_event", token=admin, path={"event_id": event["id"]}, body=body)
        problem(result, 422, "VALIDATION_FAILED")
    assert api.call("get_event", path={"event_id": event["id"]}).body == event


@pytest.mark.parametrize("field", ["name", "description", "venue", "starts_at", "ticket_price", "currency"])
def test_update_names_a_field_sent_as_null(api: Api, admin: str, field: str) -> None:
    event = create(api, admin)
    result = api.call("update_event", token=admin, path={"event_id": event["id"]}, body={"name": "x", field: None})
    problem(result, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in result.body["errors"]] == [field]


def test_update_of_an_unknown_event_is_404(api: Api, admin: str) -> None:
    result = api.call("update_event", token=admin, path={"event_id": UNKNOWN_ID}, body={"name": "x"})
    problem(result, 404, "EVENT_NOT_FOUND")


# --- delete ---


def test_delete_leaves_a_tombstone_that_no_read_shows(api: Api, admin: str) -> None:
    event = create(api, admin)
    result = api.call("delete_event", token=admin, path={"event_id": event["id"]})
    assert (result.status, result.body) == (204, None)
    problem(api.call("get_event", path={"event_id": event["id"]}), 404, "EVENT_NOT_FOUND")
    assert listed(api) == listed(api, q="beeth") == listed(api, venue="royal albert hall") == []
    tombstone = raw_item(event["id"])
    assert tombstone is not None
    assert (tombstone["status"], tombstone["name"]) == ("DELETED", "Beethoven Night")
    assert "list_pk" not in tombstone
    assert "venue_pk" not in tombstone


def test_deleting_twice_or_editing_a_deleted_event_is_404(api: Api, admin: str) -> None:
    event = create(api, admin)
    path = {"event_id": event["id"]}
    assert api.call("delete_event", token=admin, path=path).status == 204
    problem(api.call("delete_event", token=admin, path=path), 404, "EVENT_NOT_FOUND")
    problem(api.call("update_event", token=admin, path=path, body={"name": "Back"}), 404, "EVENT_NOT_FOUND")


def test_delete_of_an_unknown_event_is_404(api: Api, admin: str) -> None:
    problem(api.call("delete_event", token=admin, path={"event_id": UNKNOWN_ID}), 404, "EVENT_NOT_FOUND")
