"""Inventory: the small counter items that every booking writes (an event's quota and ticket type
counters, a buyer's holding), and the ticket types' admin writes. Keys and attributes:
docs/data-model.md, "events" (quota, ticket type counter) and "bookings and tickets" (holding).

Counter items stay far below 1 KB and no booking writes an index key, because DynamoDB bills an update
by the larger of the old and new item, per started KB, twice inside a transaction.
`available + held + reserved + sold == total` holds on the quota at every commit (`available + held + sold
== total` on a sub-quota): each write moves two of them by the same amount. Open sale (bookings, holds)
draws on `available_tickets` only; tickets that come back go through `route_returned`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from boxoffice import retry
from boxoffice.records import EventRecord, Holding, TicketType
from boxoffice.store import line
from boxoffice.store.dynamo import ALL_OLD, Failed, Item, Transaction, bookings_table, dump, events_table, values
from boxoffice.vocabulary import EventStatus, Pool

QUOTA = "QUOTA"
TYPE = "TYPE#"


class StockChanged(Exception):
    """A booking's condition failed: the event (None: gone), the type (None: gone) and the buyer's holding
    as DynamoDB saw them, for the rules to judge again."""

    def __init__(self, event: EventRecord | None, ticket_type: TicketType | None, holding: Holding) -> None:
        super().__init__("stock changed")
        self.event, self.ticket_type, self.holding = event, ticket_type, holding


def event_pk(event_id: str) -> str:
    return f"EVENT#{event_id}"


def quota_key(event_id: str) -> dict[str, str]:
    return {"pk": event_pk(event_id), "sk": QUOTA}


def type_key(event_id: str, type_id: str) -> dict[str, str]:
    return {"pk": event_pk(event_id), "sk": f"{TYPE}{type_id}"}


def holding_key(user_id: str, event_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"HOLDING#{event_id}"}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _instant(raw: Any) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


# --- items ---


# The event's hold ceilings, on its descriptive and quota items alike (absent: the default).
HOLD_CEILINGS = ("max_held_tickets_per_user", "max_holds_per_user", "hold_cooldown_seconds")


def hold_ceilings(event: EventRecord) -> Item:
    return {name: getattr(event, name) for name in HOLD_CEILINGS}


def with_hold_ceilings(event: EventRecord, item: Item) -> EventRecord:
    """The event with the hold ceilings an item (descriptive or quota) stores."""

    def ceiling(name: str) -> int | None:
        return int(item[name]) if item.get(name) is not None else None

    return replace(
        event,
        max_held_tickets_per_user=ceiling("max_held_tickets_per_user"),
        max_holds_per_user=ceiling("max_holds_per_user"),
        hold_cooldown_seconds=ceiling("hold_cooldown_seconds"),
    )


def quota_item(event: EventRecord) -> Item:
    return {
        **quota_key(event.id),
        "total_tickets": event.total_tickets,
        "available_tickets": event.available_tickets,
        "sold": event.sold,
        "status": event.status,
        "starts_at": event.starts_at.isoformat(),
        "currency": event.currency,
        "max_tickets_per_booking": event.max_tickets_per_booking,
        "max_tickets_per_user": event.max_tickets_per_user,
        **hold_ceilings(event),
    }


def type_item(event_id: str, ticket_type: TicketType) -> Item:
    sub_quota = ticket_type.total_tickets is not None
    return {
        **type_key(event_id, ticket_type.id),
        "sold": ticket_type.sold,
        "total_tickets": ticket_type.total_tickets,
        "available_tickets": (ticket_type.total_tickets or 0) - ticket_type.sold if sub_quota else None,
        "price": ticket_type.price,
        "max_tickets_per_booking": ticket_type.max_tickets_per_booking,
        "sales_start": _iso(ticket_type.sales_start),
        "sales_end": _iso(ticket_type.sales_end),
    }


def with_quota(event: EventRecord, item: Item) -> EventRecord:
    """The event with the counters (and the copies) of its quota item."""
    cap = item.get("max_tickets_per_user")
    event = with_hold_ceilings(event, item)
    return replace(
        event,
        total_tickets=int(item["total_tickets"]),
        available_tickets=int(item["available_tickets"]),
        held=int(item.get("held", 0)),
        reserved=int(item.get("reserved", 0)),
        status=EventStatus(item["status"]),
        starts_at=datetime.fromisoformat(item["starts_at"]),
        currency=item["currency"],
        max_tickets_per_booking=int(item["max_tickets_per_booking"]),
        max_tickets_per_user=int(cap) if cap is not None else None,
        waiting=int(item.get("waiting", 0)),
    )


def with_counter(ticket_type: TicketType, item: Item) -> TicketType:
    """The type with the counters (and the copies) of its counter item."""
    total, available = item.get("total_tickets"), item.get("available_tickets")
    return replace(
        ticket_type,
        sold=int(item["sold"]),
        held=int(item.get("held", 0)),
        total_tickets=int(total) if total is not None else None,
        available_tickets=int(available) if available is not None else None,
        price=Decimal(item["price"]),
        max_tickets_per_booking=int(item["max_tickets_per_booking"]),
        sales_start=_instant(item.get("sales_start")),
        sales_end=_instant(item.get("sales_end")),
    )


def holding(item: Item | None) -> Holding:
    if not item:
        return Holding()
    until = item.get("cooldown_until")
    return Holding(
        tickets=int(item.get("tickets", 0)),
        held_tickets=int(item.get("held_tickets", 0)),
        holds=int(item.get("holds", 0)),
        cooldown_until=from_ms(int(until)) if until is not None else None,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(moment: datetime) -> int:
    """Epoch milliseconds, exactly (no float rounding): how instants that conditions compare are stored."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(epoch_ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=epoch_ms)


# --- a booking takes, a cancel gives back ---


CANCELLED_TICKETS = "cancelled_tickets"  # ADD q by every cancel
_REVENUE = "revenue_"  # revenue_<CURRENCY>: ADD a booking's total, minus it again by its cancel


def revenue_attribute(currency: str) -> str:
    """Currencies are three capital letters (validated on the way in): safe in an attribute name."""
    return f"{_REVENUE}{currency}"


def revenue(item: Item) -> dict[str, Decimal]:
    """A quota or type item's revenue by currency."""
    return {name.removeprefix(_REVENUE): Decimal(v) for name, v in item.items() if name.startswith(_REVENUE)}


_HELD = "held = if_not_exists(held, :zero) + :qty"  # a hold's count; absent on items written before holds


def _counted(sale: Decimal | None) -> str:
    """What the tickets taken count as: sold (a booking's, with its `sale` total), else held."""
    return "sold = sold + :qty" if sale is not None else _HELD


def take(
    tx: Transaction,
    event: EventRecord,
    ticket_type: TicketType,
    user_id: str,
    quantity: int,
    now: datetime,
    *,
    sale: Decimal | None,
) -> None:
    """Add the counter moves that take tickets off open sale: `quota`, `type` and `holding`, each with the
    condition it must meet. `sale`: a booking's total (the tickets count as sold, and its revenue); None for
    a hold (they count as held until it is confirmed, released or expired).

    Besides enough tickets (in the event's quota and the type's sub-quota), the event must be on sale and
    not started, the type on sale, and the price, currency and limits be those the booking was judged by.
    """
    cap = event.max_tickets_per_user
    revenue_names = {"#revenue": revenue_attribute(event.currency)} if sale is not None else {}
    # A hold also pins the hold ceilings it was judged by, as read: a ceiling changed since fails it.
    ceilings, ceiling_values = _pinned_ceilings(event) if sale is None else ("", {})
    tx.add(
        "quota",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(quota_key(event.id)),
                # The stats counters ride along: revenue_<CURRENCY> counts the money taken.
                "UpdateExpression": f"SET available_tickets = available_tickets - :qty, {_counted(sale)}"
                + (" ADD #revenue :amount" if sale is not None else ""),
                "ConditionExpression": "#status = :on_sale AND starts_at > :now AND available_tickets >= :qty"
                " AND currency = :currency AND max_tickets_per_booking >= :qty AND "
                + ("attribute_not_exists(max_tickets_per_user)" if cap is None else "max_tickets_per_user = :cap")
                + ceilings,
                "ExpressionAttributeNames": {"#status": "status", **revenue_names},
                "ExpressionAttributeValues": values(
                    qty=quantity,
                    on_sale=EventStatus.ON_SALE,
                    now=now.isoformat(),
                    currency=event.currency,
                    **({"amount": sale} if sale is not None else {"zero": 0}),
                    **({} if cap is None else {"cap": cap}),
                    **ceiling_values,
                ),
                **ALL_OLD,
            }
        },
    )
    _take_type(tx, event, ticket_type, quantity, now, sale=sale)
    if sale is None:
        _take_holding_for_hold(tx, user_id, event, quantity, now)
    else:
        _take_holding(tx, user_id, event.id, quantity, cap)


def _pinned_ceilings(event: EventRecord) -> tuple[str, dict[str, Any]]:
    """The quota's condition that the hold ceilings are those of `event` (each absent, or equal), and its
    values. The default held-tickets ceiling follows max_tickets_per_booking: that is pinned too."""
    conditions, pinned = [], {}
    for name in HOLD_CEILINGS:
        value = getattr(event, name)
        conditions.append(f"attribute_not_exists({name})" if value is None else f"{name} = :{name}")
        if value is not None:
            pinned[name] = value
    if event.max_held_tickets_per_user is None:
        conditions.append("max_tickets_per_booking = :per_booking")
        pinned["per_booking"] = event.max_tickets_per_booking
    return "".join(f" AND {c}" for c in conditions), pinned


def _take_type(
    tx: Transaction, event: EventRecord, ticket_type: TicketType, quantity: int, now: datetime, *, sale: Decimal | None
) -> None:
    """The type's count (sold, with the `sale` revenue, or held) and its sub-quota's, while it sells at the
    price and limits it was judged by."""
    sub_quota = ticket_type.total_tickets is not None
    revenue_names = {"#revenue": revenue_attribute(event.currency)} if sale is not None else {}
    tx.add(
        "type",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(type_key(event.id, ticket_type.id)),
                # A booking's revenue rides along on the type too, as on the quota.
                "UpdateExpression": f"SET {_counted(sale)}"
                + (", available_tickets = available_tickets - :qty" if sub_quota else "")
                + (" ADD #revenue :amount" if sale is not None else ""),
                "ConditionExpression": "price = :price AND max_tickets_per_booking >= :qty"
                " AND (attribute_not_exists(sales_start) OR sales_start <= :now)"
                " AND (attribute_not_exists(sales_end) OR sales_end > :now) AND "
                + ("available_tickets >= :qty" if sub_quota else "attribute_not_exists(available_tickets)"),
                **({"ExpressionAttributeNames": revenue_names} if revenue_names else {}),
                "ExpressionAttributeValues": values(
                    qty=quantity,
                    price=ticket_type.price,
                    now=now.isoformat(),
                    **({"amount": sale} if sale is not None else {"zero": 0}),
                ),
                **ALL_OLD,
            }
        },
    )


def _take_holding(tx: Transaction, user_id: str, event_id: str, quantity: int, cap: int | None) -> None:
    """The buyer's live tickets of the event + :qty, within the event's per-user cap."""
    holding_update: dict[str, Any] = {
        "TableName": bookings_table(),
        "Key": dump(holding_key(user_id, event_id)),
        "UpdateExpression": "ADD tickets :qty",
        "ExpressionAttributeValues": values(qty=quantity),
    }
    if cap is not None:
        holding_update["ConditionExpression"] = "attribute_not_exists(tickets) OR tickets <= :room"
        holding_update["ExpressionAttributeValues"] = values(qty=quantity, room=cap - quantity)
        holding_update.update(ALL_OLD)
    tx.add("holding", {"Update": holding_update})


def _take_holding_for_hold(tx: Transaction, user_id: str, event: EventRecord, quantity: int, now: datetime) -> None:
    """A hold the buyer places: their live tickets + :qty within the per-user cap, as a booking's, and within
    the hold ceilings (held tickets, holds), and only once a cool-down of theirs has ended."""
    cap = event.max_tickets_per_user
    conditions = [
        "(attribute_not_exists(held_tickets) OR held_tickets <= :held_room)",
        "(attribute_not_exists(holds) OR holds <= :holds_room)",
        "(attribute_not_exists(cooldown_until) OR cooldown_until <= :now)",
    ]
    named: dict[str, Any] = {
        "qty": quantity,
        "one": 1,
        "held_room": event.held_ceiling - quantity,
        "holds_room": event.holds_ceiling - 1,
        "now": ms(now),
    }
    if cap is not None:
        conditions.append("(attribute_not_exists(tickets) OR tickets <= :room)")
        named["room"] = cap - quantity
    tx.add(
        "holding",
        {
            "Update": {
                "TableName": bookings_table(),
                "Key": dump(holding_key(user_id, event.id)),
                "UpdateExpression": "ADD tickets :qty, held_tickets :qty, holds :one",
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeValues": values(**named),
                **ALL_OLD,
            }
        },
    )


def unhold(tx: Transaction, user_id: str, event_id: str, quantity: int) -> None:
    """A hold the buyer placed is confirmed: its tickets stay theirs (`tickets`) but leave the hold ceilings."""
    tx.add(
        "holding",
        {
            "Update": {
                "TableName": bookings_table(),
                "Key": dump(holding_key(user_id, event_id)),
                "UpdateExpression": "ADD held_tickets :minus, holds :minus_one",
                "ExpressionAttributeValues": values(minus=-quantity, minus_one=-1),
            }
        },
    )


def allot(
    tx: Transaction,
    event: EventRecord,
    ticket_type: TicketType,
    user_id: str,
    quantity: int,
    now: datetime,
    *,
    legacy_line: bool = False,
) -> None:
    """Add a waiting-list offer's counter moves: `quota` moves the tickets from `reserved` to `held` (and
    counts one fewer WAITING for an entry of a `legacy_line`: a sharded line counts its own), `type` and
    `holding` as a hold's (the type selling at its price, the per-user cap)."""
    cap = event.max_tickets_per_user
    tx.add(
        "quota",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(quota_key(event.id)),
                "UpdateExpression": f"SET reserved = reserved - :qty, {_HELD}"
                + (" ADD waiting :minus_one" if legacy_line else ""),
                "ConditionExpression": "#status = :on_sale AND starts_at > :now AND reserved >= :qty AND "
                + ("attribute_not_exists(max_tickets_per_user)" if cap is None else "max_tickets_per_user = :cap"),
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(
                    qty=quantity,
                    zero=0,
                    **({"minus_one": -1} if legacy_line else {}),
                    on_sale=EventStatus.ON_SALE,
                    now=now.isoformat(),
                    **({} if cap is None else {"cap": cap}),
                ),
                **ALL_OLD,
            }
        },
    )
    _take_type(tx, event, ticket_type, quantity, now, sale=None)
    _take_holding(tx, user_id, event.id, quantity, cap)


def settle(
    tx: Transaction, *, event_id: str, type_id: str, quantity: int, amount: Decimal, currency: str, now: datetime
) -> None:
    """Add a hold's confirm moves: `quota` and `type` move its tickets from held to sold (the revenue
    rides along on both), while the event is on sale and has not started. The holding stays as it is: the
    tickets stay the buyer's."""
    tx.add(
        "quota",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(quota_key(event_id)),
                "UpdateExpression": "SET held = held - :qty, sold = sold + :qty ADD #revenue :amount",
                "ConditionExpression": "#status = :on_sale AND starts_at > :now AND held >= :qty",
                "ExpressionAttributeNames": {"#status": "status", "#revenue": revenue_attribute(currency)},
                "ExpressionAttributeValues": values(
                    qty=quantity, amount=amount, on_sale=EventStatus.ON_SALE, now=now.isoformat()
                ),
                **ALL_OLD,
            }
        },
    )
    tx.add(
        "type",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(type_key(event_id, type_id)),
                "UpdateExpression": "SET held = held - :qty, sold = sold + :qty ADD #revenue :amount",
                "ConditionExpression": "held >= :qty",
                "ExpressionAttributeNames": {"#revenue": revenue_attribute(currency)},
                "ExpressionAttributeValues": values(qty=quantity, amount=amount),
                **ALL_OLD,
            }
        },
    )


# --- where returned tickets go ---

# The quota item's condition that nobody is WAITING in its legacy line (absent: nobody ever was); `:zero` is 0.
# A sharded line's counters are store/line.py's: `check_waiters` adds their conditions to the transaction.
NOBODY_WAITS = "(attribute_not_exists(waiting) OR waiting = :zero)"
# A quota item with tickets in its `reserved` pool carries POOL_KEY = POOLED: the sparse index BY_POOL lists
# those events for the sweeper, which hands each pool on (logic/waitlist.py), so no request need finish.
BY_POOL, POOL_KEY, POOLED = "by_pool", "pool_pk", "RESERVED"


# A returning quota's condition names the event's status as this (give_back also names it #status).
POOL_NAMES: Final = {"#line_status": "status"}

# Who waits for an event's returns: a line shard seen with someone in it (line.LEGACY: the quota's own
# line), NOBODY (every counter 0), UNUSED (nobody ever joined the event's sharded line: the quota has no
# LINE_USED, so no counter need be checked), or CLOSED (the event deleted or started: nobody can be offered
# anything).
NOBODY: Final = "nobody"
UNUSED: Final = "unused"
CLOSED: Final = "closed"
Waiters = int | str
# Set on the quota by an event's first join into the sharded line (never removed): until then a return
# checks no line counter, so the events nobody queues for pay nothing for the line's shards.
LINE_USED: Final = "line_used"


def returned(
    pool: Pool, quantity: str = "qty", *, now: datetime | None = None, seen: Waiters = UNUSED
) -> tuple[str, str, dict[str, Any]]:
    """The quota's SET clause that puts the `:<quantity>` returned tickets in `pool`, the quota's part of the
    condition that it is the right pool (open sale while nobody waits, `reserved` while anyone does, as
    `seen`), and their values; check_waiters adds the line counters' part.

    With `now`, the line counts only while it is open, the event on sale and not started (a deleted or
    started event's waiters can never be offered its tickets); the condition then names POOL_NAMES.
    """
    line_open = "#line_status = :line_on_sale AND starts_at > :line_now"
    open_values = {"line_on_sale": EventStatus.ON_SALE, "line_now": now.isoformat()} if now is not None else {}
    if pool == Pool.AVAILABLE:
        to_sale = f"available_tickets = available_tickets + :{quantity}"
        if seen == CLOSED and now is not None:
            return to_sale, f"NOT ({line_open})", open_values
        nobody = NOBODY_WAITS if seen == NOBODY else f"attribute_not_exists({LINE_USED}) AND {NOBODY_WAITS}"
        return to_sale, f"{nobody} AND {line_open}" if now is not None else nobody, {"zero": 0, **open_values}
    clause = f"reserved = if_not_exists(reserved, :zero) + :{quantity}, {POOL_KEY} = :pooled"
    someone = ["waiting > :zero"] if seen == line.LEGACY else []
    condition = " AND ".join([*someone, *([line_open] if now is not None else [])]) or "attribute_exists(pk)"
    return clause, condition, {"zero": 0, "pooled": POOLED, **open_values}


def check_waiters(tx: Transaction, event_id: str, seen: Waiters) -> None:
    """The line counters' part of the pool's condition: every counter 0 (NOBODY), or the shard seen with
    someone in it still has someone (the legacy line and a closed one are the quota's part)."""
    if seen == NOBODY:
        line.check_nobody(tx, event_id)
    elif isinstance(seen, int) and seen != line.LEGACY:
        line.check_someone(tx, event_id, seen)


def waiters_for(event_id: str, pool: Pool | None = None) -> Waiters:
    """Who waits for the event's returns as this process last saw it (UNUSED if it never did: the cheapest
    guess), in the terms of `pool` when given (the pool the caller commits to)."""
    seen = _last_seen.get(event_id, UNUSED)
    if pool == Pool.RESERVED and not isinstance(seen, int):
        return line.LEGACY
    if pool == Pool.AVAILABLE and isinstance(seen, int):
        return NOBODY
    return seen


def pool_of(seen: Waiters) -> Pool:
    return Pool.RESERVED if isinstance(seen, int) else Pool.AVAILABLE


def learned(event_id: str, failed: Failed, now: datetime | None, tried: Waiters) -> bool:
    """Whether a transaction that returned tickets under `tried`'s conditions failed because someone else
    waits (or nobody does, or the line closed): then that is remembered for its next try."""
    seen = _seen_in(failed, now, tried)
    if seen == NOBODY and tried == UNUSED:  # the line has been used: one read guesses better than 8 checks
        shard = line.counts(event_id).someone()
        seen = NOBODY if shard is None else shard
    if seen is None or seen == tried:
        return False
    _remember(event_id, seen)
    return True


def _seen_in(failed: Failed, now: datetime | None, tried: Waiters) -> Waiters | None:
    """Who waits, as a failed transaction's items show it; None: they show nothing about it."""
    if failed.failed("quota"):
        quota = failed.old("quota")
        if quota is None:
            return None
        if now is not None and not line_open(quota, now):
            return CLOSED
        if int(quota.get("waiting", 0)) > 0:
            return line.LEGACY
        used = NOBODY if LINE_USED in quota else UNUSED
        return used if tried in (CLOSED, line.LEGACY, UNUSED) and used != tried else None  # else: something else
    shard = line.seen_waiting(failed)
    if shard is not None:
        return shard
    return NOBODY if failed.failed("waiters") else None


def line_open(quota: Item, now: datetime) -> bool:
    """Whether the event's line is open, for its quota item as DynamoDB saw it: its event on sale and not
    started (returns may be kept for it; else they go on open sale)."""
    return quota.get("status") == EventStatus.ON_SALE and datetime.fromisoformat(quota["starts_at"]) > now


# Who waited for each event's returns when this process last saw: the first guess of its next return, so
# that while people wait, a busy event's cancels and the sweeper's releases do not each lose a transaction
# to the open-sale condition first. A guess only: the conditions decide. Bounded: cleared when full.
_last_seen: dict[str, Waiters] = {}
_LAST_POOL_EVENTS = 1024


def route_returned(event_id: str, commit: Callable[[Pool], None], now: datetime) -> Pool:
    """Commit a transaction that returns tickets to the event's quota, into the right pool; returns the pool.

    `commit(pool)` builds and commits the whole transaction, its `quota` action returning the tickets to
    `pool` under that pool's conditions (give_back, release: the quota's, and the line counters' as
    check_waiters adds them). Tried with who waited at this event's last return in this process (nobody,
    if none), and when a condition fails showing that someone else waits, or nobody, or that the line
    closed, that is remembered and the transaction goes round again (retry.once: with the step it is part
    of, if any). Every other failure is the caller's.
    """

    def step() -> Pool:
        seen = waiters_for(event_id)
        try:
            commit(pool_of(seen))
        except Failed as exc:
            if not learned(event_id, exc, now, seen):
                raise
            raise retry.Again() from None
        return pool_of(seen)

    return retry.once(step)


def _remember(event_id: str, seen: Waiters) -> None:
    if len(_last_seen) >= _LAST_POOL_EVENTS:
        _last_seen.clear()
    _last_seen[event_id] = seen


def stock_changed(failed: Failed, event: EventRecord, ticket_type: TicketType, held: Holding) -> StockChanged:
    """What a booking whose counters failed their conditions now faces, from the failed items alone."""
    seen_event: EventRecord | None = event
    seen_type: TicketType | None = ticket_type
    if failed.failed("quota"):
        old = failed.old("quota")
        seen_event = with_quota(event, old) if old else None
    if failed.failed("type"):
        old = failed.old("type")
        seen_type = with_counter(ticket_type, old) if old else None
    if failed.failed("holding"):
        held = holding(failed.old("holding"))
    return StockChanged(seen_event, seen_type, held)


def give_back(
    tx: Transaction,
    *,
    event_id: str,
    type_id: str,
    sub_quota: bool,
    user_id: str | None,
    quantity: int,
    refund: Decimal,
    currency: str,
    starts_at: datetime,
    status: EventStatus,
    pool: Pool,
    now: datetime,
) -> None:
    """Add a cancel's counter moves: `quota` (sold -> `pool`, only before the event starts, and while it
    starts at `starts_at` with `status`, so the answer can show it), `type`, and `holding` (`user_id` None:
    the booking was never counted there). Commit it through route_returned."""
    seen = waiters_for(event_id, pool)
    to_pool, right_pool, pool_values = returned(pool, now=now, seen=seen)
    check_waiters(tx, event_id, seen)
    tx.add(
        "quota",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(quota_key(event_id)),
                "UpdateExpression": f"SET {to_pool}, sold = sold - :qty ADD {CANCELLED_TICKETS} :qty, #revenue :refund",
                "ConditionExpression": "starts_at > :now AND starts_at = :starts_at AND #status = :status AND "
                + right_pool,
                "ExpressionAttributeNames": {
                    "#status": "status",
                    "#revenue": revenue_attribute(currency),
                    **POOL_NAMES,
                },
                "ExpressionAttributeValues": values(
                    qty=quantity,
                    refund=-refund,
                    now=now.isoformat(),
                    starts_at=starts_at.isoformat(),
                    status=status,
                    **pool_values,
                ),
                **ALL_OLD,
            }
        },
    )
    _give_back_type(tx, event_id, type_id, sub_quota=sub_quota, quantity=quantity, refund=(refund, currency))
    if user_id is not None:
        _give_back_holding(tx, user_id, event_id, quantity)


def release(
    tx: Transaction,
    *,
    event_id: str,
    type_id: str,
    sub_quota: bool,
    user_id: str,
    quantity: int,
    pool: Pool,
    now: datetime,
    placed: bool,
    cooldown_until: datetime | None,
) -> None:
    """Add a hold's release moves: `quota` (held -> `pool`; a deleted event's tombstone takes them back too,
    as for a cancel), `type` (held -> its sub-quota, if it has one) and `holding` (`placed`: a hold the
    buyer placed, counted under the hold ceilings; `cooldown_until`: an expiry's, no hold before it).
    Commit it through route_returned."""
    seen = waiters_for(event_id, pool)
    to_pool, right_pool, pool_values = returned(pool, now=now, seen=seen)
    check_waiters(tx, event_id, seen)
    tx.add(
        "quota",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(quota_key(event_id)),
                "UpdateExpression": f"SET held = held - :qty, {to_pool}",
                "ConditionExpression": f"held >= :qty AND {right_pool}",
                "ExpressionAttributeNames": POOL_NAMES,
                "ExpressionAttributeValues": values(qty=quantity, **pool_values),
                **ALL_OLD,
            }
        },
    )
    _give_back_type(tx, event_id, type_id, sub_quota=sub_quota, quantity=quantity, refund=None)
    _give_back_holding(tx, user_id, event_id, quantity, placed=placed, cooldown_until=cooldown_until)


def _give_back_type(
    tx: Transaction,
    event_id: str,
    type_id: str,
    *,
    sub_quota: bool,
    quantity: int,
    refund: tuple[Decimal, str] | None,
) -> None:
    """The type gives `quantity` back, to its sub-quota if it has one (as `sub_quota` says: the condition
    fails, with ALL_OLD, if it no longer does): from sold with `refund` (a cancel's amount and currency,
    counted as on the quota), from held without (a hold's release)."""
    counter = "sold" if refund else "held"
    tx.add(
        "type",
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(type_key(event_id, type_id)),
                "UpdateExpression": f"SET {counter} = {counter} - :qty"
                + (", available_tickets = available_tickets + :qty" if sub_quota else "")
                + (f" ADD {CANCELLED_TICKETS} :qty, #revenue :refund" if refund else ""),
                "ConditionExpression": f"{counter} >= :qty AND "
                + ("attribute_exists(available_tickets)" if sub_quota else "attribute_not_exists(available_tickets)"),
                **({"ExpressionAttributeNames": {"#revenue": revenue_attribute(refund[1])}} if refund else {}),
                "ExpressionAttributeValues": values(qty=quantity, **({"refund": -refund[0]} if refund else {})),
                **ALL_OLD,
            }
        },
    )


def _give_back_holding(
    tx: Transaction,
    user_id: str,
    event_id: str,
    quantity: int,
    *,
    placed: bool = False,
    cooldown_until: datetime | None = None,
) -> None:
    named: dict[str, Any] = {"minus": -quantity}
    update = "ADD tickets :minus"
    if placed:
        update += ", held_tickets :minus, holds :minus_one"
        named["minus_one"] = -1
    if cooldown_until is not None:
        update = f"SET cooldown_until = :until {update}"
        named["until"] = ms(cooldown_until)
    tx.add(
        "holding",
        {
            "Update": {
                "TableName": bookings_table(),
                "Key": dump(holding_key(user_id, event_id)),
                "UpdateExpression": update,
                "ExpressionAttributeValues": values(**named),
            }
        },
    )


def has_sub_quota(item: Item | None) -> bool | None:
    """Whether a type's counter item (as a failed cancel saw it) has a sub-quota; None: it is gone."""
    return None if item is None else "available_tickets" in item


def reprice(event_id: str, ticket_type: TicketType) -> dict[str, Any]:
    """The type's counter item takes its new price (the copy its booking condition pins)."""
    return {
        "Update": {
            "TableName": events_table(),
            "Key": dump(type_key(event_id, ticket_type.id)),
            "UpdateExpression": "SET price = :price",
            "ConditionExpression": "attribute_exists(sold)",
            "ExpressionAttributeValues": values(price=ticket_type.price),
        }
    }
