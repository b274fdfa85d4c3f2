"""Ticket types, per-user caps, sales windows, local time and currencies, through the real handlers over moto."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.config import settings
from tests.support.bookings import ledger
from tests.support.events import create, event_body, future, token_for
from tests.support.handlers import Api, Result

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def admin(api: Api) -> str:
    return token_for(api, role="admin")


@pytest.fixture
def user(api: Api) -> str:
    return token_for(api)


def tiers(**overrides: Any) -> list[dict[str, Any]]:
    """Early bird (a sub-quota of 30, sales ending in a week), standard, and VIP (a sub-quota of 10)."""
    types: list[dict[str, Any]] = [
        {"name": "Early bird", "price": "30.00", "total_tickets": 30, "sales_end": future(7)},
        {"name": "Standard", "price": "45.50"},
        {"name": "VIP", "description": "Front rows and a drink.", "price": "120.00", "total_tickets": 10},
    ]
    for n, changes in overrides.items():
        types[int(n.removeprefix("t"))].update(changes)
    return types


def tiered(api: Api, admin: str, types: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    return create(api, admin, ticket_price=None, ticket_types=types or tiers(), **overrides)


def type_id(event: dict[str, Any], name: str) -> str:
    return str(next(t["id"] for t in event["ticket_types"] if t["name"] == name))


def book(api: Api, token: str, event: dict[str, Any], quantity: int, name: str | None = None, **extra: Any) -> Result:
    body: dict[str, Any] = {"quantity": quantity, **extra}
    if name is not None:
        body["ticket_type_id"] = type_id(event, name)
    return api.call("create_booking", token=token, path={"event_id": event["id"]}, body=body)


def problem(result: Result, status: int, code: str) -> dict[str, Any]:
    assert (result.status, result.body.get("code")) == (status, code), result.body
    assert result.content_type == "application/problem+json"
    body: dict[str, Any] = result.body
    return body


def field_of(result: Result) -> str:
    problem(result, 422, "VALIDATION_FAILED")
    return str(result.body["errors"][0]["field"])


def event_items() -> int:
    from tests.support.bookings import _scan

    return len(_scan(settings().events_table))


# --- creating events with types ---


def test_an_event_shows_its_types_with_live_availability_and_the_lowest_price(api: Api, admin: str) -> None:
    event = tiered(api, admin, total_tickets=100, max_tickets_per_user=6)
    assert [t["name"] for t in event["ticket_types"]] == ["Early bird", "Standard", "VIP"]
    assert event["ticket_price"] == "30.00"
    assert (event["total_tickets"], event["available_tickets"], event["max_tickets_per_user"]) == (100, 100, 6)
    early, standard, vip = event["ticket_types"]
    assert (early["total_tickets"], early["available_tickets"], early["max_tickets_per_booking"]) == (30, 30, 10)
    assert (standard["total_tickets"], standard["available_tickets"]) == (None, None)
    assert vip["description"] == "Front rows and a drink."
    assert api.call("get_event", path={"event_id": event["id"]}).body == event


def test_an_event_without_types_gets_one_general_admission_type_at_its_price(api: Api, admin: str) -> None:
    event = create(api, admin, ticket_price="25.50")
    [general] = event["ticket_types"]
    assert (general["name"], general["price"], event["ticket_price"]) == ("General admission", "25.50", "25.50")


HOSTILE: list[tuple[dict[str, Any], str]] = [
    ({"ticket_types": [{"name": f"Tier {n}", "price": "10"} for n in range(21)]}, "ticket_types"),
    ({"ticket_types": [{"name": "VIP", "price": "10"}, {"name": " vip ", "price": "20"}]}, "ticket_types.1.name"),
    ({"ticket_types": tiers(t0={"sales_start": future(5), "sales_end": future(4)})}, "ticket_types.0.sales_end"),
    ({"ticket_types": tiers(t2={"total_tickets": 101})}, "ticket_types.2.total_tickets"),
    ({"ticket_types": tiers(t1={"price": "45.001"})}, "ticket_types.1.price"),
    ({"ticket_types": tiers(), "currency": "JPY"}, "ticket_types.1.price"),
    ({"ticket_types": tiers(t2={"price": "12.1255"}), "currency": "KWD"}, "ticket_types.2.price"),
    ({"ticket_price": "19.999"}, "ticket_price"),
    ({"ticket_price": "8500.5", "currency": "JPY"}, "ticket_price"),
    ({"ticket_types": tiers(), "ticket_price": "30.00"}, "ticket_price"),
    ({"ticket_price": None}, "ticket_price"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "../../etc"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"max_tickets_per_user": 0}, "max_tickets_per_user"),
    ({"ticket_types": []}, "ticket_types"),
]


@pytest.mark.parametrize(("overrides", "field"), HOSTILE)
def test_hostile_events_are_422_naming_the_field_and_write_nothing(
    api: Api, admin: str, overrides: dict[str, Any], field: str
) -> None:
    before = event_items()
    body = event_body(total_tickets=100, **overrides)
    if overrides.get("ticket_price", "") is None or ("ticket_types" in overrides and "ticket_price" not in overrides):
        body.pop("ticket_price", None)
    result = api.call("create_event", token=admin, body=body)
    assert field_of(result).startswith(field), result.body
    assert event_items() == before


def test_a_kwd_price_may_have_three_places_and_a_jpy_price_none(api: Api, admin: str) -> None:
    kwd = create(api, admin, ticket_price="12.125", currency="KWD")
    assert (kwd["ticket_price"], kwd["ticket_types"][0]["price"]) == ("12.125", "12.125")
    jpy = create(api, admin, ticket_price=8500, currency="JPY")
    assert jpy["ticket_price"] == "8500"
    usd = create(api, admin, ticket_price="7", currency="USD")
    assert usd["ticket_price"] == "7.00"


# --- local time ---


def test_date_and_time_are_the_venues_local_ones(api: Api, admin: str) -> None:
    event = create(api, admin, starts_at="2031-03-05T01:00:00+00:00", timezone="America/New_York")
    assert event["starts_at"] == "2031-03-05T01:00:00Z"
    assert (event["timezone"], event["date"], event["time"]) == ("America/New_York", "2031-03-04", "20:00:00")
    moved = api.call("update_event", token=admin, path={"event_id": event["id"]}, body={"timezone": "Asia/Tokyo"})
    assert (moved.body["date"], moved.body["time"]) == ("2031-03-05", "10:00:00")


# --- admin: ticket types ---


def add_type(api: Api, token: str, event_id: str, **body: Any) -> Result:
    return api.call("create_ticket_type", token=token, path={"event_id": event_id}, body=body)


def patch_type(api: Api, token: str, event: dict[str, Any], kind: str, **body: Any) -> Result:
    path = {"event_id": event["id"], "ticket_type_id": type_id(event, kind)}
    return api.call("update_ticket_type", token=token, path=path, body=body)


def delete_type(api: Api, token: str, event: dict[str, Any], name: str) -> Result:
    path = {"event_id": event["id"], "ticket_type_id": type_id(event, name)}
    return api.call("delete_ticket_type", token=token, path=path)


def test_an_admin_adds_a_type_that_the_event_then_shows(api: Api, admin: str) -> None:
    event = create(api, admin, ticket_price="40.00")
    result = add_type(
        api, admin, event["id"], name="Student", price="15.00", total_tickets=20, max_tickets_per_booking=2
    )
    assert result.status == 201, result.body
    assert result.body["name"] == "Student"
    assert (result.body["available_tickets"], result.body["max_tickets_per_booking"]) == (20, 2)
    shown = api.call("get_event", path={"event_id": event["id"]}).body
    assert [t["name"] for t in shown["ticket_types"]] == ["General admission", "Student"]
    assert shown["ticket_price"] == "15.00"


def test_adding_a_type_checks_the_name_the_count_the_quota_and_the_currency(api: Api, admin: str, user: str) -> None:
    yen = tiers(t0={"price": "3000"}, t1={"price": "5000"}, t2={"price": "9000"})
    event = tiered(api, admin, yen, total_tickets=100, currency="JPY")
    assert field_of(add_type(api, admin, event["id"], name="vip", price="100")) == "name"
    assert field_of(add_type(api, admin, event["id"], name="Odd", price="100.5")) == "price"
    assert field_of(add_type(api, admin, event["id"], name="Big", price="1", total_tickets=101)) == "total_tickets"
    for n in range(17):
        assert add_type(api, admin, event["id"], name=f"Extra {n}", price="1").status == 201
    assert field_of(add_type(api, admin, event["id"], name="One too many", price="1")) == "ticket_types"
    problem(add_type(api, user, event["id"], name="Mine", price="1"), 403, "FORBIDDEN")
    problem(add_type(api, admin, MISSING, name="Lost", price="1"), 404, "EVENT_NOT_FOUND")


def test_a_types_capacity_moves_its_available_count_and_never_drops_below_sold(api: Api, admin: str, user: str) -> None:
    event = tiered(api, admin, total_tickets=100)
    assert book(api, user, event, 4, "VIP").status == 201
    grown = patch_type(api, admin, event, "VIP", total_tickets=15)
    assert (grown.status, grown.body["total_tickets"], grown.body["available_tickets"]) == (200, 15, 11)
    assert (
        problem(patch_type(api, admin, event, "VIP", total_tickets=3), 409, "CAPACITY_BELOW_SOLD")["tickets_sold"] == 4
    )
    exact = patch_type(api, admin, event, "VIP", total_tickets=4)
    assert (exact.status, exact.body["available_tickets"]) == (200, 0)
    problem(book(api, user, event, 1, "VIP"), 409, "SOLD_OUT")
    unlimited = patch_type(api, admin, event, "VIP", total_tickets=None)
    assert (unlimited.body["total_tickets"], unlimited.body["available_tickets"]) == (None, None)
    assert book(api, user, event, 1, "VIP").status == 201
    assert ledger(event["id"]).balanced


def test_patching_a_type_renames_reprices_and_checks_its_fields(api: Api, admin: str, user: str) -> None:
    event = tiered(api, admin, total_tickets=100)
    recased = patch_type(api, admin, event, "VIP", name="vip")
    assert (recased.status, recased.body["name"]) == (200, "vip")
    renamed = patch_type(api, admin, event, "Standard", name="Regular", price="50.00", sales_start=None)
    assert (renamed.status, renamed.body["name"], renamed.body["price"]) == (200, "Regular", "50.00")
    event = api.call("get_event", path={"event_id": event["id"]}).body
    assert field_of(patch_type(api, admin, event, "vip", name="early BIRD")) == "name"
    assert field_of(patch_type(api, admin, event, "vip", price="1.001")) == "price"
    assert field_of(patch_type(api, admin, event, "vip", total_tickets=500)) == "total_tickets"
    assert field_of(patch_type(api, admin, event, "vip", sales_start=future(10), sales_end=future(9))) == "sales_end"
    assert field_of(patch_type(api, admin, event, "vip", price=None)) == "price"
    assert field_of(patch_type(api, admin, event, "vip")) == "body"
    path = {"event_id": event["id"], "ticket_type_id": MISSING}
    problem(api.call("update_ticket_type", token=admin, path=path, body={"price": "1"}), 404, "TICKET_TYPE_NOT_FOUND")
    # The old name is free again; the booking is priced by the new price.
    assert add_type(api, admin, event["id"], name="Standard", price="1").status == 201
    regular = {**event, "ticket_types": [{"id": renamed.body["id"], "name": "Regular"}]}
    booked = book(api, user, regular, 2, "Regular")
    assert (booked.body["unit_price"], booked.body["total_price"]) == ("50.00", "100.00")
    assert booked.body["ticket_type"] == {"id": renamed.body["id"], "name": "Regular"}


def test_a_type_with_live_tickets_cannot_be_deleted_until_they_are_cancelled(api: Api, admin: str, user: str) -> None:
    event = tiered(api, admin, total_tickets=100)
    booking = book(api, user, event, 2, "VIP").body
    assert problem(delete_type(api, admin, event, "VIP"), 409, "TICKET_TYPE_HAS_SALES")["tickets_sold"] == 2
    assert api.call("cancel_booking", token=user, path={"booking_id": booking["id"]}).status == 200
    assert delete_type(api, admin, event, "VIP").status == 204
    problem(delete_type(api, admin, event, "VIP"), 404, "TICKET_TYPE_NOT_FOUND")
    problem(book(api, user, event, 1, "VIP"), 404, "TICKET_TYPE_NOT_FOUND")
    shown = api.call("get_event", path={"event_id": event["id"]}).body
    assert [t["name"] for t in shown["ticket_types"]] == ["Early bird", "Standard"]
    assert delete_type(api, admin, event, "Early bird").status == 204
    problem(delete_type(api, admin, event, "Standard"), 409, "LAST_TICKET_TYPE")  # an event keeps one
    assert ledger(event["id"]).balanced


# --- booking a type ---


def test_a_booking_of_an_event_with_several_types_must_name_one(api: Api, admin: str, user: str) -> None:
    event = tiered(api, admin)
    assert field_of(book(api, user, event, 1)) == "ticket_type_id"
    problem(book(api, user, event, 1, ticket_type_id=MISSING), 404, "TICKET_TYPE_NOT_FOUND")
    problem(book(api, user, event, 1, ticket_type_id="not-an-id"), 404, "TICKET_TYPE_NOT_FOUND")
    made = book(api, user, event, 2, "VIP")
    assert made.status == 201, made.body
    assert made.body["ticket_type"] == {"id": type_id(event, "VIP"), "name": "VIP"}
    assert (made.body["unit_price"], made.body["total_price"]) == ("120.00", "240.00")
    listed = api.call("list_bookings", token=user).body["items"]
    assert listed[0]["ticket_type"] == made.body["ticket_type"]


def test_not_enough_tickets_names_the_quota_that_binds(api: Api, admin: str, user: str) -> None:
    types = tiers(t0={"total_tickets": 5})
    event = tiered(api, admin, types, total_tickets=12, max_tickets_per_booking=20)
    assert problem(book(api, user, event, 11, "VIP"), 409, "NOT_ENOUGH_TICKETS")["available"] == 10  # the VIP's
    assert book(api, user, event, 9, "VIP").status == 201
    assert problem(book(api, user, event, 2, "VIP"), 409, "NOT_ENOUGH_TICKETS")["available"] == 1
    assert problem(book(api, user, event, 4, "Standard"), 409, "NOT_ENOUGH_TICKETS")["available"] == 3
    assert book(api, user, event, 3, "Standard").status == 201
    problem(book(api, user, event, 1, "Early bird"), 409, "SOLD_OUT")
    state = ledger(event["id"])
    assert (state.available, state.sold, state.balanced) == (0, 12, True)


def test_sales_windows_are_enforced(api: Api, admin: str, user: str) -> None:
    types = tiers(t0={"sales_start": future(-7), "sales_end": future(-1)}, t1={"sales_start": future(2)})
    event = tiered(api, admin, types)
    body = problem(book(api, user, event, 1, "Standard"), 409, "SALES_NOT_STARTED")
    assert body["sales_start"].replace("+00:00", "Z") == types[1]["sales_start"].replace("+00:00", "Z")
    problem(book(api, user, event, 1, "Early bird"), 409, "SALES_ENDED")
    opened = patch_type(api, admin, event, "Standard", sales_start=None)
    assert (opened.status, opened.body["sales_start"]) == (200, None)
    assert book(api, user, event, 1, "Standard").status == 201
    assert ledger(event["id"]).balanced


def test_a_window_that_closes_between_the_read_and_the_write_is_judged_in_the_transaction(
    api: Api, admin: str, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sales window is a condition of the transaction itself: moving a type's sales_end into the past
    between a booking's read and its write still ends the sale."""
    from boxoffice.store import bookings as booking_store

    event = tiered(api, admin)
    real = booking_store.read_for_booking

    def read_then_close(*args: Any) -> Any:
        context = real(*args)
        closed = patch_type(api, admin, event, "Standard", sales_end=future(-1))
        assert closed.status == 200, closed.body
        return context

    monkeypatch.setattr(booking_store, "read_for_booking", read_then_close)
    problem(book(api, user, event, 1, "Standard"), 409, "SALES_ENDED")
    assert ledger(event["id"]).sold == 0


def test_a_user_may_hold_at_most_the_events_cap_across_bookings(api: Api, admin: str, user: str) -> None:
    event = tiered(api, admin, max_tickets_per_user=4)
    first = book(api, user, event, 3, "Standard")
    assert first.status == 201
    assert problem(book(api, user, event, 2, "VIP"), 409, "USER_LIMIT_REACHED")["remaining"] == 1
    assert book(api, user, event, 1, "VIP").status == 201
    assert problem(book(api, user, event, 1, "VIP"), 409, "USER_LIMIT_REACHED")["remaining"] == 0
    assert book(api, token_for(api), event, 4, "Standard").status == 201  # the cap is per user
    # Cancelling gives the allowance back.
    assert api.call("cancel_booking", token=user, path={"booking_id": first.body["id"]}).status == 200
    assert book(api, user, event, 3, "Early bird").status == 201
    # A lower cap set later counts what users already hold.
    patch = api.call("update_event", token=admin, path={"event_id": event["id"]}, body={"max_tickets_per_user": 2})
    assert patch.status == 200, patch.body
    assert problem(book(api, user, event, 1, "VIP"), 409, "USER_LIMIT_REACHED")["remaining"] == 0
    lifted = api.call("update_event", token=admin, path={"event_id": event["id"]}, body={"max_tickets_per_user": None})
    assert lifted.body["max_tickets_per_user"] is None
    assert book(api, user, event, 5, "Standard").status == 201
    assert ledger(event["id"]).balanced


def test_v1_ticket_price_edits_price_the_only_type_and_are_refused_with_several(api: Api, admin: str) -> None:
    single = create(api, admin, ticket_price="20.00")
    edited = api.call("update_event", token=admin, path={"event_id": single["id"]}, body={"ticket_price": "22.50"})
    assert (edited.body["ticket_price"], edited.body["ticket_types"][0]["price"]) == ("22.50", "22.50")
    several = tiered(api, admin)
    refused = api.call("update_event", token=admin, path={"event_id": several["id"]}, body={"ticket_price": "1"})
    assert field_of(refused) == "ticket_price"
    to_yen = api.call("update_event", token=admin, path={"event_id": several["id"]}, body={"currency": "JPY"})
    assert field_of(to_yen) == "currency"
    smaller = api.call("update_event", token=admin, path={"event_id": several["id"]}, body={"total_tickets": 20})
    assert field_of(smaller) == "total_tickets"  # below the early bird's sub-quota of 30


# --- what a booking writes ---


def test_a_booking_writes_only_small_counter_items_without_index_keys(api: Api, admin: str, user: str) -> None:
    from boxoffice.store import dynamo
    from scripts.bench.common import sent_transactions
    from scripts.bench.writes import item_size

    event = tiered(api, admin, description="d" * 5000, max_tickets_per_user=10)
    with sent_transactions() as sent:
        assert book(api, user, event, 2, "VIP").status == 201
    updates = [a["Update"] for a in sent if "Update" in a]
    assert {u["Key"]["sk"]["S"].split("#")[0] for u in updates} == {"QUOTA", "TYPE", "HOLDING"}
    assert all(a.get("Put", {}).get("Item", {}).get("sk", {}).get("S") != "EVENT" for a in sent)
    for update in updates:
        stored = dynamo.client().get_item(TableName=update["TableName"], Key=update["Key"])["Item"]
        assert not {"list_pk", "venue_pk", "starts_key"} & set(stored), stored
        assert item_size(stored) <= 1024, stored


def test_date_filters_are_local_dates_at_each_venue(api: Api, admin: str) -> None:
    # 20:00 on 3 March in New York is 01:00 on the 4th in UTC; 00:30 on the 4th in Tokyo is the 3rd in UTC.
    new_york = create(api, admin, name="Late show", starts_at="2031-03-04T01:00:00Z", timezone="America/New_York")
    tokyo = create(api, admin, name="Early show", starts_at="2031-03-03T15:30:00Z", timezone="Asia/Tokyo")
    london = create(api, admin, name="Matinee", starts_at="2031-03-03T14:00:00Z", timezone="Europe/London")
    assert (new_york["date"], tokyo["date"], london["date"]) == ("2031-03-03", "2031-03-04", "2031-03-03")

    def on(**query: str) -> list[str]:
        return [e["id"] for e in api.call("list_events", query=query).body["items"]]

    assert on(date_from="2031-03-03", date_to="2031-03-03") == [london["id"], new_york["id"]]
    assert on(date_from="2031-03-04", date_to="2031-03-04") == [tokyo["id"]]
    assert on(date_from="2031-03-04") == [tokyo["id"]]
    assert on(date_to="2031-03-03") == [london["id"], new_york["id"]]
    # Date-times stay instants.
    assert on(date_from="2031-03-03T15:00:00Z", date_to="2031-03-03T16:00:00Z") == [tokyo["id"]]
    assert field_of(api.call("list_events", query={"date_from": "2031-03-04", "date_to": "2031-03-03"})) == "date_to"


def test_a_booking_of_a_type_is_still_one_read_and_one_transaction(api: Api, admin: str, user: str) -> None:
    from scripts.bench.common import count_calls

    event = tiered(api, admin, max_tickets_per_user=6)
    assert book(api, user, event, 1, "VIP").status == 201  # the first call of a function instance reads its secret
    body = {"quantity": 2, "ticket_type_id": type_id(event, "VIP")}
    with count_calls() as calls:
        result = api.call(
            "create_booking", token=user, path={"event_id": event["id"]}, body=body, headers={"Idempotency-Key": "k1"}
        )
    assert result.status == 201, result.body
    assert calls.operations == {"BatchGetItem": 1, "TransactWriteItems": 1}
