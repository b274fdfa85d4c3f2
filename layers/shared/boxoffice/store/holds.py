"""Checkout holds, in the bookings table: tickets out of open sale until confirmed, released or expired.
Keys, attributes and the expiry indexes: docs/data-model.md, "bookings and tickets".

Each change is one TransactWriteItems. Placing takes the tickets off open sale under a booking's own
conditions (store/inventory.py: take, counted as held); confirming moves HELD -> CONFIRMED and writes the
booking and its tickets, the counters only moving held -> sold (inventory.settle); releasing moves HELD ->
RELEASED or EXPIRED and returns them (inventory.release, through route_returned). Expiry is decided by
`held_until` inside each write (confirm: still in the future; expiry: not), never by TTL or by a sweep
having run, so of a confirm and a release racing at the deadline exactly one commits, and a hold goes
back once, whoever gets there first.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from boxoffice import retry
from boxoffice.config import settings
from boxoffice.records import (
    BookingRecord,
    EventRecord,
    HeldLine,
    Holding,
    HoldRecord,
    IdempotencyClaim,
    IdempotencyRecord,
    Redemption,
    TicketType,
)
from boxoffice.store import bookings as booking_store
from boxoffice.store import dynamo, event_items, inventory, users, waitlist
from boxoffice.store.bookings import IdTaken
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
    values,
)
from boxoffice.vocabulary import EntryStatus, EventStatus, HoldStatus, Pool, UserRecord

BY_EXPIRY = "by_expiry"
BY_EVENT_EXPIRY = "by_event_expiry"
_HOLD = "HOLD#"
# by_expiry's partition keys: a hold writes its shard's partition when placed and when it ends (4 WCU with a
# transaction's doubling), so one key takes 250 holds a second. 32 take 8,000: more than the bookings table's
# default quota lets through (5,000 holds a second at 8 WCU each), so the index never binds first; 16 would
# stop below one event's 5,000/s. Lowering it would strand the holds of the keys dropped: sweep them too.
EXPIRY_SHARDS = 32
# The one key every hold had before the shards: still read by the sweeper, so holds placed before the
# upgrade go back like any other (no migration step; none is placed under it any more).
LEGACY_EXPIRY_KEY = "HELD"
EXPIRY_KEYS = (*(f"HELD#{n}" for n in range(EXPIRY_SHARDS)), LEGACY_EXPIRY_KEY)


# by_event_expiry's partition keys (`held_event`): a hold that took tickets from a stock shard other than 0
# writes one of EVENT_EXPIRY_SHARDS keys of its event (`<event id>#<n>`), so a sharded event's holds spread
# as its stock does: 4 WCU a hold on a key, 250 holds a second each, 4,000 over 16; a key takes 2 of the
# ~14 WCU a hold writes in all, 1/112 of the event's writes, under a 90-shard event's 1/90 per stock shard.
# Any other hold (every hold of an unsharded event, and all placed before the spread) keeps the event's id.
EVENT_EXPIRY_SHARDS = 16


def expiry_key(hold_id: str) -> str:
    """The hold's by_expiry partition key."""
    return f"HELD#{dynamo.spread(hold_id, EXPIRY_SHARDS)}"


def event_expiry_key(record: HoldRecord) -> str:
    """The hold's by_event_expiry partition key."""
    if all(shard == 0 for shard, _ in record.shards):
        return record.event_id
    return f"{record.event_id}#{dynamo.spread(record.id, EVENT_EXPIRY_SHARDS)}"


def event_expiry_keys(event_id: str, sharded: bool) -> list[str]:
    """Where one event's holds are in by_event_expiry: its own id, then (a sharded event) its spread keys
    in a random order, so that no key is always read last."""
    spread = [f"{event_id}#{n}" for n in range(EVENT_EXPIRY_SHARDS)] if sharded else []
    random.shuffle(spread)
    return [event_id, *spread]


def hold_attributes(record: HoldRecord) -> Item:
    item: Item = {
        "id": record.id,
        "user_id": record.user_id,
        "event_id": record.event_id,
        "ticket_type_id": record.ticket_type_id,
        "ticket_type_name": record.ticket_type_name,
        "ticket_type_quota": record.ticket_type_quota,
        "quantity": record.quantity,
        "unit_price": record.unit_price,
        "currency": record.currency,
        "status": record.status,
        "expires_at": record.expires_at.isoformat(),
        "created_at": record.created_at.isoformat(),
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "booking_id": record.booking_id,
        "waiting_entry_id": record.waiting_entry_id,
        "cooldown_until": inventory.ms(record.cooldown_until) if record.cooldown_until else None,
        "shards": booking_store.shards_attribute(record.shards),
        "lines": _lines_attribute(record.lines),
        **booking_store.promo_attributes(record),
    }
    if record.status == HoldStatus.HELD:
        item.update(
            held=expiry_key(record.id), held_event=event_expiry_key(record), held_until=inventory.ms(record.expires_at)
        )
    return item


def _lines_attribute(lines: Iterable[HeldLine]) -> list[Item] | None:
    """A cart's lines, as stored (absent for a hold of one type)."""
    return [{**booking_store.line_attributes(x), "quantity": x.quantity} for x in lines] or None


def _lines_of(item: Mapping[str, Any]) -> tuple[HeldLine, ...]:
    return tuple(HeldLine(quantity=int(x["quantity"]), **booking_store.line_fields(x)) for x in item.get("lines") or ())


def hold_item(record: HoldRecord) -> Item:
    """The whole item, keys included (a Put of a new hold)."""
    return {**hold_key(record.user_id, record.id), **hold_attributes(record)}


def hold_of(item: Mapping[str, Any]) -> HoldRecord:
    ended_at, cooldown_until = item.get("ended_at"), item.get("cooldown_until")
    return HoldRecord(
        id=item["id"],
        user_id=item["user_id"],
        event_id=item["event_id"],
        ticket_type_id=item["ticket_type_id"],
        ticket_type_name=item["ticket_type_name"],
        ticket_type_quota=bool(item.get("ticket_type_quota", False)),
        quantity=int(item["quantity"]),
        unit_price=Decimal(item["unit_price"]),
        currency=item["currency"],
        status=HoldStatus(item["status"]),
        expires_at=datetime.fromisoformat(item["expires_at"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        ended_at=datetime.fromisoformat(ended_at) if ended_at else None,
        booking_id=item.get("booking_id"),
        waiting_entry_id=item.get("waiting_entry_id"),
        cooldown_until=inventory.from_ms(int(cooldown_until)) if cooldown_until is not None else None,
        shards=booking_store.shards_of(item),
        **booking_store.promo_of(item),
        lines=_lines_of(item),
    )


@dataclass(frozen=True, slots=True)
class ConfirmContext:
    """What a confirm reads first, in one BatchGetItem."""

    user: UserRecord | None
    hold: HoldRecord | None
    earlier: IdempotencyRecord | None  # what the Idempotency-Key already stands for, expired or not


class HoldChanged(Exception):
    """The hold failed the transaction's condition; `hold` is it as DynamoDB saw it (None: missing)."""

    def __init__(self, hold: HoldRecord | None) -> None:
        super().__init__("hold changed")
        self.hold = hold


class EventGone(Exception):
    """A confirm's condition on the event's quota failed: the event is deleted or has started; `seen` is its
    quota item as DynamoDB saw it (None: no such item)."""

    def __init__(self, seen: tuple[datetime, EventStatus] | None) -> None:
        super().__init__("event gone")
        self.seen = seen


def expiry_of(now: datetime) -> datetime:
    """HOLD_SECONDS from now, to the millisecond: the same instant as `expires_at` and as `held_until`."""
    later = now + timedelta(seconds=settings().hold_seconds)
    return later.replace(microsecond=later.microsecond // 1000 * 1000)


def _offer_ends(tx: Transaction, hold: HoldRecord, status: EntryStatus, now: datetime) -> None:
    """A waiting-list offer's entry ends with its hold (BOOKED, EXPIRED or LEFT), in the hold's transaction."""
    if hold.waiting_entry_id is not None:
        tx.add(
            "entry",
            waitlist.offer_ended(hold.user_id, hold.event_id, hold.waiting_entry_id, status=status, now=now),
        )


def hold_key(user_id: str, hold_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{_HOLD}{hold_id}"}


def _hold_changed(exc: Failed) -> HoldChanged:
    old = exc.old("hold")
    return HoldChanged(hold_of(old) if old else None)


def place(
    hold: HoldRecord,
    *,
    event: EventRecord,
    ticket_type: TicketType,
    holding: Holding,
    token_version: int,
    claim: IdempotencyClaim | None,
    now: datetime,
    redemption: Redemption | None = None,
) -> IdempotencyRecord | None:
    """Take the tickets and put the hold (and `claim`'s key, standing for it), in one transaction, under a
    booking's conditions and the hold ceilings (inventory.take); otherwise StockChanged carries the event,
    the type and the holding as DynamoDB saw them. Returns what `claim`'s key already stands for, if it is
    taken (nothing is then written). A `redemption`'s code uses move with the hold, as a booking's
    (store/bookings.py: create), and go back when it is released or expires."""
    tx = Transaction()
    plan = inventory.plan_for(event, ticket_type, holding, hold.quantity)
    hold = replace(hold, shards=tuple(sorted(plan.items())))
    inventory.take(tx, event, ticket_type, hold.user_id, hold.quantity, now, sale=None, plan=plan)
    users.check_current(tx, hold.user_id, token_version)
    if claim is not None:
        booking_store.add_claim(tx, hold.user_id, claim, now=now, stands_for={"hold_id": hold.id})
    tx.add("hold", put_action(hold))
    if redemption is not None:
        booking_store.add_redemption(tx, hold.user_id, redemption, now)
    try:
        tx.commit()
    except retry.Conflict as exc:
        raise inventory.elsewhere(exc, event, ticket_type, holding, plan) or exc from None
    except Failed as exc:
        earlier = booking_store.replayed(exc)
        if earlier is not None:
            return earlier
        if redemption is not None:
            booking_store.refuse_code(exc, redemption, now)
        if exc.failed("holding") or inventory.failed_quota(exc, plan)[0] or inventory.failed_type_shape(exc, plan)[0]:
            raise inventory.stock_changed(exc, event, ticket_type, holding, plan) from None
        raise IdTaken() from None
    return None


def put_action(hold: HoldRecord) -> dict[str, Any]:
    """The Put of a new hold (its id never taken before)."""
    return {
        "Put": {
            "TableName": bookings_table(),
            "Item": dump(hold_item(hold)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def event_of(hold: HoldRecord) -> EventRecord | None:
    """The hold's event as described (no counters), by one GetItem: what its booking shows of it."""
    item = dynamo.get(events_table(), event_items.event_key(hold.event_id))
    return event_items.describe(item) if item else None


def read_hold(user_id: str, hold_id: str) -> tuple[UserRecord | None, HoldRecord | None]:
    """The caller's account and their hold (None: not theirs, or none such), in one BatchGetItem."""
    user, found = booking_store.read_with_user(user_id, {bookings_table(): [hold_key(user_id, hold_id)]})
    items = found.get(bookings_table(), [])
    return user, (hold_of(items[0]) if items else None)


def read_for_confirm(user_id: str, hold_id: str, key: str | None) -> ConfirmContext:
    """The account, the hold and what the Idempotency-Key stands for, in one BatchGetItem."""
    keys = [hold_key(user_id, hold_id)] + ([booking_store.claim_key(user_id, key)] if key is not None else [])
    user, found = booking_store.read_with_user(user_id, {bookings_table(): keys})
    items = found.get(bookings_table(), [])
    hold = next((hold_of(i) for i in items if i["sk"].startswith(_HOLD)), None)
    earlier = next((booking_store.idempotency_of(i) for i in items if not i["sk"].startswith(_HOLD)), None)
    return ConfirmContext(user, hold, earlier)


def confirm(
    hold: HoldRecord,
    booking: BookingRecord,
    *,
    codes: Mapping[str, str],
    token_version: int,
    claim: IdempotencyClaim | None,
    now: datetime,
) -> IdempotencyRecord | None:
    """HELD -> CONFIRMED and the booking with its tickets, in one transaction; or what `claim`'s key
    already stands for (nothing is then written).

    The hold must be HELD and not yet expired (HoldChanged carries it otherwise); its event on sale and
    not started (EventGone otherwise). The counters only move the tickets from held to sold, in the stock
    shards the hold took them from (the booking records those).
    """
    booking = replace(booking, shards=hold.shards)
    tx = Transaction()
    tx.add(
        "hold",
        {
            "Update": {
                "TableName": bookings_table(),
                "Key": dump(hold_key(hold.user_id, hold.id)),
                "UpdateExpression": "SET #status = :confirmed, booking_id = :booking, ended_at = :at"
                " REMOVE held, held_event, held_until",
                "ConditionExpression": "#status = :held AND held_until > :now",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(
                    confirmed=HoldStatus.CONFIRMED,
                    booking=booking.id,
                    at=now.isoformat(),
                    held=HoldStatus.HELD,
                    now=inventory.ms(now),
                ),
                **ALL_OLD,
            }
        },
    )
    sold = [
        inventory.Settled(x.ticket_type.id, dict(x.shards), (x.unit_price - x.unit_discount) * x.quantity)
        for x in hold.held_lines
    ]
    inventory.settle_lines(tx, hold.event_id, sold, currency=hold.currency, now=now)
    if hold.cooldown_until is not None:
        inventory.unhold(tx, hold.user_id, hold.event_id, hold.quantity)
    users.check_current(tx, hold.user_id, token_version)
    _offer_ends(tx, hold, EntryStatus.BOOKED, now)
    booking_store.add_booking(tx, booking, codes=codes, claim=claim, now=now)
    try:
        tx.commit()
    except Failed as exc:
        earlier = booking_store.replayed(exc)
        if earlier is not None:
            return earlier
        if exc.failed("hold"):
            raise _hold_changed(exc) from None
        failed_quota, quota = inventory.failed_quota(exc, hold.source)
        if failed_quota:
            raise EventGone(
                (datetime.fromisoformat(quota["starts_at"]), EventStatus(quota["status"])) if quota else None
            ) from None
        raise IdTaken() from None
    return None


def release(
    hold: HoldRecord, *, ended: HoldStatus, now: datetime, token_version: int | None = None
) -> tuple[HoldRecord, Pool]:
    """HELD -> `ended` (RELEASED or EXPIRED) and the tickets back (to open sale, or kept for the waiting
    list: inventory.route_returned), in one transaction.

    EXPIRED only once `expires_at` has passed; RELEASED is the owner's (`token_version` is then theirs,
    checked in the same transaction). Of any number of racing releases and confirms of one hold exactly
    one commits; the others get HoldChanged with the hold as it is. Returns the hold as released and the
    Pool its tickets went to; a waiting-list offer's entry ends with it.
    """
    try:
        pool = _route_release(hold, ended=ended, now=now, by=token_version)
    except Failed as exc:
        reshaped = _reshaped(exc, hold)
        if reshaped is None and not exc.failed("promo"):
            raise
        # A type of it gained or lost a sub-quota since, or its code was deleted (or made again: it gets
        # nothing back): the release in the form that fits now (not a retry: nothing was judged from a read,
        # and a second failure is the caller's).
        hold = reshaped or hold
        if exc.failed("promo"):
            hold = replace(hold, promo_code_id=None)
        pool = _route_release(hold, ended=ended, now=now, by=token_version)
    return replace(hold, status=ended, ended_at=now), pool


def _reshaped(failed: Failed, hold: HoldRecord) -> HoldRecord | None:
    """The hold with the sub-quota a failed type counter of one of its lines has now (None: none failed so)."""
    for n, line in enumerate(hold.held_lines):
        for shard, _ in line.shards:
            name = inventory.line_action(inventory.type_action(shard), n)
            shape = inventory.has_sub_quota(failed.old(name)) if failed.failed(name) else None
            if shape is None or shape == line.ticket_type.sub_quota:
                continue
            if not hold.lines:
                return replace(hold, ticket_type_quota=shape)
            flipped = replace(line, ticket_type=replace(line.ticket_type, sub_quota=shape))
            return replace(hold, lines=tuple(flipped if k == n else x for k, x in enumerate(hold.lines)))
    return None


def _route_release(hold: HoldRecord, *, ended: HoldStatus, now: datetime, by: int | None) -> Pool:
    """route_returned with the release's transaction; its hold's failure said as such."""
    try:
        commit = partial(_release, hold, ended=ended, now=now, by=by)
        return inventory.route_returned(hold.event_id, commit, now)
    except Failed as exc:
        if exc.failed("hold"):
            raise _hold_changed(exc) from None
        raise


def _release(hold: HoldRecord, pool: Pool, *, ended: HoldStatus, now: datetime, by: int | None) -> None:
    condition = "#status = :held" + (" AND held_until <= :now" if ended == HoldStatus.EXPIRED else "")
    tx = Transaction()
    tx.add(
        "hold",
        {
            "Update": {
                "TableName": bookings_table(),
                "Key": dump(hold_key(hold.user_id, hold.id)),
                "UpdateExpression": "SET #status = :ended, ended_at = :at REMOVE held, held_event, held_until",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(
                    ended=ended,
                    at=now.isoformat(),
                    held=HoldStatus.HELD,
                    **({"now": inventory.ms(now)} if ended == HoldStatus.EXPIRED else {}),
                ),
                **ALL_OLD,
            }
        },
    )
    lines = hold.held_lines
    inventory.release_lines(
        tx,
        hold.event_id,
        [inventory.Returned(x.ticket_type.id, x.ticket_type.sub_quota, dict(x.shards), Decimal(0)) for x in lines],
        user_id=hold.user_id,
        pool=pool,
        now=now,
        placed=hold.cooldown_until is not None,
        cooldown_until=hold.cooldown_until if ended == HoldStatus.EXPIRED else None,  # the buyer let it lapse
    )
    if by is not None:
        users.check_current(tx, hold.user_id, by)
    counted = [x for x in lines if x.promo_counted]
    if counted:
        given = sum((x.unit_discount * x.quantity for x in counted), Decimal(0))
        booking_store.give_back_code(tx, hold, sum(x.quantity for x in counted), given)
    _offer_ends(
        tx, hold, EntryStatus.EXPIRED if ended == HoldStatus.EXPIRED else EntryStatus.LEFT, now
    )  # released: the user declined it
    tx.commit()


def expired(now: datetime, *, event_id: str, sharded: bool, limit: int) -> list[HoldRecord]:
    """Up to `limit` of one event's holds still HELD past their expiry: a Query of by_event_expiry per key of
    the event (one for an unsharded event; of a sharded one's 17, only until `limit` are found), each reading
    only expired holds, soonest first, at most `limit` items in all. The index lags its table by a moment;
    the release's own condition is what decides."""
    found: list[HoldRecord] = []
    for key in event_expiry_keys(event_id, sharded):
        found += _page(BY_EVENT_EXPIRY, "held_event = :key", key, now, limit - len(found), None)[0]
        if len(found) == limit:
            break
    return found


class ExpiredHolds:
    """The sweeper's reading of by_expiry: the holds of every event still HELD past their expiry, round after
    round, over every key (the shards, and the key before them).

    A round's `limit` is split evenly over the keys not yet read to their end, the odd ones going to the
    keys at the front, which then move to the back: a key with a backlog takes its share of each round and
    no more, so it delays no other key's holds. Each key is read on from where its last page stopped (the
    holds before were released or had changed meanwhile), so nothing is read twice and a run ends.
    """

    def __init__(self) -> None:
        self._keys = list(EXPIRY_KEYS)
        self._starts: dict[str, dict[str, Any] | None] = {}

    @property
    def done(self) -> bool:
        """Every key read to its end."""
        return not self._keys

    def next_round(self, now: datetime, *, limit: int) -> list[HoldRecord]:
        """Up to `limit` holds expired by `now`, spread over the keys, soonest expired first."""
        base, odd = divmod(limit, len(self._keys)) if self._keys else (0, 0)
        shares = {key: base + (n < odd) for n, key in enumerate(self._keys)}
        self._keys = self._keys[odd:] + self._keys[:odd]
        found: list[HoldRecord] = []
        for key, share in shares.items():
            if share == 0:
                continue
            page, start = _page(BY_EXPIRY, "held = :key", key, now, share, self._starts.get(key))
            found += page
            self._starts[key] = start
            if start is None:
                self._keys.remove(key)
        return sorted(found, key=lambda hold: hold.expires_at)


def _page(
    index: str, key: str, value: str, now: datetime, limit: int, start: dict[str, Any] | None
) -> tuple[list[HoldRecord], dict[str, Any] | None]:
    query: dict[str, Any] = {
        "TableName": bookings_table(),
        "IndexName": index,
        "KeyConditionExpression": f"{key} AND held_until <= :now",
        "ExpressionAttributeValues": values(key=value, now=inventory.ms(now)),
        "Limit": limit,
    }
    if start is not None:
        query["ExclusiveStartKey"] = start
    with aws_errors():
        raw = client().query(**query)
    return [hold_of(load(item)) for item in raw.get("Items", [])], raw.get("LastEvaluatedKey")
