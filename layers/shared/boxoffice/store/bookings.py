"""Bookings, their Idempotency-Keys, and the transactions that book and cancel (bookings table; each
booking's tickets are store/tickets.py's). Keys and attributes: docs/data-model.md, "bookings and tickets".

A booking and a cancellation are each one TransactWriteItems that also moves the counters of the
event's quota, its ticket type and the buyer's holding (store/inventory.py), so `available + sold ==
total` holds at every commit. Failed conditions are read by action name from CancellationReasons (with
the failing item, ALL_OLD), never from a second read. Bookings made before ticket types have no
ticket_type_id: they are of their event's one "General admission" type and never counted in a holding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from boxoffice import retry, shards
from boxoffice.errors import AlreadyCancelled, BookingNotFound, TicketUsed
from boxoffice.records import (
    DEFAULT_TYPE_NAME,
    BookedLine,
    BookedType,
    BookingRecord,
    Details,
    EventRecord,
    EventSnapshot,
    HeldLine,
    Holding,
    HoldRecord,
    IdempotencyClaim,
    IdempotencyRecord,
    PromoCode,
    Redemption,
    TicketRecord,
    TicketType,
    legacy_type_id,
)
from boxoffice.store import dynamo, event_items, inventory, legacy, tickets, users
from boxoffice.store.dynamo import (
    ALL_OLD,
    Failed,
    Item,
    Transaction,
    aws_errors,
    bookings_table,
    client,
    dump,
    events_table,
    load,
    tickets_table,
    users_table,
    values,
)
from boxoffice.store.event_items import event_key
from boxoffice.vocabulary import BookingStatus, EventStatus, Pool, UserRecord

_BOOKING, _IDEMPOTENCY = "BOOKING#", "IDEMPOTENCY#"
_IS_NEW = "attribute_not_exists(pk)"


def booking_attributes(record: BookingRecord) -> Item:
    return {
        "id": record.id,
        "user_id": record.user_id,
        "event_id": record.event_id,
        "ticket_type_id": record.ticket_type_id,
        "ticket_type_name": record.ticket_type_name,
        "ticket_type_quota": record.ticket_type_quota,
        "quantity": record.quantity,
        "ticket_numbers": list(record.ticket_numbers),
        "unit_price": record.unit_price,
        "total_price": record.total_price,
        "currency": record.currency,
        "status": record.status,
        "created_at": record.created_at.isoformat(),
        "cancelled_at": record.cancelled_at.isoformat() if record.cancelled_at else None,
        "idempotency_sk": record.idempotency_sk,
        "cancelled_tickets": list(record.cancelled_tickets),
        "ticket_cancelled_at": record.ticket_cancelled_at.isoformat() if record.ticket_cancelled_at else None,
        "tickets_spread": record.tickets_spread,
        "shards": shards_attribute(record.shards),
        "lines": lines_attribute(record.lines),
        **promo_attributes(record),
        **_snapshot_attributes(record.event),
    }


def line_attributes(line: BookedLine | HeldLine) -> Item:
    """What a booked or a held line stores beside its tickets (their numbers, or how many)."""
    return {
        "ticket_type_id": line.ticket_type.id,
        "ticket_type_name": line.ticket_type.name,
        "ticket_type_quota": line.ticket_type.sub_quota,
        "unit_price": line.unit_price,
        "unit_discount": line.unit_discount,
        "promo_counted": line.promo_counted,
        "shards": {str(k): n for k, n in line.shards},
    }


def line_fields(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored line's fields of BookedLine and HeldLine alike (all but its tickets)."""
    return {
        "ticket_type": BookedType(
            stored["ticket_type_id"], stored["ticket_type_name"], sub_quota=bool(stored["ticket_type_quota"])
        ),
        "unit_price": Decimal(stored["unit_price"]),
        "unit_discount": Decimal(stored["unit_discount"]),
        "promo_counted": bool(stored["promo_counted"]),
        "shards": shards_of(stored),
    }


def lines_attribute(lines: Iterable[BookedLine]) -> list[Item] | None:
    """A booking's lines, as stored (absent for a booking of one type)."""
    return [{**line_attributes(x), "ticket_numbers": list(x.ticket_numbers)} for x in lines] or None


def lines_of(item: Mapping[str, Any]) -> tuple[BookedLine, ...]:
    stored = item.get("lines") or ()
    return tuple(BookedLine(ticket_numbers=tuple(x["ticket_numbers"]), **line_fields(x)) for x in stored)


def promo_attributes(record: BookingRecord | HoldRecord) -> Item:
    """A booking's or a hold's promo code, as stored (absent without one)."""
    return {
        "promo_code": record.promo_code,
        "promo_code_id": record.promo_code_id,
        "unit_discount": record.unit_discount or None,
    }


def promo_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of promo_attributes from an item."""
    return {
        "promo_code": item.get("promo_code"),
        "promo_code_id": item.get("promo_code_id"),
        "unit_discount": Decimal(item.get("unit_discount") or 0),
    }


def shards_attribute(parts: Iterable[tuple[int, int]]) -> dict[str, int] | None:
    """Where a booking's or a hold's tickets came from, as stored: absent when all from shard 0."""
    taken = {str(k): n for k, n in parts if n}
    return taken if set(taken) - {"0"} else None


def shards_of(item: Mapping[str, Any]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((int(k), int(n)) for k, n in (item.get("shards") or {}).items()))


def booking_of(item: Mapping[str, Any]) -> BookingRecord:
    cancelled_at, ticket_cancelled_at = item.get("cancelled_at"), item.get("ticket_cancelled_at")
    type_id = item.get("ticket_type_id")
    return BookingRecord(
        id=item["id"],
        user_id=item["user_id"],
        event_id=item["event_id"],
        ticket_type_id=type_id or legacy_type_id(item["event_id"]),
        ticket_type_name=item.get("ticket_type_name", DEFAULT_TYPE_NAME),
        ticket_type_quota=bool(item.get("ticket_type_quota", False)),
        counted=type_id is not None,
        quantity=int(item["quantity"]),
        ticket_numbers=tuple(item["ticket_numbers"]),
        unit_price=Decimal(item["unit_price"]),
        total_price=Decimal(item["total_price"]),
        currency=item["currency"],
        status=BookingStatus(item["status"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        cancelled_at=datetime.fromisoformat(cancelled_at) if cancelled_at else None,
        event=EventSnapshot(
            name=item["event_name"],
            venue=item["event_venue"],
            starts_at=datetime.fromisoformat(item["event_starts_at"]),
            status=EventStatus(item["event_status"]),
        ),
        idempotency_sk=item.get("idempotency_sk"),
        cancelled_tickets=tuple(item.get("cancelled_tickets", ())),
        ticket_cancelled_at=datetime.fromisoformat(ticket_cancelled_at) if ticket_cancelled_at else None,
        tickets_spread=bool(item.get("tickets_spread", False)),
        shards=shards_of(item),
        **promo_of(item),
        lines=lines_of(item),
    )


def idempotency_of(item: Item) -> IdempotencyRecord:
    booking = booking_of(item["booking"]) if "booking" in item else None
    return IdempotencyRecord(item["fingerprint"], int(item["expires_at"]), booking, item.get("hold_id"))


@dataclass(frozen=True, slots=True)
class BookingContext:
    """Everything a booking request reads, in one BatchGetItem."""

    user: UserRecord | None
    event: EventRecord | None  # with its quota's counters; its types' counters are not read
    holding: Holding  # the caller's live tickets of the event
    earlier: IdempotencyRecord | None  # what the Idempotency-Key already stands for, expired or not
    promo: PromoCode | None = None  # the promo code asked for, with its counter (None: none asked, or unknown)


class BookingChanged(retry.Again):
    """A cancel must be written in another form: `booking` is the booking in that form (store.cancel)."""

    def __init__(self, booking: BookingRecord) -> None:
        super().__init__("booking changed")
        self.booking = booking


class EventChanged(Exception):
    """A cancel's condition on the event's quota failed: its start and status as DynamoDB saw them
    (None: it has no quota item)."""

    def __init__(self, seen: tuple[datetime, EventStatus] | None) -> None:
        super().__init__("event changed")
        self.seen = seen


class IdTaken(Exception):
    """A generated booking id or ticket number already exists (astronomically unlikely): draw new ones."""


def _booking_key(user_id: str, booking_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{_BOOKING}{booking_id}"}


def _idempotency_sk(key: str) -> str:
    # Hashed: keys are up to 255 arbitrary printable characters; the item needs only a fixed-size name.
    return f"{_IDEMPOTENCY}{hashlib.sha256(key.encode()).hexdigest()}"


def claim_key(user_id: str, key: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": _idempotency_sk(key)}


def _snapshot_attributes(event: EventSnapshot) -> Item:
    return {
        "event_name": event.name,
        "event_venue": event.venue,
        "event_starts_at": event.starts_at.isoformat(),
        "event_status": event.status,
    }


def read_with_user(
    user_id: str, requests: Mapping[str, list[dict[str, str]]]
) -> tuple[UserRecord | None, dict[str, list[Item]]]:
    """One BatchGetItem: the caller's account (for the token check) beside the request's own items."""
    found = dynamo.batch_get({users_table(): [users.user_key(user_id)], **requests}, attributes=users.readable())
    account = found.pop(users_table())
    return (users.user_of(account[0]) if account else None), found


def _first(found: dict[str, list[Item]], table: str) -> Item | None:
    return next(iter(found.get(table, [])), None)


def read_for_booking(
    user_id: str,
    event_id: str,
    idempotency_key: str | None,
    ticket_type_id: str | None = None,
    promo_code: str | None = None,
) -> BookingContext:
    """One BatchGetItem: the account, the caller's holding and the key's record, the promo code asked for
    (its definition and counter), and the event's small stock
    items: the quota and type counter of one stock shard, guessed at random (inventory.guess). The event's
    descriptive item (up to 100 KB) is read in the same call only when this process has not read it in
    the last second (event_items.recent) or does not know the type asked for: its names are all a booking
    takes from it, every rule is on the stock items.

    An event stored before ticket types is first moved to today's items (once per event, store.legacy.upgrade).
    """
    described = event_items.recent(event_id)
    if described is not None and ticket_type_id is not None and ticket_type_id not in described["ticket_types"]:
        described = None  # a type added since: read the event
    chosen = described is not None  # else shard 0's quota is read for the rules, not picked
    types = list(described["ticket_types"]) if described is not None else []
    type_id = ticket_type_id or (types[0] if len(types) == 1 else None)
    # Among the selling shards only: drained ones (beyond a lowered count) are found by the atomic read.
    shard = inventory.guess(event_id, int(described.get("inventory_shards") or 1)) if described is not None else 0
    events_keys = [inventory.quota_key(event_id, shard)]
    if described is None:
        events_keys.append(event_key(event_id))
    elif type_id is not None:
        events_keys.append(inventory.type_key(event_id, type_id, shard))
    keys: dict[str, list[dict[str, str]]] = {
        events_table(): events_keys,
        bookings_table(): [inventory.holding_key(user_id, event_id)],
    }
    if idempotency_key is not None:
        keys[bookings_table()].append(claim_key(user_id, idempotency_key))
    if promo_code is not None:
        from boxoffice.store import promocodes  # only sales with a code load the codes' store

        keys[events_table()] += [
            promocodes.definition_key(event_id, promo_code),
            promocodes.counter_key(event_id, promo_code),
        ]
    user, found = read_with_user(user_id, keys)
    items = found[events_table()]
    if described is None:
        described = next((i for i in items if i["sk"] == event_items.EVENT), None)
        if described is not None and "ticket_types" not in described and legacy.upgrade(event_id):
            return read_for_booking(user_id, event_id, idempotency_key, ticket_type_id, promo_code)
        if described is not None:
            event_items.keep(described)
    own = {i["sk"]: i for i in found[bookings_table()]}
    earlier = own.get(claim_key(user_id, idempotency_key)["sk"]) if idempotency_key is not None else None
    return BookingContext(
        user=user,
        event=inventory.with_shard_read(event_items.describe(described), shard, items, chosen=chosen)
        if described
        else None,
        holding=inventory.holding(own.get(inventory.holding_key(user_id, event_id)["sk"])),
        earlier=idempotency_of(earlier) if earlier else None,
        promo=promo_of_items(event_id, promo_code, items),
    )


def promo_of_items(event_id: str, code: str | None, items: Iterable[Item]) -> PromoCode | None:
    """The code asked for, from the items a booking's read found (None: none asked, or no such code)."""
    if code is None:
        return None
    from boxoffice.store import promocodes

    own = {i["sk"]: i for i in items if i["pk"] == promocodes.pk(event_id)}
    definition = own.get(promocodes.definition_key(event_id, code)["sk"])
    counter = own.get(promocodes.counter_key(event_id, code)["sk"])
    return promocodes.record(event_id, definition, counter) if definition else None


def create(
    booking: BookingRecord,
    *,
    codes: Mapping[str, str],
    event: EventRecord,
    ticket_type: TicketType,
    holding: Holding,
    token_version: int,
    claim: IdempotencyClaim | None,
    now: datetime,
    redemption: Redemption | None = None,
) -> IdempotencyRecord | None:
    """Book in one transaction, or return what `claim`'s key already stands for (the booking is then not made).
    Each ticket is put with its code from `codes` (by ticket number).

    The counters move only under the conditions the booking was judged by (store/inventory.py: take);
    otherwise StockChanged carries the event, the type and the holding as DynamoDB saw them. A
    `redemption` moves its code's uses in the same transaction (store/promocodes.py: redeem), while the
    account is under its wrong-code ceiling; else TooManyWrongCodes, InvalidPromoCode, PromoCodeUsedUp or
    PromoCodeChanged (judge it again).
    """
    tx = Transaction()
    plan = inventory.plan_for(event, ticket_type, holding, booking.quantity)
    booking = replace(booking, shards=tuple(sorted(plan.items())))
    inventory.take(tx, event, ticket_type, booking.user_id, booking.quantity, now, sale=booking.total_price, plan=plan)
    users.check_current(tx, booking.user_id, token_version)
    add_booking(tx, booking, codes=codes, claim=claim, now=now)
    if redemption is not None:
        add_redemption(tx, booking.user_id, redemption, now)
    try:
        tx.commit()
    except retry.Conflict as exc:
        raise inventory.elsewhere(exc, event, ticket_type, holding, plan) or exc from None
    except Failed as exc:
        earlier = replayed(exc)
        if earlier is not None:
            return earlier
        if redemption is not None:
            refuse_code(exc, redemption, now)
        if exc.failed("holding") or inventory.failed_quota(exc, plan)[0] or inventory.failed_type_shape(exc, plan)[0]:
            raise inventory.stock_changed(exc, event, ticket_type, holding, plan) from None
        raise IdTaken() from None
    return None


def add_redemption(tx: Transaction, user_id: str, redemption: Redemption, now: datetime) -> None:
    """Add a sale's use of its code: the code's counter (`promo`: store/promocodes.py, redeem) and the
    check that the account may use a code now (`guesses`); refuse_code reads their failures."""
    from boxoffice.store import code_guesses, promocodes  # only sales with a code load them

    tx.add("promo", promocodes.redeem(redemption.code, redemption.quantity, redemption.discount, now))
    tx.add("guesses", code_guesses.open_check(user_id, int(now.timestamp())))


def refuse_code(failed: Failed, redemption: Redemption, now: datetime) -> None:
    """Raise why a booking's code was refused inside its transaction, if it was: the account over its
    wrong-code ceiling (429), or the code's counter (store/promocodes.py: redeem_refusal)."""
    from boxoffice.store import code_guesses, promocodes

    if failed.failed("guesses"):
        raise code_guesses.refusal(failed.old("guesses"), int(now.timestamp()))
    refused = promocodes.redeem_refusal(failed, "promo", redemption.code, redemption.quantity)
    if refused is not None:
        raise refused


def add_booking(
    tx: Transaction, booking: BookingRecord, *, codes: Mapping[str, str], claim: IdempotencyClaim | None, now: datetime
) -> None:
    """Add the puts that make a booking (a direct one, or a hold's confirm): `claim`'s key (`idempotency`),
    the `booking`, and each of its tickets (`ticket:<n>`) with its code from `codes` (by ticket number).
    A failure of `idempotency` is read by `replayed`; of the others, an id or number already taken."""
    if claim is not None:
        booking = replace(booking, idempotency_sk=_idempotency_sk(claim.key))
        add_claim(tx, booking.user_id, claim, now=now, stands_for={"booking": booking_attributes(booking)})
    tx.add(
        "booking", _put(bookings_table(), {**_booking_key(booking.user_id, booking.id), **booking_attributes(booking)})
    )
    types = {n: line.ticket_type for line in booking.booked_lines for n in line.ticket_numbers}
    for n, number in enumerate(booking.ticket_numbers):
        put = tickets.put_action(
            booking.event_id,
            number,
            code=codes[number],
            booking_id=booking.id,
            user_id=booking.user_id,
            ticket_type=BookedType(types[number].id, types[number].name),
            at=booking.created_at,
        )
        tx.add(f"ticket:{n}", put)


def add_claim(tx: Transaction, user_id: str, claim: IdempotencyClaim, *, now: datetime, stands_for: Item) -> None:
    """Add the put of `claim`'s key (`idempotency`) with what it `stands_for` (a booking, a hold's id): it
    commits only if the key is new or expired, and a failure is read by `replayed`."""
    key_item = {
        **claim_key(user_id, claim.key),
        "fingerprint": claim.fingerprint,
        **stands_for,
        "created_at": now.isoformat(),
        "expires_at": claim.expires_at,
    }
    tx.add(
        "idempotency",
        {
            "Put": {
                "TableName": bookings_table(),
                "Item": dump(key_item),
                # An expired key is free again; DynamoDB's TTL may not have removed it yet (moto never does).
                "ConditionExpression": f"{_IS_NEW} OR expires_at <= :now",
                "ExpressionAttributeValues": values(now=int(now.timestamp())),
                **ALL_OLD,
            }
        },
    )


def replayed(exc: Failed) -> IdempotencyRecord | None:
    """What the Idempotency-Key of a failed add_booking already stands for (None: the key did not fail)."""
    if not exc.failed("idempotency"):
        return None
    earlier = exc.old("idempotency")
    if earlier is None:
        raise IdTaken()  # no ALL_OLD to replay from: go round again and read it
    return idempotency_of(earlier)


def _put(table: str, item: Item) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": dump(item), "ConditionExpression": _IS_NEW}}


def read_booking(user_id: str, booking_id: str) -> tuple[UserRecord | None, BookingRecord | None]:
    """The caller's account and their booking (None: not theirs, or none such), in one BatchGetItem."""
    user, found = read_with_user(user_id, {bookings_table(): [_booking_key(user_id, booking_id)]})
    item = _first(found, bookings_table())
    return user, (booking_of(item) if item else None)


def read_details(records: Iterable[BookingRecord], *, user_id: str | None = None) -> tuple[UserRecord | None, Details]:
    """The bookings' events and every one of their tickets (and the caller's account, if asked), in one
    BatchGetItem; one per 100 keys, as a page of large bookings can need more."""
    records = list(records)
    keys = {
        events_table(): [event_key(i) for i in sorted({r.event_id for r in records})],
        tickets_table(): [
            tickets.key(r.event_id, n, spread=r.tickets_spread) for r in records for n in r.ticket_numbers
        ],
    }
    if user_id is None:
        user, found = None, dynamo.batch_get(keys)
    else:
        user, found = read_with_user(user_id, keys)
    events = (event_items.describe(item) for item in found.get(events_table(), []))
    details = Details(
        events={event.id: EventSnapshot.of(event) for event in events},
        tickets=tickets.of_items(found.get(tickets_table(), [])),
    )
    return user, details


def typed(records: Sequence[TicketRecord]) -> list[TicketRecord]:
    """The tickets, each with its type: a ticket written before tickets recorded theirs takes its
    booking's (a booking made before ticket types: its event's "General admission"). Those bookings are
    read in one BatchGetItem; none when every ticket has its own type."""
    untyped = {(r.user_id, r.booking_id) for r in records if r.ticket_type_id is None}
    if not untyped:
        return list(records)
    found = dynamo.batch_get({bookings_table(): [_booking_key(user, booking) for user, booking in sorted(untyped)]})
    booked = {(b.user_id, b.id): b for b in map(booking_of, found[bookings_table()])}
    resolved = []
    for record in records:
        booking = booked.get((record.user_id, record.booking_id))
        if record.ticket_type_id is None and booking is not None:
            record = replace(record, ticket_type_id=booking.ticket_type_id, ticket_type_name=booking.ticket_type_name)
        resolved.append(record)
    return resolved


def list_page(user_id: str, limit: int, after: str | None) -> tuple[list[BookingRecord], bool]:
    """Up to `limit` of the caller's bookings, newest first, after booking id `after`; and whether more follow."""
    query: dict[str, Any] = {
        "TableName": bookings_table(),
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
    records = [booking_of(load(item)) for item in raw.get("Items", [])]
    # LastEvaluatedKey with fewer items than asked: DynamoDB stopped at 1 MB, so more may follow.
    return records[:limit], len(records) > limit or "LastEvaluatedKey" in raw


def cancel(
    booking: BookingRecord,
    *,
    seen: EventSnapshot,
    token_version: int,
    now: datetime,
    numbers: tuple[str, ...] | None = None,
) -> tuple[BookingRecord, Pool]:
    """Cancel in one transaction the booking's tickets `numbers` (None: all it has left): each ticket
    VALID -> CANCELLED, the booking (and its copy in its Idempotency-Key) changed to match, and the tickets
    back to the event's quota, its type and the user's holding, and their uses back to the booking's promo
    code (the code of its `promo_code_id`: one deleted or made again since gets nothing). The booking goes
    CONFIRMED -> CANCELLED once its last tickets go; until then its `quantity` and `total_price` count the
    tickets left.

    The event must not have started and must still start when and have the status `seen` says (so the
    answer shows it as it is at commit, without reading it first); otherwise EventChanged carries it.
    The booking must still be CONFIRMED with the tickets it was read with (its quantity): of racing cancels
    each ticket goes back once; a loser gets AlreadyCancelled, or BookingChanged (a retry.Again) with the
    booking as it is now, to judge again. BookingChanged also carries the booking in the form to cancel it
    in now: its type gained or lost its sub-quota since, or only the key's copy or its code's give-back
    failed; a plain Again
    follows the upgrade of an event stored before ticket types. Returns the booking as cancelled and the
    pool its tickets went to (inventory.route_returned).
    """
    returned = booking.live_tickets if numbers is None else numbers
    whole = set(returned) == set(booking.live_tickets)
    back, lines = _returns(booking, returned, whole=whole)
    refund = sum((b.returned.refund for b in back), Decimal(0))
    if whole:
        after = replace(booking, status=BookingStatus.CANCELLED, cancelled_at=now, event=seen)
        changes: Item = {"status": BookingStatus.CANCELLED, "cancelled_at": now.isoformat()}
    else:
        after = replace(
            booking,
            quantity=booking.quantity - len(returned),
            total_price=booking.total_price - refund,
            cancelled_tickets=booking.cancelled_tickets + returned,
            ticket_cancelled_at=now,
            event=seen,
            shards=lines[0].shards if booking.shards and not booking.lines else (),
            lines=lines if booking.lines else (),
        )
        changes = {
            "quantity": after.quantity,
            "total_price": after.total_price,
            "cancelled_tickets": list(after.cancelled_tickets),
            "ticket_cancelled_at": now.isoformat(),
        }
        if after.shards:  # the shards its tickets left came from
            changes["shards"] = {str(k): n for k, n in after.shards}
        if after.lines:
            changes["lines"] = lines_attribute(after.lines)
    changes.update(_snapshot_attributes(seen))
    copy = booking.idempotency_sk is not None
    try:
        commit = partial(
            _cancel,
            booking,
            returned,
            changes,
            back=back,
            seen=seen,
            copy=copy,
            by=token_version,
            now=now,
        )
        pool = inventory.route_returned(booking.event_id, commit, now)
    except Failed as exc:
        if exc.failed("booking"):
            old = exc.old("booking")
            if old is None:
                raise BookingNotFound() from None
            if old["status"] == BookingStatus.CANCELLED:
                raise AlreadyCancelled() from None
            raise BookingChanged(booking_of(old)) from None  # some of its tickets went since
        used = [n for n in range(len(returned)) if exc.failed(f"ticket:{n}")]
        if used:
            raise TicketUsed(len(used)) from None
        touched = {k for b in back for k in b.returned.parts}
        lost, quota = inventory.failed_quota(exc, {0, *touched})  # the event's condition: shard 0's, or its own
        if lost:
            if quota is None and legacy.upgrade(booking.event_id):
                raise retry.Again() from None
            raise EventChanged(
                (datetime.fromisoformat(quota["starts_at"]), EventStatus(quota["status"])) if quota else None
            ) from None
        booking = _reshaped(exc, booking, back)
        if exc.failed("copy"):
            booking = replace(booking, idempotency_sk=None)  # its key has expired and stands for another, or is gone
        if exc.failed("promo"):
            booking = replace(booking, promo_code_id=None)  # its code was deleted (or made again): nothing to give back
        raise BookingChanged(booking) from None
    return after, pool


@dataclass(frozen=True, slots=True)
class LineBack:
    """What line `index` of a booking gives back in a cancel: its tickets to the stock, `uses` uses and
    `discount` to the booking's code."""

    index: int
    returned: inventory.Returned
    uses: int
    discount: Decimal


def _returns(
    booking: BookingRecord, returned: tuple[str, ...], *, whole: bool
) -> tuple[list[LineBack], tuple[BookedLine, ...]]:
    """What each line of the booking gives back for the tickets `returned` (by line index; lines returning
    none are left out), and its lines with the shards their tickets left came from."""
    back: list[LineBack] = []
    lines = []
    for index, line in enumerate(booking.booked_lines):
        going = [n for n in returned if n in line.ticket_numbers]
        if not going:
            lines.append(line)
            continue
        if whole:
            parts: dict[int, int] = dict(line.shards)
            kept: dict[int, int] = {}
            refund = booking.total_price if not booking.lines else line.net_unit_price * len(booking.kept_in(line))
        else:
            parts, kept = shards.drop(dict(line.shards), len(going))
            refund = line.net_unit_price * len(going)
        kind = line.ticket_type
        uses = len(going) if line.promo_counted else 0
        given = line.unit_discount * uses
        back.append(LineBack(index, inventory.Returned(kind.id, kind.sub_quota, parts, refund), uses, given))
        lines.append(replace(line, shards=tuple(sorted(kept.items()))))
    return back, tuple(lines)


def _reshaped(failed: Failed, booking: BookingRecord, back: list[LineBack]) -> BookingRecord:
    """The booking in the form to cancel it in now, if one of its lines' type counters failed because the
    type gained or lost its sub-quota since (EventChanged if it is gone, or failed for another reason)."""
    for n, line_back in enumerate(back):
        for shard in line_back.returned.parts:
            name = inventory.line_action(inventory.type_action(shard), n)
            if not failed.failed(name):
                continue
            shape = inventory.has_sub_quota(failed.old(name))
            if shape is None or shape == line_back.returned.sub_quota:
                raise EventChanged(None)
            if not booking.lines:
                return replace(booking, ticket_type_quota=shape)
            index = line_back.index
            line = booking.lines[index]
            reshaped = replace(line, ticket_type=replace(line.ticket_type, sub_quota=shape))
            return replace(booking, lines=tuple(reshaped if k == index else x for k, x in enumerate(booking.lines)))
    return booking


def _cancel(
    booking: BookingRecord,
    returned: tuple[str, ...],
    changes: Item,
    pool: Pool,
    *,
    back: list[LineBack],
    now: datetime,
    seen: EventSnapshot,
    copy: bool,
    by: int,
) -> None:
    tx = Transaction()
    tx.add(
        "booking",
        {
            "Update": {
                "TableName": bookings_table(),
                "Key": dump(_booking_key(booking.user_id, booking.id)),
                "UpdateExpression": "SET " + ", ".join(f"#{name} = :{name}" for name in changes),
                # The quantity pins the tickets it had when read: a ticket cancelled since fails it.
                "ConditionExpression": "#status = :confirmed AND #quantity = :before",
                "ExpressionAttributeNames": {"#quantity": "quantity", "#status": "status"}
                | {f"#{name}": name for name in changes},
                "ExpressionAttributeValues": values(
                    confirmed=BookingStatus.CONFIRMED, before=booking.quantity, **changes
                ),
                **ALL_OLD,
            }
        },
    )
    # A deleted event's tombstone gets its tickets back too: available + sold == total still.
    inventory.give_back_lines(
        tx,
        booking.event_id,
        [b.returned for b in back],
        user_id=booking.user_id if booking.counted else None,
        currency=booking.currency,
        starts_at=seen.starts_at,
        status=seen.status,
        pool=pool,
        now=now,
    )
    users.check_current(tx, booking.user_id, by)
    if copy:
        tx.add("copy", _update_copy(booking, changes))
    uses = sum(b.uses for b in back)
    if uses:
        give_back_code(tx, booking, uses, sum((b.discount for b in back), Decimal(0)))
    # Each ticket must still be VALID: a ticket checked in at the door keeps it from being cancelled.
    for n, number in enumerate(returned):
        tx.add(f"ticket:{n}", tickets.cancel_action(booking.event_id, number, now, spread=booking.tickets_spread))
    tx.commit()


def give_back_code(
    tx: Transaction, record: BookingRecord | HoldRecord, quantity: int, discount: Decimal | None = None
) -> None:
    """Add (`promo`) the uses and discount (None: `quantity` of the record's unit_discount; an order's lines
    each have their own) of `quantity` of the record's tickets back to the code they count in, if any
    (store/promocodes.py: give_back; its failure: the code was deleted or made again)."""
    if record.promo_code is None or record.promo_code_id is None:
        return
    from boxoffice.store import promocodes  # only bookings and holds with a code load it

    given = record.unit_discount * quantity if discount is None else discount
    back = promocodes.give_back(record.event_id, record.promo_code, record.promo_code_id, quantity, given)
    tx.add("promo", back)


def _update_copy(booking: BookingRecord, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The same changes to the booking's copy in its Idempotency-Key, while the key still stands for
    it: a replay then shows the booking as it is, from the read it makes anyway."""
    return {
        "Update": {
            "TableName": bookings_table(),
            "Key": dump({"pk": f"USER#{booking.user_id}", "sk": booking.idempotency_sk}),
            "UpdateExpression": "SET " + ", ".join(f"#booking.#{name} = :{name}" for name in changes),
            "ConditionExpression": "#booking.#id = :id",
            "ExpressionAttributeNames": {"#booking": "booking", "#id": "id", **{f"#{n}": n for n in changes}},
            "ExpressionAttributeValues": values(id=booking.id, **changes),
        }
    }


def booking_in(item: Item) -> BookingRecord | None:
    """The booking an item of the bookings table holds; None for its other items (keys, holdings, ...)."""
    return booking_of(item) if str(item.get("sk", "")).startswith(_BOOKING) else None
