"""Events stored before ticket types (the v1 shape: counters on the event item), moved to today's items
on first use. How and why: docs/data-model.md, "events"."""

from __future__ import annotations

from contextlib import suppress

from boxoffice.store import dynamo
from boxoffice.store.dynamo import Failed, Transaction, dump, events_table, values
from boxoffice.store.event_items import counter_puts, definition, describe, event_key, is_legacy


def upgrade(event_id: str) -> bool:
    """Move an event stored before ticket types (counters on the event item) to today's items, once.

    One transaction: the event item loses its counters and gains its one "General admission" type, and
    the quota and type counter items are put with the counts it had. It holds only while the event item
    still has those counts, so a sale in between makes it fail; the caller reads again either way.
    Returns whether the event was in the old shape.
    """
    item = dynamo.get(events_table(), event_key(event_id))
    if item is None or not is_legacy(item):
        return False
    event = describe(item)
    tx = Transaction()
    tx.add(
        "event",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(event_key(event_id)),
                "UpdateExpression": "SET ticket_types = :types, #tz = :tz"
                " REMOVE total_tickets, available_tickets, ticket_price",
                "ConditionExpression": "attribute_not_exists(ticket_types) AND total_tickets = :total"
                " AND available_tickets = :available",
                "ExpressionAttributeNames": {"#tz": "timezone"},
                "ExpressionAttributeValues": values(
                    types={t.id: definition(t, n) for n, t in enumerate(event.ticket_types)},
                    tz=event.timezone,
                    total=event.total_tickets,
                    available=event.available_tickets,
                ),
            }
        },
    )
    counter_puts(tx, event)
    with suppress(Failed):  # upgraded by a racing request, or sold meanwhile: either way the caller reads again
        tx.commit()
    return True
