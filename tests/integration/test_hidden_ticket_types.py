"""Hidden ticket types (issue 22): left out of the public, cacheable event reads; shown to admins, with
`hidden: true`, in the answers of their own writes and in the event's stats."""

from __future__ import annotations

from typing import Any

from tests.support.events import create, token_for
from tests.support.handlers import Api

PRESS = {"name": "Press", "price": "0.00", "hidden": True}
ADULT = {"name": "Adult", "price": "30.00"}


def public_types(api: Api, event_id: str) -> tuple[list[str], str]:
    event = api.call("get_event", path={"event_id": event_id}).body
    return [t["name"] for t in event["ticket_types"]], event["ticket_price"]


def listed_types(api: Api, event_id: str) -> list[str]:
    page = api.call("list_events", query={"limit": "100"}).body
    event: dict[str, Any] = next(e for e in page["items"] if e["id"] == event_id)
    return [t["name"] for t in event["ticket_types"]]


def test_a_hidden_type_is_shown_to_the_admin_and_left_out_of_public_reads(api: Api) -> None:
    admin = token_for(api, role="admin")
    made = create(api, admin, ticket_price=None, ticket_types=[ADULT, PRESS])
    assert [(t["name"], t["hidden"]) for t in made["ticket_types"]] == [("Adult", False), ("Press", True)]
    assert made["ticket_price"] == "30.00"  # the "from" price of what the public can see
    assert public_types(api, made["id"]) == (["Adult"], "30.00")
    assert listed_types(api, made["id"]) == ["Adult"]
    stats = api.call("event_stats", token=admin, path={"event_id": made["id"]}).body
    assert [(t["name"], t["hidden"]) for t in stats["ticket_types"]] == [("Adult", False), ("Press", True)]


def test_an_admin_hides_and_shows_a_type_by_patching_it(api: Api) -> None:
    admin = token_for(api, role="admin")
    event = create(api, admin)
    path = {"event_id": event["id"]}
    vip = api.call("create_ticket_type", token=admin, path=path, body={"name": "VIP", "price": "90", "hidden": True})
    assert (vip.status, vip.body["hidden"]) == (201, True)
    assert public_types(api, event["id"])[0] == ["General admission"]
    typed = {**path, "ticket_type_id": vip.body["id"]}
    shown = api.call("update_ticket_type", token=admin, path=typed, body={"hidden": False})
    assert (shown.status, shown.body["hidden"]) == (200, False)
    assert public_types(api, event["id"])[0] == ["General admission", "VIP"]
    for bad in ("yes", None, 1):
        result = api.call("update_ticket_type", token=admin, path=typed, body={"hidden": bad})
        assert (result.status, result.body["errors"][0]["field"]) == (422, "hidden"), bad
    assert public_types(api, event["id"])[0] == ["General admission", "VIP"]


def test_an_event_whose_types_are_all_hidden_shows_none_and_the_lowest_price(api: Api) -> None:
    admin = token_for(api, role="admin")
    made = create(api, admin, ticket_price=None, ticket_types=[PRESS, {**ADULT, "hidden": True}])
    assert public_types(api, made["id"]) == ([], "0.00")
