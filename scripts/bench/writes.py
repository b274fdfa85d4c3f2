"""Write units per booking, from item sizes by DynamoDB's rules, for the largest event allowed; and the
per-event ceiling that implies at the 1,000 write units a second one partition takes.

DynamoDB bills a write by the larger of the item's old and new size, per started KB, and twice inside a
transaction; a ConditionCheck is billed as a write of the item it checks. The actions are the ones the
real handler sends (captured on the wire), sized as they are stored after the booking.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from devserver.invoke import Api
from scripts.bench.common import local_stack, sent_transactions, table

PARTITION_WCU = 1000  # per second, DynamoDB's limit for one partition
KB = 1024
WIDE = "\U0001d11e"  # 4 bytes in UTF-8: the most a character of a name or description can weigh


def number_size(text: str) -> int:
    """About one byte per two significant digits, plus one (DynamoDB's documented rule)."""
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0].strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(number_size(n) for n in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    raise ValueError(kind)


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """An item's size: every attribute's name and value (typed, as on the wire)."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def transaction_units(size: int) -> int:
    return 2 * max(1, math.ceil(size / KB))


def _largest_event() -> tuple[str, str]:
    """The largest event the API accepts, by bytes: every text at its longest in 4-byte characters, 20 types."""
    from boxoffice import clock
    from boxoffice.logic import events
    from boxoffice.models.events import CreateEvent

    types = [
        {"name": f"{n:02d}" + WIDE * 98, "description": WIDE * 1000, "price": "999999.99", "total_tickets": 1_000_000}
        for n in range(20)
    ]
    request = CreateEvent.model_validate(
        {
            "name": WIDE * 200,
            "description": WIDE * 5000,
            "venue": WIDE * 200,
            "starts_at": (clock.now() + timedelta(days=30)).replace(microsecond=0).isoformat(),
            "timezone": "America/Argentina/ComodRivadavia",
            "total_tickets": 1_000_000,
            "currency": "EUR",
            "max_tickets_per_booking": 50,
            "max_tickets_per_user": 1_000_000,
            "ticket_types": types,
        }
    )
    event = events.add_event(request)
    return event.id, event.ticket_types[-1].id


def _book(quantity: int, idempotent: bool) -> tuple[list[list[str]], dict[str, int], int, int]:
    """One booking of `quantity` through the real handler: its actions' units, per partition, and the
    descriptive item's size (which no booking writes)."""
    from boxoffice import auth
    from boxoffice.config import settings
    from boxoffice.logic import accounts
    from boxoffice.store import dynamo

    event_id, type_id = _largest_event()
    user = accounts.create_account(WIDE * 100, f"writes-{quantity}-{idempotent}@example.com", "bench-password")
    token = auth.issue_token(user.id, "user", 0)[0]
    headers = {"Idempotency-Key": "k" * 255} if idempotent else None
    body = {"quantity": quantity, "ticket_type_id": type_id}
    with sent_transactions() as sent:
        result = Api().call("create_booking", token=token, path={"event_id": event_id}, body=body, headers=headers)
    assert result.status == 201, result.body
    config = settings()
    tables = {
        config.users_table: "users",
        config.events_table: "events",
        config.bookings_table: "bookings",
        config.tickets_table: "tickets",
    }
    rows: list[list[str]] = []
    per_partition: dict[str, int] = defaultdict(int)
    total = 0
    for action in sent:
        (kind, request), *_ = action.items()
        stored = (
            request.get("Item")
            or dynamo.client().get_item(TableName=request["TableName"], Key=request["Key"], ConsistentRead=True)["Item"]
        )
        size = item_size(stored)
        units = transaction_units(size)
        total += units
        partition = f"{tables[request['TableName']]} {stored['pk']['S']}"
        per_partition[partition] += units
        rows.append([kind, stored["sk"]["S"].split("#")[0] if "sk" in stored else "account", str(size), str(units)])
    described = dynamo.client().get_item(
        TableName=settings().events_table, Key={"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": "EVENT"}}
    )["Item"]
    return rows, dict(per_partition), total, item_size(described)


def _summary(rows: list[list[str]]) -> list[list[str]]:
    """Ticket puts folded into one row."""
    tickets = [r for r in rows if r[1] == "TICKET"]
    others = [r for r in rows if r[1] != "TICKET"]
    if tickets:
        each = tickets[0]
        others.append([each[0], f"TICKET x{len(tickets)}", each[2], str(sum(int(r[3]) for r in tickets))])
    return others


def run() -> str:
    with local_stack():
        one = _book(1, idempotent=False)
        fifty = _book(50, idempotent=True)
    out = []
    for label, (rows, partitions, total, described) in (("1 ticket", one), ("50 tickets + Idempotency-Key", fifty)):
        out.append(f"Write units of one booking ({label}), largest event allowed")
        out.append(table(["action", "item", "bytes", "write units"], _summary(rows)))
        out.append(f"{len(rows)} actions in the transaction (DynamoDB allows 100)")
        hot = next(units for p, units in partitions.items() if p.startswith("events "))
        tickets = next(units for p, units in partitions.items() if p.startswith("tickets "))
        out.append(
            f"total {total} WCU; on the event's partition of the events table {hot} WCU per booking -> ceiling "
            f"{PARTITION_WCU // hot} bookings/s per event; tickets table partition {tickets} WCU -> "
            f"{PARTITION_WCU * int(label.split()[0]) // max(tickets, 1)} tickets/s per event.\n"
            f"The event's descriptive item ({described} bytes: {transaction_units(described)} WCU if a booking "
            f"rewrote it, as before ticket types, capping an event at {PARTITION_WCU // transaction_units(described)} "
            "bookings/s) is not written.\n"
        )
    return "\n".join(out)


if __name__ == "__main__":
    print(run())
