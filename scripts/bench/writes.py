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
from typing import TYPE_CHECKING, Any

from devserver.invoke import Api
from scripts.bench.common import local_stack, sent_transactions, table

if TYPE_CHECKING:
    from boxoffice.vocabulary import Role

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
            # Within the hour: its doors are open for the check-in measured below (the default window).
            "starts_at": (clock.now() + timedelta(hours=1)).replace(microsecond=0).isoformat(),
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


def _bill(sent: list[dict[str, Any]]) -> tuple[list[list[str]], dict[str, int], int]:
    """Each sent action's item as stored now, its size and write units; units per partition; the total."""
    from boxoffice.config import settings
    from boxoffice.store import dynamo

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
        # A ConditionCheck of an absent item (a wrong-code window never opened) is billed as the smallest.
        stored = request.get("Item") or dynamo.client().get_item(
            TableName=request["TableName"], Key=request["Key"], ConsistentRead=True
        ).get("Item", request.get("Key"))
        size = item_size(stored)
        units = transaction_units(size)
        total += units
        partition = f"{tables[request['TableName']]} {stored['pk']['S']}"
        per_partition[partition] += units
        rows.append([kind, stored["sk"]["S"].split("#")[0] if "sk" in stored else "account", str(size), str(units)])
    return rows, dict(per_partition), total


def _account(role: Role, email: str) -> str:
    from boxoffice import auth
    from boxoffice.logic import accounts

    user = accounts.create_account(WIDE * 100, email, "bench-password", role=role)
    return auth.issue_token(user.id, role, 0)[0]


def _book(quantity: int, idempotent: bool) -> tuple[list[list[str]], dict[str, int], int, int]:
    """One booking of `quantity` through the real handler: its actions' units, per partition, and the
    descriptive item's size (which no booking writes)."""
    from boxoffice.config import settings
    from boxoffice.store import dynamo
    from boxoffice.vocabulary import Role

    event_id, type_id = _largest_event()
    token = _account(Role.USER, f"writes-{quantity}-{idempotent}@example.com")
    headers = {"Idempotency-Key": "k" * 255} if idempotent else None
    body = {"quantity": quantity, "ticket_type_id": type_id}
    with sent_transactions() as sent:
        result = Api().call("create_booking", token=token, path={"event_id": event_id}, body=body, headers=headers)
    assert result.status == 201, result.body
    described = dynamo.client().get_item(
        TableName=settings().events_table, Key={"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": "EVENT"}}
    )["Item"]
    return *_bill(sent), item_size(described)


def _check_in() -> tuple[list[list[str]], dict[str, int], int, int]:
    """One check-in through the real handler, of a ticket of the largest event, whose every count shard
    already counts all 20 types, with six digits each (the largest a shard gets)."""
    from boxoffice.config import settings
    from boxoffice.logic import events
    from boxoffice.store import dynamo, tickets
    from boxoffice.vocabulary import Role

    event_id, type_id = _largest_event()
    kinds = events.get_event(event_id).ticket_types
    names = {f"#t{n}": tickets.type_counter(t.id) for n, t in enumerate(kinds)}
    for shard in tickets.checkin_shard_keys(event_id):
        dynamo.client().update_item(
            TableName=settings().tickets_table,
            Key=dynamo.dump(shard),
            UpdateExpression="SET checked_in = :many, " + ", ".join(f"{name} = :many" for name in names),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=dynamo.values(many=999_999),
        )
    buyer, staff = _account(Role.USER, "writes-door-buyer@example.com"), _account(Role.STAFF, "writes-door@example.com")
    path = {"event_id": event_id}
    made = Api().call("create_booking", token=buyer, path=path, body={"quantity": 1, "ticket_type_id": type_id})
    assert made.status == 201, made.body
    with sent_transactions() as sent:
        result = Api().call("check_in", token=staff, path=path, body={"code": made.body["tickets"][0]["code"]})
    assert result.status == 200, result.body
    return *_bill(sent), len(kinds[-1].name.encode())


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
        door = _check_in()
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
    rows, partitions, total, name = door
    out.append("Write units of one check-in, largest event allowed, every count shard counting all 20 types")
    out.append(table(["action", "item", "bytes", "write units"], rows))
    tickets = next(units for p, units in partitions.items() if p.startswith("tickets "))
    ticket = next(int(r[2]) for r in rows if r[1] == "TICKET")
    out.append(
        f"total {total} WCU; tickets table partition {tickets} WCU -> {PARTITION_WCU // tickets} check-ins/s per "
        "event (the ticket and its count shard share the event's partition).\n"
        f"A ticket copies its type's name (here {name} bytes, the longest allowed), so that the door answers "
        f"without another read: a name of up to {KB - (ticket - name)} bytes keeps the ticket within 1 KB "
        "(2 WCU a write instead of 4).\n"
    )
    return "\n".join(out)


if __name__ == "__main__":
    print(run())
