"""Sample events for `make run` and the generator behind the benchmark."""

from __future__ import annotations

from datetime import UTC, datetime

from devserver.seed import SAMPLE_EVENTS, ensure_sample_events
from scripts import seed_events
from tests.support.events import token_for
from tests.support.handlers import Api


def all_events(api: Api) -> list[dict[str, object]]:
    result = api.call("list_events", query={"limit": "100"})
    assert result.status == 200, result.body
    items: list[dict[str, object]] = result.body["items"]
    return items


def test_samples_load_once_and_a_deleted_one_stays_deleted(api: Api) -> None:
    assert ensure_sample_events() == len(SAMPLE_EVENTS)
    listed = all_events(api)
    assert sorted(e["name"] for e in listed) == sorted(s["name"] for s in SAMPLE_EVENTS)
    assert ensure_sample_events() == 0
    admin = token_for(api, role="admin")
    assert api.call("delete_event", token=admin, path={"event_id": str(listed[0]["id"])}).status == 204
    assert ensure_sample_events() == 0
    assert len(all_events(api)) == len(SAMPLE_EVENTS) - 1


def test_samples_are_upcoming_and_searchable(api: Api) -> None:
    ensure_sample_events()
    jazz = api.call("list_events", query={"q": "jazz"}).body["items"]
    assert {e["name"] for e in jazz} == {"Jazz at the Blue Note", "Tokyo Jazz Festival"}
    tokyo = next(e for e in jazz if e["name"] == "Tokyo Jazz Festival")
    assert (tokyo["time"], tokyo["currency"], tokyo["ticket_price"]) == ("18:00:00", "JPY", "8500")


def test_the_generator_is_deterministic_and_spreads_over_venues_and_days() -> None:
    first = list(seed_events.generate(300, days=30, venue_count=20, seed=5))
    assert first == list(seed_events.generate(300, days=30, venue_count=20, seed=5))
    assert len({e["venue"] for e in first}) == 20
    assert len({str(e["starts_at"])[:10] for e in first}) == 30


def test_the_generator_loads_events_that_search_finds(api: Api) -> None:
    assert seed_events.load(120, days=10, venue_count=3, seed=2) == 120
    venue = seed_events.venues(3)[0]
    page = api.call("list_events", query={"venue": venue.upper(), "limit": "100"}).body["items"]
    assert page
    assert all(e["venue"] == venue for e in page)


def test_samples_show_ticket_types_a_per_user_cap_and_local_times_on_four_continents(api: Api) -> None:
    ensure_sample_events()
    listed = all_events(api)
    zones = {str(e["timezone"]).split("/")[0] for e in listed}
    assert {"Europe", "America", "Asia", "Australia"} <= zones
    beethoven = next(e for e in listed if str(e["name"]).startswith("Beethoven"))
    types = beethoven["ticket_types"]
    assert isinstance(types, list)
    assert [t["name"] for t in types] == ["Early bird", "Standard", "VIP"]
    early = types[0]
    assert (early["total_tickets"], early["sales_end"] is not None) == (500, True)
    assert (beethoven["max_tickets_per_user"], beethoven["ticket_price"], beethoven["time"]) == (8, "35.00", "19:30:00")


def test_the_sample_jazz_night_has_its_doors_open_and_its_seeded_check_ins_are_real(api: Api) -> None:
    from devserver.seed import SAMPLE_DOOR_EVENT, ensure_sample_check_ins
    from tests.support.bookings import new_account

    ensure_sample_events()
    staff = new_account("staff")
    assert ensure_sample_check_ins(staff.email) == 3
    jazz = next(e for e in all_events(api) if e["name"] == SAMPLE_DOOR_EVENT)
    opens, closes = (datetime.fromisoformat(str(jazz[f"doors_{d}_at"])) for d in ("open", "close"))
    assert opens <= datetime.now(UTC) < closes


def test_the_sample_matinee_sells_with_its_promo_code_and_its_hidden_press_type_with_its_access_code(
    api: Api,
) -> None:
    from boxoffice.store import events
    from tests.support.bookings import new_account

    ensure_sample_events()
    matinee = next(e for e in all_events(api) if str(e["name"]).startswith("The Nutcracker"))
    stored = events.get(str(matinee["id"]))
    assert stored is not None
    by_name = {t.name: t for t in stored.ticket_types}
    assert (by_name["Press"].hidden, len(matinee["ticket_types"])) == (True, 2)  # not listed
    buyer, path = new_account(), {"event_id": str(matinee["id"])}

    def book(type_name: str, code: str) -> dict[str, object]:
        body = {"quantity": 2, "ticket_type_id": by_name[type_name].id, "promo_code": code}
        result = api.call("create_booking", token=buyer.token, path=path, body=body)
        assert result.status == 201, result.body
        booked: dict[str, object] = result.body
        return booked

    assert book("Adult", "early10")["total_price"] == "108.00"
    assert book("Press", "PRESS-NUTCRACKER")["total_price"] == "0.00"
