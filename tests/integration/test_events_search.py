"""GET /events: filters, ordering, pagination and cursors, and that every search is a cheap Query."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from boxoffice import clock
from scripts.bench.common import count_calls
from tests.support.events import create, future, stock, token_for
from tests.support.handlers import Api, Result


@pytest.fixture
def admin(api: Api) -> str:
    return token_for(api, role="admin")


def search(api: Api, **query: Any) -> Result:
    return api.call("list_events", query={k: str(v) for k, v in query.items()})


def names(api: Api, **query: Any) -> list[str]:
    result = search(api, **query)
    assert result.status == 200, result.body
    return [e["name"] for e in result.body["items"]]


def walk(api: Api, **query: Any) -> list[dict[str, Any]]:
    """Every page of a search, following next_cursor to the end."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        result = search(api, **query, **({"cursor": cursor} if cursor else {}))
        assert result.status == 200, result.body
        items += result.body["items"]
        cursor = result.body["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
def programme(aws: None) -> dict[str, dict[str, Any]]:
    """A small season, created out of start order."""
    season = [
        ("Mozart Requiem", "Wiener Musikverein", "2031-05-03T19:00:00+02:00"),
        ("Beethoven Night", "Royal Albert Hall", "2031-05-01T19:30:00+01:00"),
        ("Bach Cantatas", "Thomaskirche", "2031-05-02T18:00:00+02:00"),
        ("Nuit de Fauré", "Salle Pleyel", "2031-05-04T20:00:00+02:00"),
        ("Beethoven Quartets", "Wigmore Hall", "2031-05-05T19:30:00+01:00"),
        ("Night of the Proms", "Royal Albert Hall", "2031-05-06T19:00:00+01:00"),
    ]
    loaded = stock(*({"name": name, "venue": venue, "starts_at": start} for name, venue, start in season))
    return {event["name"]: event for event in loaded}


def test_listing_is_in_start_order(api: Api, programme: dict[str, dict[str, Any]]) -> None:
    listed = search(api).body["items"]
    assert [e["starts_at"] for e in listed] == sorted(e["starts_at"] for e in programme.values())
    assert listed[0]["name"] == "Beethoven Night"


def test_by_default_only_events_not_yet_started_are_listed(
    api: Api, programme: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    later = programme["Bach Cantatas"]["starts_at"]  # the second event starts now
    moment = datetime.fromisoformat(later) + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert names(api)[:2] == ["Mozart Requiem", "Nuit de Fauré"]
    # An explicit date_from reaches back to events that have started.
    assert names(api, date_from="2031-05-01")[:2] == ["Beethoven Night", "Bach Cantatas"]


WORD_CASES: list[tuple[str, list[str]]] = [
    ("beeth", ["Beethoven Night", "Beethoven Quartets"]),
    ("BEETHOVEN", ["Beethoven Night", "Beethoven Quartets"]),
    ("Beethóven", ["Beethoven Night", "Beethoven Quartets"]),
    ("night", ["Beethoven Night", "Night of the Proms"]),
    ("faure", ["Nuit de Fauré"]),
    ("FAURÉ", ["Nuit de Fauré"]),
    ("beethoven night", ["Beethoven Night"]),
    ("night beethoven", ["Beethoven Night"]),
    ("b n", ["Beethoven Night"]),
    ("proms of", ["Night of the Proms"]),
    ("  Mozart,  ", ["Mozart Requiem"]),
    ("thoven", []),  # words and word prefixes, not any substring
    ("beethovens", []),
    ("zzz", []),
]


def test_q_matches_whole_words_and_word_prefixes_ignoring_case_and_accents(
    api: Api, programme: dict[str, dict[str, Any]]
) -> None:
    for q, expected in WORD_CASES:
        assert names(api, q=q) == expected, q


def test_long_query_words_match_exactly(api: Api) -> None:
    stock(
        {"name": "Internationalisation Symposium", "starts_at": future(1)},
        {"name": "Internationalisations Galore", "starts_at": future(2)},
    )
    assert names(api, q="internationalisation") == ["Internationalisation Symposium", "Internationalisations Galore"]
    assert names(api, q="internationalisations") == ["Internationalisations Galore"]
    assert names(api, q="internationalisationx") == []


def test_venue_matches_the_whole_venue_ignoring_case(api: Api, programme: dict[str, dict[str, Any]]) -> None:
    assert names(api, venue="royal albert hall") == ["Beethoven Night", "Night of the Proms"]
    assert names(api, venue="  ROYAL   Albert Hall ") == ["Beethoven Night", "Night of the Proms"]
    assert names(api, venue="Royal Albert") == []
    assert names(api, venue="salle pleyel") == ["Nuit de Fauré"]


DATE_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({"date_from": "2031-05-02", "date_to": "2031-05-03"}, ["Bach Cantatas", "Mozart Requiem"]),
    ({"date_from": "2031-05-05"}, ["Beethoven Quartets", "Night of the Proms"]),
    ({"date_to": "2031-05-01"}, ["Beethoven Night"]),
    ({"date_from": "2031-05-01T18:30:00Z", "date_to": "2031-05-01T18:30:00Z"}, ["Beethoven Night"]),
    ({"date_from": "2031-05-01T18:30:01Z", "date_to": "2031-05-02T16:00:00Z"}, ["Bach Cantatas"]),
    ({"date_from": "2031-05-01T20:30:00+02:00", "date_to": "2031-05-01T20:30:00+02:00"}, ["Beethoven Night"]),
    ({"date_from": "2031-05-02T15:59:59.5", "date_to": "2031-05-02T16:00:00.9"}, ["Bach Cantatas"]),
    ({"date_from": "2031-05-02T16:00:00.1", "date_to": "2031-05-02T16:00:00.9"}, []),
    ({"date_from": "2031-05-07"}, []),
]


def test_dates_and_date_times_are_inclusive_bounds(api: Api, programme: dict[str, dict[str, Any]]) -> None:
    for window, expected in DATE_CASES:
        assert names(api, **window) == expected, window


def test_filters_combine(api: Api, programme: dict[str, dict[str, Any]]) -> None:
    hall = "Royal Albert Hall"
    assert names(api, q="night", venue=hall) == ["Beethoven Night", "Night of the Proms"]
    assert names(api, q="proms", venue=hall) == ["Night of the Proms"]
    assert names(api, q="night", venue=hall, date_from="2031-05-02") == ["Night of the Proms"]
    assert names(api, q="beethoven", date_to="2031-05-04") == ["Beethoven Night"]
    assert names(api, q="bach", venue=hall) == []


BAD_FILTERS: list[dict[str, str]] = [
    {"limit": "0"},
    {"limit": "101"},
    {"limit": "ten"},
    {"date_from": "yesterday"},
    {"date_to": "2031-13-01"},
    {"date_from": "2031-05-03", "date_to": "2031-05-02"},
    {"q": "!!!"},
    {"q": "x" * 201},
    {"q": "a\x00b"},
    {"venue": "   "},
    {"venue": "v" * 201},
    {"venue": "bell\x07"},
    {"date_from": "9999-12-31T23:59:59-05:00"},
]


def test_bad_filters_are_422(api: Api) -> None:
    for query in BAD_FILTERS:
        result = search(api, **query)
        assert (result.status, result.body["code"]) == (422, "VALIDATION_FAILED"), (query, result.body)


def test_a_venue_filter_too_long_to_key_once_folded_is_422_naming_it(api: Api) -> None:
    result = search(api, venue="\ufdfa" * 200)
    assert (result.status, result.body["code"]) == (422, "VALIDATION_FAILED"), result.body
    assert [e["field"] for e in result.body["errors"]] == ["venue"]


def test_a_word_filter_is_keyed_by_a_bounded_prefix_however_far_it_folds(api: Api) -> None:
    # A query word is looked up by its first MAX_PREFIX letters, so no q is too long to key.
    assert names(api, q="\ufdfa" * 200) == []


def test_hostile_queries_are_harmless(api: Api, programme: dict[str, dict[str, Any]]) -> None:
    for q in ["' OR 1=1 --", "<script>alert(1)</script>", "%00", "東京", "🎻 beeth", "\\", "*", "beeth*"]:
        result = search(api, q=q)
        assert result.status in (200, 422), (q, result.body)
    assert names(api, q="<script>beeth") == []  # "script" and "beeth" must both match


def test_limit_defaults_to_20_and_pages_follow_the_cursor(api: Api) -> None:
    stock(*({"name": f"Concert {day}", "starts_at": future(day)} for day in range(1, 24)))
    first = search(api).body
    assert len(first["items"]) == 20
    assert first["next_cursor"]
    rest = search(api, cursor=first["next_cursor"]).body
    assert [e["name"] for e in rest["items"]] == ["Concert 21", "Concert 22", "Concert 23"]
    assert rest["next_cursor"] is None


def test_walking_pages_sees_every_event_once_while_events_are_added(api: Api, admin: str) -> None:
    rng = random.Random(7)
    original = {
        e["id"] for e in stock(*({"name": f"Gig {i}", "starts_at": future(rng.uniform(1, 100))} for i in range(40)))
    }
    seen: list[dict[str, Any]] = []
    added_ahead: set[str] = set()
    cursor = None
    while True:
        page = search(api, limit=6, **({"cursor": cursor} if cursor else {})).body
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # New events land both behind the position reached and ahead of it.
        for days in (rng.uniform(1, 100), rng.uniform(1, 100)):
            event = create(api, admin, name="Late addition", starts_at=future(days))
            if event["starts_at"] > seen[-1]["starts_at"]:
                added_ahead.add(event["id"])
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), "an event was listed twice"
    assert original <= set(ids), "an event was skipped"
    assert added_ahead <= set(ids), "an event added ahead of the cursor was skipped"
    assert [e["starts_at"] for e in seen] == sorted(e["starts_at"] for e in seen)


def test_cursors_are_bound_to_their_query_and_cannot_be_forged(api: Api) -> None:
    stock(*({"name": f"Recital {day}", "venue": "Wigmore Hall", "starts_at": future(day)} for day in range(1, 6)))
    cursor = search(api, q="recital", limit=2).body["next_cursor"]
    assert search(api, q="recital", limit=3, cursor=cursor).status == 200  # the limit may change
    encoded, _, mac = cursor.partition(".")
    forged = [
        cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"),
        encoded[:-2] + "xx." + mac,
        "not-a-cursor",
        ".",
        "",
        "x" * 2048,
        "é" * 50,
    ]
    for bad in forged:
        result = search(api, q="recital", limit=2, cursor=bad)
        assert (result.status, result.body["code"]) == (422, "INVALID_CURSOR"), bad
    for other in [
        {"q": "recitals"},
        {},
        {"q": "recital", "venue": "Wigmore Hall"},
        {"q": "recital", "date_to": "2099-01-01"},
    ]:
        result = search(api, limit=2, cursor=cursor, **other)
        assert (result.status, result.body["code"]) == (422, "INVALID_CURSOR"), other


def test_deleted_and_renamed_events_leave_no_trace_in_search(api: Api, admin: str) -> None:
    kept = create(api, admin, name="Brahms Evening", starts_at=future(2))
    renamed = create(api, admin, name="Brahms Matinee", starts_at=future(3))
    deleted = create(api, admin, name="Brahms Late Show", starts_at=future(4))
    api.call("update_event", token=admin, path={"event_id": renamed["id"]}, body={"name": "Schubert Matinee"})
    api.call("delete_event", token=admin, path={"event_id": deleted["id"]})
    assert [e["id"] for e in walk(api, q="brahms", limit=1)] == [kept["id"]]
    assert [e["id"] for e in walk(api, q="matinee")] == [renamed["id"]]


def test_every_search_is_a_query_reading_at_most_three_items_per_event_returned(api: Api) -> None:
    # The index entry (a projection of the event, or a word entry and the event), and its quota item.
    rng = random.Random(3)
    vocabulary = ["Jazz", "Opera", "Gala", "Quartet", "Festival", "Choir"]
    venues = [f"Hall {n}" for n in range(5)]
    starts = [future(rng.uniform(1, 21)) for _ in range(100)]
    stock(
        *(
            {"name": f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}", "venue": rng.choice(venues), "starts_at": s}
            for s in starts
        )
    )
    week = {"date_from": future(7)[:10], "date_to": future(13)[:10]}
    # A date is a local date at each venue: the search also reads the events starting in the 14 hours
    # before the first day and the 12 hours after the last (UTC), in case their zones put them inside.
    first = datetime.fromisoformat(week["date_from"] + "T00:00:00+00:00")
    last = datetime.fromisoformat(week["date_to"] + "T00:00:00+00:00") + timedelta(days=1)
    margins = sum(
        first - timedelta(hours=14) <= datetime.fromisoformat(s) < first
        or last <= datetime.fromisoformat(s) <= last + timedelta(hours=12)
        for s in starts
    )
    for query in [{}, {"venue": "hall 3"}, week, {"q": "opera"}, {"q": "qua"}, {**week, "venue": "Hall 1"}]:
        with count_calls() as calls:
            result = search(api, limit=5, **query)
        returned = len(result.body["items"])
        assert returned > 0, query
        assert set(calls.operations) <= {"Query", "BatchGetItem"}, (query, calls.operations)
        dated = "date_from" in query
        assert calls.operations["Query"] <= 1 + dated, (query, calls.operations)
        per_event = 3 if "q" in query else 2
        assert calls.items_read <= per_event * returned + dated * 2 * margins, (query, calls.items_read, margins)


def test_a_sparse_combination_answers_short_pages_with_a_cursor_instead_of_reading_on(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.store import search as index

    monkeypatch.setattr(index, "MAX_EXAMINED", 4)
    hall = "Wigmore Hall"
    stock(*({"name": f"Song Recital {day}", "venue": hall, "starts_at": future(day)} for day in range(1, 12)))
    rare = stock({"name": "Rare Lute Songs", "venue": hall, "starts_at": future(20)})[0]
    with count_calls() as calls:
        first = search(api, q="lute", venue=hall, limit=1).body
    assert (first["items"], calls.items_read) == ([], 7)  # Queries of 1, 2 and 4 items, then it stops
    assert first["next_cursor"]
    assert [e["id"] for e in walk(api, q="lute", venue=hall, limit=1)] == [rare["id"]]
