"""The word index follows every write: names too long for one transaction, renames, deletes, lost races."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from boxoffice.config import settings
from boxoffice.errors import EventNotFound
from boxoffice.store import dynamo
from boxoffice.store import events as store
from tests.support.events import create, event_body, revoke, token_for
from tests.support.handlers import Api

# 25 distinct seven-letter words (199 characters): 175 prefixes, more than one transaction can carry.
LONG_NAME = " ".join(chr(ord("a") + i) * 7 for i in range(25))
LONG_ENTRIES = 25 * 7


@pytest.fixture
def admin(api: Api) -> str:
    return token_for(api, role="admin")


def word_entries() -> list[dict[str, Any]]:
    # A test may Scan: it checks what no request path can see.
    raw = dynamo.client().scan(TableName=settings().events_table)
    return [item for item in map(dynamo.load, raw["Items"]) if item["pk"].startswith("WORD#")]


def found(api: Api, q: str) -> list[str]:
    return [e["id"] for e in api.call("list_events", query={"q": q}).body["items"]]


def test_every_prefix_of_every_word_is_indexed_even_beyond_one_transaction(api: Api, admin: str) -> None:
    event = create(api, admin, name=LONG_NAME)
    assert len(word_entries()) == LONG_ENTRIES
    assert found(api, "yyyyyyy") == found(api, "a") == found(api, "mmm") == [event["id"]]


def test_renaming_swaps_the_entries_and_deleting_removes_them(api: Api, admin: str) -> None:
    event = create(api, admin, name=LONG_NAME)
    path = {"event_id": event["id"]}
    assert api.call("update_event", token=admin, path=path, body={"name": "Opera Gala"}).status == 200
    assert sorted(e["pk"] for e in word_entries()) == sorted(
        f"WORD#{p}" for p in ["o", "op", "ope", "oper", "opera", "g", "ga", "gal", "gala"]
    )
    assert found(api, "yyy") == []
    assert api.call("update_event", token=admin, path=path, body={"name": LONG_NAME}).status == 200
    assert len(word_entries()) == LONG_ENTRIES
    assert api.call("delete_event", token=admin, path=path).status == 204
    assert word_entries() == []


def test_moving_the_start_moves_every_entry(api: Api, admin: str) -> None:
    event = create(api, admin, name="Opera Gala", starts_at="2031-01-01T19:00:00Z")
    path = {"event_id": event["id"]}
    assert api.call("update_event", token=admin, path=path, body={"starts_at": "2031-02-01T19:00:00Z"}).status == 200
    assert {e["sk"][:10] for e in word_entries()} == {"2031-02-01"}
    assert found(api, "gala") == [event["id"]]


def test_a_create_refused_for_a_revoked_token_leaves_no_entries_behind(api: Api) -> None:
    token = token_for(api, role="admin")
    revoke(api, token)
    result = api.call("create_event", token=token, body=event_body(name=LONG_NAME))
    assert result.status == 401
    assert word_entries() == []


def test_a_lost_race_takes_back_the_entries_it_added(api: Api, admin: str) -> None:
    event = create(api, admin, name="Opera Gala")
    read = store.get(event["id"])
    assert read is not None
    assert api.call("delete_event", token=admin, path={"event_id": event["id"]}).status == 204
    # An edit that read the event before the delete: its condition fails, its early entries go.
    with pytest.raises(EventNotFound):
        store.update(read, dataclasses.replace(read, name=LONG_NAME), before_start=False)
    assert word_entries() == []


def test_stale_entries_never_surface(api: Api, admin: str) -> None:
    event = create(api, admin, name="Opera Gala")
    dead = create(api, admin, name="Opera Night")
    # Entries left behind by a crash between writes: one for a deleted event, one for an old name.
    api.call("delete_event", token=admin, path={"event_id": dead["id"]})
    live = store.get(event["id"])
    assert live is not None
    stale = [
        ("WORD#opera", dead["starts_at"].replace("Z", "+00:00") + "#" + dead["id"]),
        ("WORD#zebra", live.starts_key),
    ]
    for pk, sk in stale:
        dynamo.client().put_item(TableName=settings().events_table, Item=dynamo.dump({"pk": pk, "sk": sk}))
    assert found(api, "opera") == [event["id"]]
    assert found(api, "zebra") == []


def test_an_event_with_two_entries_in_one_word_partition_is_found_once(api: Api, admin: str) -> None:
    event = create(api, admin, name="Opera Gala")
    live = store.get(event["id"])
    assert live is not None
    # A stale entry for the same event (its start after a reschedule) beside the live one: one
    # page reads both, and BatchGetItem would refuse the event's key twice.
    later = "2999" + live.starts_key[4:]
    dynamo.client().put_item(TableName=settings().events_table, Item=dynamo.dump({"pk": "WORD#opera", "sk": later}))
    result = api.call("list_events", query={"q": "opera"})
    assert result.status == 200, result.body
    assert [e["id"] for e in result.body["items"]] == [event["id"]]
