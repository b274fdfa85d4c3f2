"""Bookings tests' helpers: accounts with tokens, events made by the events domain, and each event's ledger."""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from multiprocessing.pool import Pool, ThreadPool
from typing import Any

from tests.support.fixtures import serialised_moto
from tests.support.handlers import Api, Result

_serial = itertools.count()
# An event starting this soon has its doors open (the default door window opens 6 h before the start).
AT_THE_DOOR = timedelta(hours=1)


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    password: str
    token: str


def new_account(role: str = "user") -> Account:
    """An account straight through the accounts domain (no HTTP), with a fresh token."""
    from boxoffice import auth
    from boxoffice.logic import accounts

    email = f"booker-{next(_serial)}-{os.getpid()}@example.com"
    password = "correct horse battery"
    user = accounts.create_account("Booker", email, password, role=role)
    token, _ = auth.issue_token(user.id, role, 0)
    return Account(user.id, email, password, token)


def new_event(
    *,
    total: int = 100,
    price: str = "25.00",
    per_booking: int = 10,
    starts_in: timedelta = timedelta(days=30),
    name: str = "Moonlight Sonata",
    venue: str = "Royal Hall",
    types: list[dict[str, Any]] | None = None,
    per_user: int | None = None,
    **fields: Any,
) -> str:
    """An event created by the events domain, as an operator would; returns its id. Without `types`, it has
    one "General admission" type at `price`; `fields` are any other fields of POST /events."""
    from boxoffice import clock
    from boxoffice.logic import events
    from scripts.bench.common import event_request

    request = event_request(
        {
            "name": name,
            "venue": venue,
            "starts_at": (clock.now() + starts_in).replace(microsecond=0).isoformat(),
            "total_tickets": total,
            **({"ticket_types": types} if types is not None else {"ticket_price": Decimal(price)}),
            "currency": "EUR",
            "max_tickets_per_booking": per_booking,
            "max_tickets_per_user": per_user,
            **fields,
        }
    )
    return events.add_event(request).id


def type_ids(event_id: str) -> dict[str, str]:
    """The event's ticket type ids by name."""
    from boxoffice.logic import events

    return {t.name: t.id for t in events.get_event(event_id).ticket_types}


@dataclass(frozen=True)
class TypeLedger:
    """A ticket type's counters beside what its confirmed bookings say was sold."""

    sold: int
    total: int | None
    available: int | None
    confirmed_quantity: int

    @property
    def balanced(self) -> bool:
        counted = self.total is None or (self.available is not None and self.available + self.sold == self.total)
        return counted and self.sold == self.confirmed_quantity and (self.available or 0) >= 0


@dataclass(frozen=True)
class Ledger:
    """An event's counters beside what its tickets and bookings say was sold, overall and per type."""

    total: int
    available: int
    sold: int
    status: str
    valid_tickets: int
    confirmed_quantity: int  # summed over CONFIRMED bookings of the event
    ticket_numbers: list[str]
    types: dict[str, TypeLedger]

    @property
    def balanced(self) -> bool:
        return (
            self.available + self.valid_tickets == self.total
            and self.sold == self.valid_tickets == self.confirmed_quantity
            and self.available >= 0
            and all(t.balanced for t in self.types.values())
            and sum(t.sold for t in self.types.values()) == self.sold
        )


def _scan(table: str, **params: Any) -> list[dict[str, Any]]:
    from boxoffice.store import dynamo

    items: list[dict[str, Any]] = []
    start: dict[str, Any] = {}
    while True:
        raw = dynamo.client().scan(TableName=table, ConsistentRead=True, **params, **start)
        items += [dynamo.load(i) for i in raw.get("Items", [])]
        if "LastEvaluatedKey" not in raw:
            return items
        start = {"ExclusiveStartKey": raw["LastEvaluatedKey"]}


def ledger(event_id: str) -> Ledger:
    """Read straight from the tables (a test may Scan; the API never does)."""
    from boxoffice.config import settings
    from boxoffice.records import legacy_type_id
    from boxoffice.store import dynamo

    quota = dynamo.get(settings().events_table, {"pk": f"EVENT#{event_id}", "sk": "QUOTA"})
    assert quota is not None
    counters = [c for c in _scan(settings().events_table) if c["pk"] == f"EVENT#{event_id}"]
    tickets = [t for t in _scan(settings().tickets_table) if t.get("event_id") == event_id]  # not count shards
    bookings = by_line(
        b for b in _scan(settings().bookings_table) if b.get("event_id") == event_id and b["sk"].startswith("BOOKING#")
    )
    confirmed = [b for b in bookings if b["status"] == "CONFIRMED"]

    def type_of(booking: dict[str, Any]) -> str:
        return str(booking.get("ticket_type_id") or legacy_type_id(event_id))  # v1 bookings have none

    types = {
        c["sk"].removeprefix("TYPE#"): TypeLedger(
            sold=int(c["sold"]),
            total=int(c["total_tickets"]) if "total_tickets" in c else None,
            available=int(c["available_tickets"]) if "available_tickets" in c else None,
            confirmed_quantity=sum(int(b["quantity"]) for b in confirmed if type_of(b) == c["sk"][5:]),
        )
        for c in counters
        if c["sk"].startswith("TYPE#")
    }
    return Ledger(
        total=int(quota["total_tickets"]),
        available=int(quota["available_tickets"]),
        sold=int(quota["sold"]),
        status=quota["status"],
        valid_tickets=sum(t["status"] == "VALID" for t in tickets),
        confirmed_quantity=sum(int(b["quantity"]) for b in confirmed),
        ticket_numbers=[t["ticket_number"] for t in tickets],
        types=types,
    )


def put_bookings(user_id: str, event_ids: list[str]) -> list[str]:
    """One confirmed single-ticket booking per event, written straight by BatchWriteItem (far faster
    than moto's transactions, which copy every table); returns their ids, oldest first. The events'
    counters do not move: for tests of reading bookings only."""
    from boxoffice import clock
    from boxoffice.config import settings
    from boxoffice.ids import new_booking_id, new_ticket_number
    from boxoffice.records import BookingRecord, EventSnapshot
    from boxoffice.store import bookings, dynamo, events
    from boxoffice.vocabulary import BookingStatus

    start = clock.now()
    records = []
    for n, event_id in enumerate(event_ids):
        event = events.get(event_id)
        assert event is not None
        moment = start + timedelta(milliseconds=n)  # ids sort by their millisecond
        kind = event.ticket_types[0]
        records.append(
            BookingRecord(
                id=new_booking_id(moment),
                user_id=user_id,
                event_id=event_id,
                ticket_type_id=kind.id,
                ticket_type_name=kind.name,
                ticket_type_quota=kind.total_tickets is not None,
                counted=True,
                quantity=1,
                ticket_numbers=(new_ticket_number(),),
                unit_price=kind.price,
                total_price=kind.price,
                currency=event.currency,
                status=BookingStatus.CONFIRMED,
                created_at=moment,
                cancelled_at=None,
                event=EventSnapshot.of(event),
            )
        )
    items = [{"pk": f"USER#{user_id}", "sk": f"BOOKING#{r.id}", **bookings.booking_attributes(r)} for r in records]
    for chunk in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": dynamo.dump(i)}} for i in items[chunk : chunk + 25]]
        dynamo.client().batch_write_item(RequestItems={settings().bookings_table: requests})
    return [r.id for r in records]


def bookings_of(user_id: str) -> list[dict[str, Any]]:
    """The user's booking items (not their Idempotency-Keys)."""
    from boxoffice.config import settings

    items = _scan(settings().bookings_table)
    return [b for b in items if b["pk"] == f"USER#{user_id}" and b["sk"].startswith("BOOKING#")]


@contextmanager
def lambda_pool(prefix: str, workers: int) -> Iterator[Pool]:
    """`workers` threads that call the handlers, over moto with every call serialised.

    Each call takes a function instance of its own from the local runtime's pool (one request per
    instance, as each Lambda execution environment serves one), and the runtime keeps Powertools'
    per-request state per thread (devserver/isolation.py), so no two calls share a request context.
    """
    with serialised_moto(prefix), ThreadPool(workers) as pool:
        yield pool


def call(name: str, kwargs: dict[str, Any]) -> Result:
    """One handler call (in a pool thread): Api().call(name, **kwargs)."""
    return Api().call(name, **kwargs)


def by_line(bookings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The booking items with each booking of several lines as one item per line (its type, the tickets it
    keeps, their price, and its code's id if they count in its uses), as a booking of one type is stored."""
    found = []
    for booking in bookings:
        cancelled = set(booking.get("cancelled_tickets") or ())
        for line in booking.get("lines") or ():
            kept = [n for n in line["ticket_numbers"] if n not in cancelled]
            net = Decimal(line["unit_price"]) - Decimal(line.get("unit_discount") or 0)
            found.append(
                {
                    **booking,
                    "ticket_type_id": line["ticket_type_id"],
                    "quantity": len(kept),
                    "total_price": net * len(kept),
                    "unit_discount": line.get("unit_discount"),
                    "promo_code_id": booking.get("promo_code_id") if line.get("promo_counted") else None,
                }
            )
        if not booking.get("lines"):
            found.append(booking)
    return found


def _revenue(bookings: list[dict[str, Any]]) -> dict[str, str]:
    """What the bookings paid, net of cancellations, by currency (a currency whose bookings were all
    cancelled shows 0)."""
    from decimal import Decimal

    revenue: dict[str, Decimal] = {}
    for booking in bookings:
        paid = Decimal(booking["total_price"]) if booking["status"] == "CONFIRMED" else Decimal(0)
        revenue[booking["currency"]] = revenue.get(booking["currency"], Decimal(0)) + paid
    return {currency: f"{amount:.2f}" for currency, amount in sorted(revenue.items())}


def _counts(
    tickets: list[dict[str, Any]], bookings: list[dict[str, Any]], holds: list[dict[str, Any]]
) -> dict[str, Any]:
    statuses = Counter(t["status"] for t in tickets)
    return {
        "sold": statuses["VALID"] + statuses["CHECKED_IN"],
        "held": sum(int(h["quantity"]) for h in holds if h["status"] == "HELD"),
        "checked_in": statuses["CHECKED_IN"],
        "cancelled": statuses["CANCELLED"],
        "revenue": _revenue(bookings),
    }


def recount(event_id: str) -> dict[str, Any]:
    """An event's stats counted from its tickets and bookings themselves, in total and per ticket type (each
    ticket is of its booking's type). A test may Scan; the API never does."""
    from boxoffice.config import settings
    from boxoffice.records import legacy_type_id
    from boxoffice.store import events

    tickets = [t for t in _scan(settings().tickets_table) if t.get("event_id") == event_id]
    items = [i for i in _scan(settings().bookings_table) if i.get("event_id") == event_id]
    bookings = by_line(b for b in items if b["sk"].startswith("BOOKING#"))
    holds = [h for h in items if h["sk"].startswith("HOLD#")]
    type_of = {b["id"]: b.get("ticket_type_id") or legacy_type_id(event_id) for b in bookings}
    # A ticket of a booking of several lines names its own type.
    tickets = [{**t, "type": t.get("ticket_type_id") or type_of[t["booking_id"]]} for t in tickets]
    event = events.get(event_id)
    assert event is not None
    state = ledger(event_id)
    per_type = []
    for kind in event.ticket_types:
        counts = _counts(
            [t for t in tickets if t["type"] == kind.id],
            [b for b in bookings if (b.get("ticket_type_id") or legacy_type_id(event_id)) == kind.id],
            [h for h in holds if h["ticket_type_id"] == kind.id],
        )
        left = None if kind.total_tickets is None else kind.total_tickets - counts["sold"] - counts["held"]
        per_type.append({"id": kind.id, "name": kind.name, "hidden": kind.hidden, **counts, "available": left})
    return {
        "event_id": event_id,
        "total_tickets": state.total,
        **_counts(tickets, bookings, holds),
        "reserved": 0,  # no waiting list here: nothing comes back to be kept for it
        "available": state.available,
        "ticket_types": per_type,
        "promo_codes": _code_counts(event_id, bookings, holds, event.currency),
    }


def _code_counts(event_id: str, bookings: list[Any], holds: list[Any], currency: str) -> list[dict[str, Any]]:
    """Each promo code of the event (its definitions, in code order) with the tickets that count in its uses,
    from the confirmed bookings' live tickets and the live holds that recorded its id, and their discount."""
    from boxoffice import money
    from boxoffice.config import settings

    definitions = [
        i for i in _scan(settings().events_table) if i["pk"] == f"PROMO#{event_id}" and i["sk"][:5] == "CODE#"
    ]
    counted = [b for b in bookings if b["status"] == "CONFIRMED"] + [h for h in holds if h["status"] == "HELD"]
    found = []
    for code in sorted(definitions, key=lambda d: d["code"]):
        using = [i for i in counted if i.get("promo_code_id") == code["id"]]
        given = sum((Decimal(i.get("unit_discount") or 0) * int(i["quantity"]) for i in using), Decimal(0))
        uses = sum(int(i["quantity"]) for i in using)
        found.append({"code": code["code"], "uses": uses, "discount": f"{money.in_minor_units(given, currency):f}"})
    return found
