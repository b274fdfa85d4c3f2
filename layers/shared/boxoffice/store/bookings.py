"""The bookings and tickets tables: bookings, their tickets, and Idempotency-Keys.

bookings (partition key `pk`, sort key `sk`):
  USER#<user id>  BOOKING#<booking id>          a booking: id, user_id, event_id, quantity, ticket_numbers,
                                                unit_price, total_price, currency, status, created_at,
                                                cancelled_at, its event as last seen (event_name,
                                                event_venue, event_starts_at, event_status), and the sort
                                                key of its Idempotency-Key (idempotency_sk) if it had one
  USER#<user id>  IDEMPOTENCY#<sha256 of key>   fingerprint of the request, booking (a copy that the cancel
                                                keeps current), expires_at (epoch s; checked in code, TTL
                                                only tidies)
and each ticket in the tickets table (store/tickets.py), read beside its booking in one BatchGetItem.

A booking and a cancellation are each one TransactWriteItems that also moves the event's
available_tickets, so `available + sold == total` holds at every commit. Failed conditions are
read from CancellationReasons (with the failing item, ALL_OLD), never from a second read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from boxoffice.config import settings
from boxoffice.errors import AlreadyCancelled, BookingNotFound, NotAuthenticated, TicketUsed
from boxoffice.store import dynamo, stats, tickets, users
from boxoffice.store.dynamo import Cancelled, Item, aws_errors, client, dump, load, values
from boxoffice.store.events import ON_SALE, EventRecord, event_key
from boxoffice.store.tickets import TicketRecord
from boxoffice.store.users import UserRecord

CONFIRMED, CANCELLED = "CONFIRMED", "CANCELLED"
_BOOKING, _IDEMPOTENCY = "BOOKING#", "IDEMPOTENCY#"
_ALL_OLD = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
_IS_NEW = "attribute_not_exists(pk)"


@dataclass(frozen=True, slots=True)
class EventSnapshot:
    """What a booking shows of its event."""

    name: str
    venue: str
    starts_at: datetime
    status: str

    @classmethod
    def of(cls, event: EventRecord) -> EventSnapshot:
        return cls(name=event.name, venue=event.venue, starts_at=event.starts_at, status=event.status)


@dataclass(frozen=True, slots=True)
class BookingRecord:
    id: str
    user_id: str
    event_id: str
    quantity: int
    ticket_numbers: tuple[str, ...]
    unit_price: Decimal
    total_price: Decimal
    currency: str
    status: str
    created_at: datetime
    cancelled_at: datetime | None
    event: EventSnapshot  # as last seen: at booking, then at cancelling
    idempotency_sk: str | None = None  # its Idempotency-Key's item, whose copy of it a cancel updates too

    def attributes(self) -> Item:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "event_id": self.event_id,
            "quantity": self.quantity,
            "ticket_numbers": list(self.ticket_numbers),
            "unit_price": self.unit_price,
            "total_price": self.total_price,
            "currency": self.currency,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "cancelled_at": self.cancelled_at.isoformat() if self.cancelled_at else None,
            "idempotency_sk": self.idempotency_sk,
            **_snapshot_attributes(self.event),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> BookingRecord:
        cancelled_at = item.get("cancelled_at")
        return cls(
            id=item["id"],
            user_id=item["user_id"],
            event_id=item["event_id"],
            quantity=int(item["quantity"]),
            ticket_numbers=tuple(item["ticket_numbers"]),
            unit_price=Decimal(item["unit_price"]),
            total_price=Decimal(item["total_price"]),
            currency=item["currency"],
            status=item["status"],
            created_at=datetime.fromisoformat(item["created_at"]),
            cancelled_at=datetime.fromisoformat(cancelled_at) if cancelled_at else None,
            event=EventSnapshot(
                name=item["event_name"],
                venue=item["event_venue"],
                starts_at=datetime.fromisoformat(item["event_starts_at"]),
                status=item["event_status"],
            ),
            idempotency_sk=item.get("idempotency_sk"),
        )


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """An Idempotency-Key to commit with a new booking."""

    key: str
    fingerprint: str  # of the request the key was first used for
    expires_at: int  # epoch seconds


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    fingerprint: str
    expires_at: int
    booking: BookingRecord  # as it is now: put with the booking, cancelled with it

    @classmethod
    def from_item(cls, item: Item) -> IdempotencyRecord:
        return cls(item["fingerprint"], int(item["expires_at"]), BookingRecord.from_item(item["booking"]))


@dataclass(frozen=True, slots=True)
class BookingContext:
    """Everything a booking request reads, in one BatchGetItem."""

    user: UserRecord | None
    event: EventRecord | None
    earlier: IdempotencyRecord | None  # what the Idempotency-Key already stands for, expired or not


class EventChanged(Exception):
    """The event failed the transaction's condition; `event` is the item as DynamoDB saw it (None: missing)."""

    def __init__(self, event: EventRecord | None) -> None:
        super().__init__("event changed")
        self.event = event


class IdTaken(Exception):
    """A generated booking id or ticket number already exists (astronomically unlikely): draw new ones."""


def _bookings() -> str:
    return settings().bookings_table


def _events() -> str:
    return settings().events_table


def _booking_key(user_id: str, booking_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{_BOOKING}{booking_id}"}


def _idempotency_sk(key: str) -> str:
    # Hashed: keys are up to 255 arbitrary printable characters; the item needs only a fixed-size name.
    return f"{_IDEMPOTENCY}{hashlib.sha256(key.encode()).hexdigest()}"


def _idempotency_key(user_id: str, key: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": _idempotency_sk(key)}


def _snapshot_attributes(event: EventSnapshot) -> Item:
    return {
        "event_name": event.name,
        "event_venue": event.venue,
        "event_starts_at": event.starts_at.isoformat(),
        "event_status": event.status,
    }


def _read_with_user(
    user_id: str, requests: Mapping[str, list[dict[str, str]]]
) -> tuple[UserRecord | None, dict[str, list[Item]]]:
    """One BatchGetItem: the caller's account (for the token check) beside the request's own items."""
    users_table = settings().users_table
    found = dynamo.batch_get({users_table: [users.user_key(user_id)], **requests})
    account = found.pop(users_table)
    return (UserRecord.from_item(account[0]) if account else None), found


def _first(found: dict[str, list[Item]], table: str) -> Item | None:
    return next(iter(found.get(table, [])), None)


def read_for_booking(user_id: str, event_id: str, idempotency_key: str | None) -> BookingContext:
    keys: dict[str, list[dict[str, str]]] = {_events(): [event_key(event_id)]}
    if idempotency_key is not None:
        keys[_bookings()] = [_idempotency_key(user_id, idempotency_key)]
    user, found = _read_with_user(user_id, keys)
    event, earlier = _first(found, _events()), _first(found, _bookings())
    return BookingContext(
        user=user,
        event=EventRecord.from_item(event) if event else None,
        earlier=IdempotencyRecord.from_item(earlier) if earlier else None,
    )


def create(
    booking: BookingRecord,
    *,
    codes: Mapping[str, str],
    priced_by: EventRecord,
    token_version: int,
    claim: IdempotencyClaim | None,
    now: datetime,
) -> IdempotencyRecord | None:
    """Book in one transaction, or return what `claim`'s key already stands for (the booking is then not made).
    Each ticket is put with its code from `codes` (by ticket number).

    The event must still be on sale, not started, hold enough tickets and have the price, currency and
    per-booking limit the booking was made from; otherwise EventChanged carries the event as it is.
    """
    revenue, revenue_names, revenue_values = stats.count_sale(booking.currency, booking.total_price)
    event_update = {
        "Update": {
            "TableName": _events(),
            "Key": dump(event_key(booking.event_id)),
            "UpdateExpression": f"SET available_tickets = available_tickets - :qty ADD {revenue}",
            "ConditionExpression": "#status = :on_sale AND starts_at > :now AND available_tickets >= :qty"
            " AND ticket_price = :price AND currency = :currency AND max_tickets_per_booking >= :qty",
            "ExpressionAttributeNames": {"#status": "status", **revenue_names},
            "ExpressionAttributeValues": values(
                qty=booking.quantity,
                on_sale=ON_SALE,
                now=now.isoformat(),
                price=priced_by.ticket_price,
                currency=priced_by.currency,
                **revenue_values,
            ),
            **_ALL_OLD,
        }
    }
    actions: list[dict[str, Any]] = [event_update, users.current_check(booking.user_id, token_version)]
    if claim is not None:
        booking = replace(booking, idempotency_sk=_idempotency_sk(claim.key))
        key_item = {
            **_idempotency_key(booking.user_id, claim.key),
            "fingerprint": claim.fingerprint,
            "booking": booking.attributes(),
            "created_at": booking.created_at.isoformat(),
            "expires_at": claim.expires_at,
        }
        actions.append(
            {
                "Put": {
                    "TableName": _bookings(),
                    "Item": dump(key_item),
                    # An expired key is free again; DynamoDB's TTL may not have removed it yet (moto never does).
                    "ConditionExpression": f"{_IS_NEW} OR expires_at <= :now",
                    "ExpressionAttributeValues": values(now=int(now.timestamp())),
                    **_ALL_OLD,
                }
            }
        )
    actions.append(_put(_bookings(), {**_booking_key(booking.user_id, booking.id), **booking.attributes()}))
    actions += [
        tickets.put_action(
            booking.event_id,
            number,
            code=codes[number],
            booking_id=booking.id,
            user_id=booking.user_id,
            at=booking.created_at,
        )
        for number in booking.ticket_numbers
    ]
    try:
        dynamo.transact(actions)
    except Cancelled as exc:
        if exc.failed_at(1):
            raise NotAuthenticated("The token was revoked.") from None
        if claim is not None and exc.failed_at(2):
            earlier = exc.old(2)
            if earlier is None:
                raise IdTaken() from None  # no ALL_OLD to replay from: go round again and read it
            return IdempotencyRecord.from_item(earlier)
        if exc.failed_at(0):
            old = exc.old(0)
            raise EventChanged(EventRecord.from_item(old) if old else None) from None
        raise IdTaken() from None
    return None


def _put(table: str, item: Item) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": dump(item), "ConditionExpression": _IS_NEW}}


def read_booking(user_id: str, booking_id: str) -> tuple[UserRecord | None, BookingRecord | None]:
    """The caller's account and their booking (None: not theirs, or none such), in one BatchGetItem."""
    user, found = _read_with_user(user_id, {_bookings(): [_booking_key(user_id, booking_id)]})
    item = _first(found, _bookings())
    return user, (BookingRecord.from_item(item) if item else None)


@dataclass(frozen=True, slots=True)
class Details:
    """What bookings show beyond their own items: their events and tickets as they are now."""

    events: dict[str, EventSnapshot]
    tickets: dict[tuple[str, str], TicketRecord]  # by (event id, ticket number)


def read_details(records: Iterable[BookingRecord], *, user_id: str | None = None) -> tuple[UserRecord | None, Details]:
    """The bookings' events and every one of their tickets (and the caller's account, if asked), in one
    BatchGetItem; one per 100 keys, as a page of large bookings can need more."""
    records = list(records)
    keys = {
        _events(): [event_key(i) for i in sorted({r.event_id for r in records})],
        tickets.table(): [tickets.key(r.event_id, n) for r in records for n in r.ticket_numbers],
    }
    if user_id is None:
        user, found = None, dynamo.batch_get(keys)
    else:
        user, found = _read_with_user(user_id, keys)
    events = (EventRecord.from_item(item) for item in found.get(_events(), []))
    details = Details(
        events={event.id: EventSnapshot.of(event) for event in events},
        tickets=tickets.of_items(found.get(tickets.table(), [])),
    )
    return user, details


def list_page(user_id: str, limit: int, after: str | None) -> tuple[list[BookingRecord], bool]:
    """Up to `limit` of the caller's bookings, newest first, after booking id `after`; and whether more follow."""
    query: dict[str, Any] = {
        "TableName": _bookings(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": values(pk=f"USER#{user_id}", prefix=_BOOKING),
        "ScanIndexForward": False,
        "ConsistentRead": True,
        "Limit": limit + 1,  # one more than asked tells whether a next page exists, without an empty last page
    }
    if after is not None:
        query["ExclusiveStartKey"] = dump(_booking_key(user_id, after))
    with aws_errors():
        raw = client().query(**query)
    records = [BookingRecord.from_item(load(item)) for item in raw.get("Items", [])]
    # LastEvaluatedKey with fewer items than asked: DynamoDB stopped at 1 MB, so more may follow.
    return records[:limit], len(records) > limit or "LastEvaluatedKey" in raw


def cancel(booking: BookingRecord, *, seen: EventSnapshot, token_version: int, now: datetime) -> BookingRecord:
    """Cancel in one transaction: the booking CONFIRMED -> CANCELLED once, its VALID tickets, the event's count back.

    The event must not have started and must still look as `seen` (so the answer shows it as it is at
    commit, without reading it first); otherwise EventChanged carries it. The booking must still be
    CONFIRMED: of racing cancels exactly one commits, the others get AlreadyCancelled.
    """
    cancelled = replace(booking, status=CANCELLED, cancelled_at=now, event=seen)
    changes = {"status": CANCELLED, "cancelled_at": now.isoformat(), **_snapshot_attributes(seen)}
    refund, refund_names, refund_values = stats.count_sale(booking.currency, -booking.total_price)
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": _bookings(),
                "Key": dump(_booking_key(booking.user_id, booking.id)),
                "UpdateExpression": "SET " + ", ".join(f"#{name} = :{name}" for name in changes),
                "ConditionExpression": "#status = :confirmed",
                "ExpressionAttributeNames": {f"#{name}": name for name in changes},
                "ExpressionAttributeValues": values(confirmed=CONFIRMED, **changes),
                **_ALL_OLD,
            }
        },
        {
            "Update": {
                "TableName": _events(),
                "Key": dump(event_key(booking.event_id)),
                # A deleted event's tombstone gets its tickets back too: available + sold == total still.
                "UpdateExpression": "SET available_tickets = available_tickets + :qty"
                f" ADD {stats.CANCELLED} :qty, {refund}",
                "ConditionExpression": "starts_at > :now AND starts_at = :starts_at AND #name = :name"
                " AND venue = :venue AND #status = :status",
                "ExpressionAttributeNames": {"#status": "status", "#name": "name", **refund_names},
                "ExpressionAttributeValues": values(
                    **refund_values,
                    qty=booking.quantity,
                    now=now.isoformat(),
                    starts_at=seen.starts_at.isoformat(),
                    name=seen.name,
                    venue=seen.venue,
                    status=seen.status,
                ),
                **_ALL_OLD,
            }
        },
        users.current_check(booking.user_id, token_version),
    ]
    if booking.idempotency_sk is not None:
        actions.append(_update_copy(booking, changes))
    first_ticket = len(actions)
    # Each ticket must still be VALID: a ticket checked in at the door keeps its booking from being cancelled.
    actions += [tickets.cancel_action(booking.event_id, number, now) for number in booking.ticket_numbers]
    try:
        dynamo.transact(actions)
    except Cancelled as exc:
        if exc.failed_at(2):
            raise NotAuthenticated("The token was revoked.") from None
        if exc.failed_at(0):
            old = exc.old(0)
            if old is not None and old["status"] == CANCELLED:
                raise AlreadyCancelled() from None
            raise BookingNotFound() from None
        used = [i for i in range(first_ticket, len(actions)) if exc.failed_at(i)]
        if used:
            raise TicketUsed(f"{len(used)} of the booking's tickets have been checked in.") from None
        if not exc.failed_at(1) and booking.idempotency_sk is not None:
            # Only the copy failed: its key has expired and stands for another booking now, or is gone.
            return cancel(replace(booking, idempotency_sk=None), seen=seen, token_version=token_version, now=now)
        old = exc.old(1)
        raise EventChanged(EventRecord.from_item(old) if old else None) from None
    return cancelled


def _update_copy(booking: BookingRecord, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The same changes to the booking's copy in its Idempotency-Key, while the key still stands for
    it: a replay then shows the booking as it is, from the read it makes anyway."""
    return {
        "Update": {
            "TableName": _bookings(),
            "Key": dump({"pk": f"USER#{booking.user_id}", "sk": booking.idempotency_sk}),
            "UpdateExpression": "SET " + ", ".join(f"#booking.#{name} = :{name}" for name in changes),
            "ConditionExpression": "#booking.#id = :id",
            "ExpressionAttributeNames": {"#booking": "booking", "#id": "id", **{f"#{n}": n for n in changes}},
            "ExpressionAttributeValues": values(id=booking.id, **changes),
        }
    }
