"""Orders: bookings of several ticket types (lines) in one transaction (docs/orders.md). The booking item and
its tickets are store/bookings.py's; the counter moves are store/inventory.py's take_lines.

One BatchGetItem reads the account, the holding, the Idempotency-Key, the promo code and the event's quota
and every line's type counter in shard 0 (plus the event's descriptive item unless this process read it in
the last second); a sharded event's other shards are read once more, to plan which shard each line takes
from. The transaction then holds each shard's quota once, each line's type counter per shard, the holding
once, the account check, the booking, its key, its tickets and the code's counter: at most 100 actions.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from boxoffice import shards
from boxoffice.errors import OrderTooLarge
from boxoffice.records import (
    BookingRecord,
    EventRecord,
    Holding,
    HoldRecord,
    IdempotencyClaim,
    IdempotencyRecord,
    Redemption,
    TicketType,
)
from boxoffice.store import bookings, dynamo, event_items, inventory, legacy, users
from boxoffice.store.bookings import BookingContext, IdTaken
from boxoffice.store.dynamo import Failed, Item, Transaction, bookings_table, events_table
from boxoffice.store.inventory import Taken

MAX_ACTIONS = 100  # DynamoDB's ceiling for one TransactWriteItems


class OrderStockChanged(Exception):
    """An order's counters failed their conditions: read them again and judge every line afresh."""


class Unplaceable(Exception):
    """No shard plan takes line `line` once the lines before it are placed: `available` is what the shards
    still had for it."""

    def __init__(self, line: int, available: int) -> None:
        super().__init__("unplaceable")
        self.line, self.available = line, available


def read(
    user_id: str, event_id: str, idempotency_key: str | None, type_ids: Sequence[str], promo_code: str | None
) -> BookingContext:
    """The order's one BatchGetItem (the module's docstring); the event's counters are every shard's once a
    sharded event's other shards are read (a second BatchGetItem)."""
    described = event_items.recent(event_id)
    if described is not None and any(t not in described["ticket_types"] for t in type_ids):
        described = None  # a type added since (or none such): read the event
    events_keys = [inventory.quota_key(event_id), *(inventory.type_key(event_id, t) for t in dict.fromkeys(type_ids))]
    if described is None:
        events_keys.append(event_items.event_key(event_id))
    keys: dict[str, list[dict[str, str]]] = {
        events_table(): events_keys,
        bookings_table(): [inventory.holding_key(user_id, event_id)],
    }
    if idempotency_key is not None:
        keys[bookings_table()].append(bookings.claim_key(user_id, idempotency_key))
    if promo_code is not None:
        from boxoffice.store import promocodes

        keys[events_table()] += [
            promocodes.definition_key(event_id, promo_code),
            promocodes.counter_key(event_id, promo_code),
        ]
    user, found = bookings.read_with_user(user_id, keys)
    items = found[events_table()]
    if described is None:
        described = next((i for i in items if i["sk"] == event_items.EVENT), None)
        if described is not None and "ticket_types" not in described and legacy.upgrade(event_id):
            return read(user_id, event_id, idempotency_key, type_ids, promo_code)
        if described is not None:
            event_items.keep(described)
    own = {i["sk"]: i for i in found[bookings_table()]}
    earlier = own.get(bookings.claim_key(user_id, idempotency_key)["sk"]) if idempotency_key is not None else None
    return BookingContext(
        user=user,
        event=_counted(event_items.describe(described), items) if described else None,
        holding=inventory.holding(own.get(inventory.holding_key(user_id, event_id)["sk"])),
        earlier=bookings.idempotency_of(earlier) if earlier else None,
        promo=bookings.promo_of_items(event_id, promo_code, items),
    )


def _counted(event: EventRecord, items: list[Item]) -> EventRecord:
    """The event with shard 0's quota and type counters from `items`; a sharded event's summed over every
    shard (one more BatchGetItem), so each line can be planned and judged."""
    main = inventory.event_pk(event.id)
    quota = next((i for i in items if i["pk"] == main and i["sk"] == inventory.QUOTA), None)
    if quota is None:
        return event
    counters = {
        i["sk"].removeprefix(inventory.TYPE): i for i in items if i["pk"] == main and i["sk"] != inventory.QUOTA
    }
    types = [inventory.with_counter(t, counters[t.id]) if t.id in counters else t for t in event.ticket_types]
    event = replace(inventory.with_quota(event, quota), ticket_types=tuple(types))
    if event.stocked == 1:
        return event
    keys = inventory.shard_keys(event.id, event.stocked, counters)
    return inventory.with_shards(event, types, dynamo.batch_get({events_table(): keys})[events_table()])


def plan(event: EventRecord, lines: Sequence[tuple[TicketType, int]]) -> list[dict[int, int]]:
    """Which shards each line takes from: all from shard 0 for an unsharded event; else each line from one
    shard with enough left after the lines before it (shards.plan: several only near sell-out). Unplaceable
    when a line finds too few in all (the lines were judged on the sums: only a spread can do this)."""
    if event.stocked == 1:
        return [{0: quantity} for _, quantity in lines]
    together = _one_shard(event, lines)
    if together is not None:  # the fewest actions: one quota update
        return [{together: quantity} for _, quantity in lines]
    left = list(event.shard_stock)
    planned = []
    for n, (ticket_type, quantity) in enumerate(lines):
        own = ticket_type.shard_stock if ticket_type.total_tickets is not None and ticket_type.shard_stock else None
        room = shards.combined(left, own)
        taken = shards.plan(room, quantity)
        if taken is None:
            raise Unplaceable(n, sum(room))
        for shard, part in taken.items():
            left[shard] -= part
        planned.append(taken)
    return planned


def _one_shard(event: EventRecord, lines: Sequence[tuple[TicketType, int]]) -> int | None:
    """A shard, at random, that has every line's tickets (and each type's share of its sub-quota) at once."""
    total = sum(quantity for _, quantity in lines)
    fits = [
        k
        for k, left in enumerate(event.shard_stock)
        if left >= total and all(t.total_tickets is None or (t.shard_stock and t.shard_stock[k] >= q) for t, q in lines)
    ]
    return random.choice(fits) if fits else None  # noqa: S311 - spreads load, guards nothing


def create(
    booking: BookingRecord,
    *,
    codes: Mapping[str, str],
    event: EventRecord,
    lines: Sequence[Taken],
    holding: Holding,
    token_version: int,
    claim: IdempotencyClaim | None,
    now: datetime,
    redemption: Redemption | None,
) -> IdempotencyRecord | None:
    """Book the order in one transaction (as bookings.create: the key's earlier booking instead, if it has
    one); OrderTooLarge beyond DynamoDB's 100 actions, OrderStockChanged when a counter's condition failed,
    the code's refusals as for a booking of one type."""
    tx = Transaction()
    inventory.take_lines(tx, event, lines, booking.user_id, now)
    users.check_current(tx, booking.user_id, token_version)
    bookings.add_booking(tx, booking, codes=codes, claim=claim, now=now)
    if redemption is not None:
        bookings.add_redemption(tx, booking.user_id, redemption, now)
    return _commit(tx, lines, redemption, now)


def place(
    hold: HoldRecord,
    *,
    event: EventRecord,
    lines: Sequence[Taken],
    holding: Holding,
    token_version: int,
    claim: IdempotencyClaim | None,
    now: datetime,
    redemption: Redemption | None,
) -> IdempotencyRecord | None:
    """Hold a cart in one transaction: create()'s counter moves as held, under the hold ceilings, with the
    hold (and `claim`'s key, standing for it) instead of a booking; the same refusals."""
    from boxoffice.store import holds  # only carts load the holds' store here

    tx = Transaction()
    inventory.take_lines(tx, event, lines, hold.user_id, now)
    users.check_current(tx, hold.user_id, token_version)
    if claim is not None:
        bookings.add_claim(tx, hold.user_id, claim, now=now, stands_for={"hold_id": hold.id})
    tx.add("hold", holds.put_action(hold))
    if redemption is not None:
        bookings.add_redemption(tx, hold.user_id, redemption, now)
    return _commit(tx, lines, redemption, now)


def _commit(
    tx: Transaction, lines: Sequence[Taken], redemption: Redemption | None, now: datetime
) -> IdempotencyRecord | None:
    """Commit an order's or a cart's transaction: OrderTooLarge beyond DynamoDB's 100 actions (nothing
    sent); what its key already stands for; the code's refusals; OrderStockChanged when a counter's
    condition failed; else IdTaken."""
    if len(tx) > MAX_ACTIONS:
        raise OrderTooLarge(len(tx), MAX_ACTIONS)
    try:
        tx.commit()
    except Failed as exc:
        earlier = bookings.replayed(exc)
        if earlier is not None:
            return earlier
        if redemption is not None:
            bookings.refuse_code(exc, redemption, now)
        if exc.failed("holding") or _stock_failed(exc, lines):
            raise OrderStockChanged() from None
        raise IdTaken() from None
    return None


def _stock_failed(failed: Failed, lines: Sequence[Taken]) -> bool:
    names = {inventory.quota_action(k) for x in lines for k in x.plan}
    names |= {inventory.line_action(inventory.type_action(k), n) for n, x in enumerate(lines) for k in x.plan}
    return any(failed.failed(name) for name in names)
