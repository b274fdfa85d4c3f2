"""An event's tickets, and their by_update entries, spread over partitions: no partition takes every
ticket of an on-sale (docs/data-model.md, "The partition bill")."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

from boxoffice import ids
from boxoffice.records import BookedType
from boxoffice.store import tickets
from boxoffice.store.dynamo import load
from devserver import template

EVENT = str(uuid.uuid4())
AT = datetime(2026, 12, 7, 10, tzinfo=UTC)


def stored(number: str) -> dict[str, str]:
    """The ticket as a booking's transaction puts it."""
    put = tickets.put_action(
        EVENT, number, code="c", booking_id="b", user_id="u", ticket_type=BookedType("t", "General admission"), at=AT
    )
    return load(put["Put"]["Item"])


def test_a_thousand_tickets_of_one_event_land_on_every_shard_none_far_above_its_share() -> None:
    partitions = Counter(stored(ids.new_ticket_number())["pk"] for _ in range(1000))
    assert set(partitions) == set(tickets.partitions(EVENT)) - {f"EVENT#{EVENT}"}
    # 1000 / 32 = 31 on average; 2x that is over 5 standard deviations out.
    assert max(partitions.values()) <= 2 * 1000 // tickets.TICKET_SHARDS


def test_the_change_index_is_keyed_by_the_same_spread_partition() -> None:
    [index] = template.load()["Resources"]["TicketsTable"]["Properties"]["GlobalSecondaryIndexes"]
    hash_key = {"AttributeName": "pk", "KeyType": "HASH"}
    assert (index["IndexName"], index["KeySchema"][0]) == (tickets.BY_UPDATE, hash_key)


def test_a_ticket_is_found_by_its_number_alone_and_before_spreading_under_the_events_own_key() -> None:
    number = ids.new_ticket_number()
    assert tickets.key(EVENT, number, spread=True) == {"pk": stored(number)["pk"], "sk": f"TICKET#{number}"}
    assert tickets.key(EVENT, number, spread=False) == {"pk": f"EVENT#{EVENT}", "sk": f"TICKET#{number}"}
    assert tickets.ticket_of(stored(number)).spread
    assert not tickets.ticket_of({**stored(number), "pk": f"EVENT#{EVENT}"}).spread
