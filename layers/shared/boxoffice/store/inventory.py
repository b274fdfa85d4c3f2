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

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from boxoffice import clock, retry, shards
from boxoffice.records import EventRecord, Holding, Stock, TicketType
from boxoffice.store import dynamo, line
from boxoffice.store.dynamo import ALL_OLD, Failed, Item, Transaction, bookings_table, dump, events_table, values
from boxoffice.vocabulary import EventStatus, Pool

QUOTA = "QUOTA"
TYPE = "TYPE#"
SHARD = "#S"


class StockChanged(Exception):
    """A booking's condition failed: the event (None: gone), the type (None: gone) and the buyer's holding
    as DynamoDB saw them, for the rules to judge again."""

    def __init__(self, event: EventRecord | None, ticket_type: TicketType | None, holding: Holding) -> None:
        super().__init__("stock changed")
        self.event, self.ticket_type, self.holding = event, ticket_type, holding


def event_pk(event_id: str) -> str:
    return f"EVENT#{event_id}"


def shard_pk(event_id: str, shard: int = 0) -> str:
    """A stock shard's partition key: shard 0 is the event's own (its quota and type counters, as before
    shards existed), shard k > 0 `EVENT#<id>#S<k>`, a partition of its own."""
    return event_pk(event_id) if shard == 0 else f"{event_pk(event_id)}{SHARD}{shard}"


def shard_of(pk: str) -> int:
    _, _, shard = pk.partition(SHARD)
    return int(shard) if shard else 0


def event_of(pk: str) -> str:
    """The event id of a stock shard's partition key (any shard's)."""
    return pk.removeprefix(event_pk("")).partition(SHARD)[0]


def quota_key(event_id: str, shard: int = 0) -> dict[str, str]:
    return {"pk": shard_pk(event_id, shard), "sk": QUOTA}


def type_key(event_id: str, type_id: str, shard: int = 0) -> dict[str, str]:
    return {"pk": shard_pk(event_id, shard), "sk": f"{TYPE}{type_id}"}


def quota_action(shard: int) -> str:
    """A transaction's name for a shard's stock item: shard 0's is the event's quota."""
    return "quota" if shard == 0 else f"quota#{shard}"


def type_action(shard: int) -> str:
    return "type" if shard == 0 else f"type#{shard}"


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


# The copies of the event's rules on every stock shard's item, which a booking's or a hold's condition reads.
QUOTA_COPIES = ("status", "starts_at", "currency", "max_tickets_per_booking", "max_tickets_per_user", *HOLD_CEILINGS)


def rules(event: EventRecord) -> Item:
    return {
        "status": event.status,
        "starts_at": event.starts_at.isoformat(),
        "currency": event.currency,
        "max_tickets_per_booking": event.max_tickets_per_booking,
        "max_tickets_per_user": event.max_tickets_per_user,
        **hold_ceilings(event),
    }


def quota_item(event: EventRecord, shard: int = 0, stock: int | None = None) -> Item:
    """A stock shard's item with `stock` tickets on open sale (None: all the event has); shard 0's is the
    event's quota, which also keeps its total (and its waiting list's pool and count)."""
    counts = {"total_tickets": event.total_tickets, "sold": event.sold} if shard == 0 else {"sold": 0, MARKED: True}
    return {
        **quota_key(event.id, shard),
        "available_tickets": event.available_tickets if stock is None else stock,
        **counts,
        **rules(event),
    }


def type_item(event_id: str, ticket_type: TicketType, shard: int = 0, stock: int | None = None) -> Item:
    """A type's counter in a stock shard, with `stock` of its sub-quota (None: all it has left); shard 0's
    keeps the sub-quota's total."""
    sub_quota = ticket_type.total_tickets is not None
    left = (ticket_type.total_tickets or 0) - ticket_type.sold if stock is None else stock
    return {
        **type_key(event_id, ticket_type.id, shard),
        "sold": ticket_type.sold if shard == 0 else 0,
        "total_tickets": ticket_type.total_tickets if shard == 0 else None,
        "available_tickets": left if sub_quota else None,
        **type_rules(ticket_type),
    }


def type_rules(ticket_type: TicketType) -> Item:
    """The copies of the type's rules on each of its counters, which its booking's condition reads."""
    return {
        "price": ticket_type.price,
        "max_tickets_per_booking": ticket_type.max_tickets_per_booking,
        "sales_start": _iso(ticket_type.sales_start),
        "sales_end": _iso(ticket_type.sales_end),
    }


def stock_items(event: EventRecord) -> list[Item]:
    """A new event's stock: its tickets (and each sub-quota) split evenly over its shards."""
    count = event.inventory_shards
    items = [quota_item(event, k, stock) for k, stock in enumerate(shards.split(event.available_tickets, count))]
    for t in event.ticket_types:
        sub = shards.split(t.total_tickets - t.sold, count) if t.total_tickets is not None else [0] * count
        items += [type_item(event.id, t, k, stock) for k, stock in enumerate(sub)]
    return items


def shard_keys(event_id: str, count: int, type_ids: Iterable[str]) -> list[dict[str, str]]:
    """The stock items of shards 1.. (shard 0's are the event's own): quota and the types'."""
    types = list(type_ids)
    return [
        key for k in range(1, count) for key in (quota_key(event_id, k), *(type_key(event_id, t, k) for t in types))
    ]


def with_rules(event: EventRecord, item: Item) -> EventRecord:
    """The event with the copies of its rules on a stock shard's item."""
    cap = item.get("max_tickets_per_user")
    event = with_hold_ceilings(event, item)
    return replace(
        event,
        status=EventStatus(item["status"]),
        starts_at=datetime.fromisoformat(item["starts_at"]),
        currency=item["currency"],
        max_tickets_per_booking=int(item["max_tickets_per_booking"]),
        max_tickets_per_user=int(cap) if cap is not None else None,
    )


def with_quota(event: EventRecord, item: Item) -> EventRecord:
    """The event with the counters (and the copies) of its quota item: shard 0's, so its open stock is
    known only if it has no other shard."""
    return replace(
        with_rules(event, item),
        total_tickets=int(item["total_tickets"]),
        available_tickets=int(item["available_tickets"]),
        held=int(item.get("held", 0)),
        reserved=int(item.get("reserved", 0)),
        pools=(),
        waiting=int(item.get("waiting", 0)),
        line_used=LINE_USED in item,
        stock_known=event.stocked == 1,
    )


def with_shards(event: EventRecord, types: Iterable[TicketType], items: Iterable[Item]) -> EventRecord:
    """The event and its types (with shard 0's counters) summed over every stock shard's items, from `items`
    (shards 1.. as read; an event whose every shard was not read keeps its stock unknown)."""
    quotas: dict[int, Item] = {}
    counters: dict[str, dict[int, Item]] = {}
    for item in items:
        shard = shard_of(item["pk"])
        if item["sk"] == QUOTA:
            quotas[shard] = item
        elif item["sk"].startswith(TYPE):
            counters.setdefault(item["sk"].removeprefix(TYPE), {})[shard] = item
    others = range(1, event.stocked)
    if not all(k in quotas for k in others):
        return replace(event, ticket_types=tuple(types))
    stock = (event.available_tickets, *(int(quotas[k]["available_tickets"]) for k in others))
    pools = (event.reserved, *(int(quotas[k].get("reserved", 0)) for k in others))
    summed = []
    for t in types:
        parts = counters.get(t.id, {})
        own: tuple[int, ...] = ()
        if t.available_tickets is not None:
            own = (
                t.available_tickets,
                *(int(parts[k].get("available_tickets", 0)) if k in parts else 0 for k in others),
            )
        summed.append(
            replace(
                t,
                sold=t.sold + sum(int(parts[k]["sold"]) for k in parts),
                held=t.held + sum(int(parts[k].get("held", 0)) for k in parts),
                available_tickets=sum(own) if own else None,
                shard_stock=own,
            )
        )
    return replace(
        event,
        available_tickets=sum(stock),
        held=event.held + sum(int(quotas[k].get("held", 0)) for k in others),
        reserved=sum(pools),
        pools=pools,
        shard_stock=stock,
        stock_known=True,
        ticket_types=tuple(summed),
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


def with_counters(ticket_type: TicketType, items: list[Item]) -> TicketType:
    """The type with its counters summed over its stock shards' items (shard 0's first)."""
    first = with_counter(ticket_type, items[0])
    others = items[1:]
    available = first.available_tickets
    return replace(
        first,
        sold=first.sold + sum(int(i["sold"]) for i in others),
        held=first.held + sum(int(i.get("held", 0)) for i in others),
        available_tickets=None
        if available is None
        else available + sum(int(i.get("available_tickets", 0)) for i in others),
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
    plan: shards.Plan | None = None,
) -> None:
    """Add the counter moves that take tickets off open sale: in each stock shard of `plan` (shard -> tickets;
    None: all from shard 0) its `quota` and `type` items, and the buyer's `holding`, each with the condition
    it must meet. `sale`: a booking's total (the tickets count as sold, and its revenue, shared over the
    shards); None for a hold (they count as held until it is confirmed, released or expired).

    Besides enough tickets (in each shard's stock and its share of the type's sub-quota), the event must be
    on sale and not started, the type on sale, and the price, currency and limits be those the booking was
    judged by: every shard's items carry copies of them.
    """
    take_lines(tx, event, [Taken(ticket_type, quantity, plan or {0: quantity}, sale)], user_id, now)


@dataclass(frozen=True, slots=True)
class Taken:
    """One line of a take: `quantity` tickets of a type from the shards of `plan`, for `sale` (a booking's
    line total; None for a hold)."""

    ticket_type: TicketType
    quantity: int
    plan: shards.Plan
    sale: Decimal | None


def line_action(action: str, line: int) -> str:
    """A transaction's name for line `line`'s item (a type counter): line 0's keeps the one-type name."""
    return action if line == 0 else f"{action}@{line}"


def take_lines(tx: Transaction, event: EventRecord, lines: Sequence[Taken], user_id: str, now: datetime) -> None:
    """take() for the lines of one order (distinct types, all sales or all holds): each shard's `quota` once,
    with the sum of the lines' parts there (DynamoDB refuses two actions on one item in a transaction),
    each line's type counter in each of its shards (`type@<line>`), and the `holding` once with the sum."""
    cap = event.max_tickets_per_user
    selling = lines[0].sale is not None
    whole = sum(x.quantity for x in lines)
    revenue_names = {"#revenue": revenue_attribute(event.currency)} if selling else {}
    # A hold also pins the hold ceilings it was judged by, as read: a ceiling changed since fails it.
    ceilings, ceiling_values = _pinned_ceilings(event) if not selling else ("", {})
    per_shard: dict[int, tuple[int, Decimal]] = {}
    for x in lines:
        for shard, part in x.plan.items():
            taken, money = per_shard.get(shard, (0, Decimal(0)))
            share = x.sale * part / x.quantity if x.sale is not None else Decimal(0)
            per_shard[shard] = (taken + part, money + share)
    for shard, (part, money) in per_shard.items():
        amount = {"amount": money} if selling else {"zero": 0}
        tx.add(
            quota_action(shard),
            {
                "Update": {
                    "TableName": events_table(),
                    "Key": dump(quota_key(event.id, shard)),
                    # The stats counters ride along: revenue_<CURRENCY> counts the money taken.
                    "UpdateExpression": f"SET available_tickets = available_tickets - :qty, {_counted(lines[0].sale)}"
                    + (" ADD #revenue :amount" if selling else ""),
                    "ConditionExpression": "#status = :on_sale AND starts_at > :now AND available_tickets >= :qty"
                    " AND currency = :currency AND max_tickets_per_booking >= :whole AND "
                    + ("attribute_not_exists(max_tickets_per_user)" if cap is None else "max_tickets_per_user = :cap")
                    + ceilings,
                    "ExpressionAttributeNames": {"#status": "status", **revenue_names},
                    "ExpressionAttributeValues": values(
                        qty=part,
                        whole=whole,
                        on_sale=EventStatus.ON_SALE,
                        now=now.isoformat(),
                        currency=event.currency,
                        **amount,
                        **({} if cap is None else {"cap": cap}),
                        **ceiling_values,
                    ),
                    **ALL_OLD,
                }
            },
        )
    for n, x in enumerate(lines):
        for shard, part in x.plan.items():
            _take_type(tx, event, x.ticket_type, x.quantity, now, sale=x.sale, shard=shard, part=part, line=n)
    if not selling:
        _take_holding_for_hold(tx, user_id, event, whole, now)
    else:
        _take_holding(tx, user_id, event.id, whole, cap)


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
    tx: Transaction,
    event: EventRecord,
    ticket_type: TicketType,
    quantity: int,
    now: datetime,
    *,
    sale: Decimal | None,
    shard: int = 0,
    part: int | None = None,
    line: int = 0,
) -> None:
    """The type's count in `shard` (its `part` of the `quantity`: sold, with its share of the `sale`
    revenue, or held) and its share of the sub-quota, while it sells at the price and limits it was judged by
    (as `line` of an order)."""
    sub_quota = ticket_type.total_tickets is not None
    revenue_names = {"#revenue": revenue_attribute(event.currency)} if sale is not None else {}
    part = quantity if part is None else part
    tx.add(
        line_action(type_action(shard), line),
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(type_key(event.id, ticket_type.id, shard)),
                # A booking's revenue rides along on the type too, as on the quota.
                "UpdateExpression": f"SET {_counted(sale)}"
                + (", available_tickets = available_tickets - :qty" if sub_quota else "")
                + (" ADD #revenue :amount" if sale is not None else ""),
                "ConditionExpression": "price = :price AND max_tickets_per_booking >= :whole"
                " AND (attribute_not_exists(sales_start) OR sales_start <= :now)"
                " AND (attribute_not_exists(sales_end) OR sales_end > :now) AND "
                + ("available_tickets >= :qty" if sub_quota else "attribute_not_exists(available_tickets)"),
                **({"ExpressionAttributeNames": revenue_names} if revenue_names else {}),
                "ExpressionAttributeValues": values(
                    qty=part,
                    whole=quantity,
                    price=ticket_type.price,
                    now=now.isoformat(),
                    **({"amount": sale * part / quantity} if sale is not None else {"zero": 0}),
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
    taken: shards.Plan,
    shard: int = 0,
    legacy_line: bool = False,
) -> None:
    """Add a waiting-list offer's counter moves: each stock shard of `taken` (shard -> tickets)
    gives its part of its `reserved` (`reserved >= part` decides, with its copies of the status, the start
    and the per-user cap), and the tickets become `held` in `shard` (whose type counter gives its share of a
    sub-quota: offer_shard); shard 0's quota counts one fewer WAITING for an entry of a `legacy_line` (a
    sharded line counts its own); `type` and `holding` as a hold's (the type selling at its price, the
    per-user cap). At most one update a stock shard (90) beside 7 other actions: within one transaction."""
    cap = event.max_tickets_per_user
    rules = "#status = :on_sale AND starts_at > :now AND reserved >= :part AND " + (
        "attribute_not_exists(max_tickets_per_user)" if cap is None else "max_tickets_per_user = :cap"
    )
    for k in sorted({*taken, shard, *((0,) if legacy_line else ())}):
        sets = (["reserved = reserved - :part"] if k in taken else []) + ([_HELD] if k == shard else [])
        update = (f"SET {', '.join(sets)}" if sets else "") + (
            " ADD waiting :minus_one" if k == 0 and legacy_line else ""
        )
        named: dict[str, Any] = {
            **({"part": taken[k], "on_sale": EventStatus.ON_SALE, "now": now.isoformat()} if k in taken else {}),
            **({"cap": cap} if k in taken and cap is not None else {}),
            **({"qty": quantity, "zero": 0} if k == shard else {}),
            **({"minus_one": -1} if k == 0 and legacy_line else {}),
        }
        guarded = (
            {"ConditionExpression": rules, "ExpressionAttributeNames": {"#status": "status"}, **ALL_OLD}
            if k in taken
            else {}
        )
        tx.add(
            quota_action(k),
            {
                "Update": {
                    "TableName": events_table(),
                    "Key": dump(quota_key(event.id, k)),
                    "UpdateExpression": update.strip(),
                    **guarded,
                    "ExpressionAttributeValues": values(**named),
                }
            },
        )
    _take_type(tx, event, ticket_type, quantity, now, sale=None, shard=shard)
    _take_holding(tx, user_id, event.id, quantity, cap)


def pools_of(event: EventRecord) -> tuple[int, ...]:
    """Each stock shard's part of the event's pool, as read (shard 0's alone when no other shard was read)."""
    return event.pools or (event.reserved,)


def offer_shard(event: EventRecord, ticket_type: TicketType, quantity: int, taken: shards.Plan) -> int:
    """The stock shard an offer's hold counts in: the one it takes most of the pool from (`taken`: shards.plan
    over pools_of), unless the type's sub-quota is spread over shards: then the first whose share is enough
    (one atomic read; 0 if none is: the offer's condition then fails)."""
    if ticket_type.total_tickets is None or event.stocked == 1:
        return max(taken, key=lambda k: (taken[k], -k))
    stock = [int(i.get("available_tickets", 0)) for i in type_stock(event, ticket_type.id)]
    return next((k for k, left in enumerate(stock) if left >= quantity), 0)


def settle(
    tx: Transaction,
    *,
    event_id: str,
    type_id: str,
    parts: shards.Plan,
    amount: Decimal,
    currency: str,
    now: datetime,
) -> None:
    """Add a hold's confirm moves: in each stock shard it holds tickets in (`parts`: shard -> tickets), its
    `quota` and `type` items move them from held to sold (the revenue, `amount` in all, shared over them),
    while the event is on sale and has not started. The holding stays as it is: the tickets stay the buyer's."""
    settle_lines(tx, event_id, [Settled(type_id, parts, amount)], currency=currency, now=now)


@dataclass(frozen=True, slots=True)
class Settled:
    """One line of a confirmed cart: its type's tickets held in the shards of `parts`, sold for `amount`."""

    type_id: str
    parts: shards.Plan
    amount: Decimal


def settle_lines(tx: Transaction, event_id: str, lines: Sequence[Settled], *, currency: str, now: datetime) -> None:
    """settle() for a cart's lines: each shard's quota once with the sum of the lines' tickets and revenue
    there, each line's type counter in its shards (`type@<line>`)."""
    per_shard: dict[int, tuple[int, Decimal]] = {}
    for x in lines:
        quantity = sum(x.parts.values())
        for shard, part in x.parts.items():
            taken, money = per_shard.get(shard, (0, Decimal(0)))
            per_shard[shard] = (taken + part, money + x.amount * part / quantity)
    for shard, (part, share) in per_shard.items():
        tx.add(
            quota_action(shard),
            {
                "Update": {
                    "TableName": events_table(),
                    "Key": dump(quota_key(event_id, shard)),
                    "UpdateExpression": "SET held = held - :qty, sold = sold + :qty ADD #revenue :amount",
                    "ConditionExpression": "#status = :on_sale AND starts_at > :now AND held >= :qty",
                    "ExpressionAttributeNames": {"#status": "status", "#revenue": revenue_attribute(currency)},
                    "ExpressionAttributeValues": values(
                        qty=part, amount=share, on_sale=EventStatus.ON_SALE, now=now.isoformat()
                    ),
                    **ALL_OLD,
                }
            },
        )
    for n, x in enumerate(lines):
        quantity = sum(x.parts.values())
        for shard, part in x.parts.items():
            tx.add(
                line_action(type_action(shard), n),
                {
                    "Update": {
                        "TableName": events_table(),
                        "Key": dump(type_key(event_id, x.type_id, shard)),
                        "UpdateExpression": "SET held = held - :qty, sold = sold + :qty ADD #revenue :amount",
                        "ConditionExpression": "held >= :qty",
                        "ExpressionAttributeNames": {"#revenue": revenue_attribute(currency)},
                        "ExpressionAttributeValues": values(qty=part, amount=x.amount * part / quantity),
                        **ALL_OLD,
                    }
                },
            )


def failed_quota(failed: Failed, parts: Iterable[int]) -> tuple[bool, Item | None]:
    """Whether one of the shards' stock items failed its condition, and the first such as DynamoDB saw it."""
    for shard in parts:
        if failed.failed(quota_action(shard)):
            return True, failed.old(quota_action(shard))
    return False, None


# --- where returned tickets go ---

# The quota item's condition that nobody is WAITING in its legacy line (absent: nobody ever was); `:zero` is 0.
# A sharded line's counters are store/line.py's: `check_waiters` adds their conditions to the transaction.
NOBODY_WAITS = "(attribute_not_exists(waiting) OR waiting = :zero)"
# A quota item with tickets in its `reserved` pool carries POOL_KEY = pool_key(...): the sparse index BY_POOL
# lists those shards for the sweeper, which hands each event's pool on (logic/waitlist.py), so no request need
# finish. Listed under one of POOL_KEYS keys by event and shard, so that no index partition takes every
# listing of an on-sale; POOLED alone: listed before the keys were spread (the sweeper still reads it).
BY_POOL, POOL_KEY, POOLED = "by_pool", "pool_pk", "RESERVED"
POOL_KEYS: Final = 32


def pool_key(event_id: str, shard: int = 0) -> str:
    """The by_pool partition a stock shard's pool is listed under."""
    return f"{POOLED}#{dynamo.spread(f'{event_id}#{shard}', POOL_KEYS)}"


def pool_keys() -> list[str]:
    """Every by_pool partition: the spread ones, and the one pools were listed under before."""
    return [POOLED, *(f"{POOLED}#{n}" for n in range(POOL_KEYS))]


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
# Set on every stock shard's quota by an event's first join into the sharded line (copied onto the shards a
# re-shard adds), taken off every one once the line is empty again (store/marks.py): without it a return
# checks no line counter, so the events nobody queues for (any more) pay nothing for the line's shards.
LINE_USED: Final = "line_used"
# Set on the stock shards a re-shard adds while shard 0's quota counts a line from before the line shards
# (`waiting` > 0; it only falls): a shard's own item cannot say whether that line still waits, so a return
# to such a shard takes shard 0's condition (NOBODY_WAITS). Absent, a shard's condition is NO_LEGACY_LINE.
LEGACY_LINE: Final = "legacy_line"
# On every stock shard (k > 0) written since shards keep the line's marks: one written before (an event
# sharded, or re-sharded, by an earlier version) may lack LINE_USED although its event's line was used, so
# a return to it takes shard 0's condition, as a LEGACY_LINE mark makes it.
MARKED: Final = "line_marks"
NO_LEGACY_LINE: Final = f"attribute_exists({MARKED}) AND attribute_not_exists({LEGACY_LINE})"


def line_marks(event: EventRecord) -> Item:
    """The line's marks a new stock shard's quota copies from shard 0's, as read (LINE_USED, LEGACY_LINE)."""
    return {**({LINE_USED: True} if event.line_used else {}), **({LEGACY_LINE: True} if event.waiting > 0 else {})}


def returned(
    pool: Pool,
    quantity: str = "qty",
    *,
    pooled: str,
    now: datetime | None = None,
    seen: Waiters = UNUSED,
    on_shard: bool = False,
) -> tuple[str, str, dict[str, Any]]:
    """The quota's SET clause that puts the `:<quantity>` returned tickets in `pool`, the quota's part of the
    condition that it is the right pool (open sale while nobody waits, `reserved` while anyone does, as
    `seen`), and their values; check_waiters adds the line counters' part. `on_shard`: open sale's part as
    another stock shard's quota states it (its copies; no line from before the shards marked on it).

    With `now`, the line counts only while it is open, the event on sale and not started (a deleted or
    started event's waiters can never be offered its tickets); the condition then names POOL_NAMES.
    """
    line_open = "#line_status = :line_on_sale AND starts_at > :line_now"
    open_values = {"line_on_sale": EventStatus.ON_SALE, "line_now": now.isoformat()} if now is not None else {}
    if pool == Pool.AVAILABLE:
        to_sale = f"available_tickets = available_tickets + :{quantity}"
        if seen == CLOSED and now is not None:
            return to_sale, f"NOT ({line_open})", open_values
        old_line = NO_LEGACY_LINE if on_shard else NOBODY_WAITS
        # NOBODY holds only while marked: a return to an unmarked line fails once and learns UNUSED.
        used = "attribute_exists" if seen == NOBODY else "attribute_not_exists"
        nobody = f"{used}({LINE_USED}) AND {old_line}"
        return to_sale, f"{nobody} AND {line_open}" if now is not None else nobody, {"zero": 0, **open_values}
    clause = f"reserved = if_not_exists(reserved, :zero) + :{quantity}, {POOL_KEY} = :pooled"
    someone = ["waiting > :zero"] if seen == line.LEGACY else []
    condition = " AND ".join([*someone, *([line_open] if now is not None else [])]) or "attribute_exists(pk)"
    return clause, condition, {"zero": 0, "pooled": pooled, **open_values}


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
    waits (or nobody does, or the line closed), or on a stock shard marked with a line from before the
    shards (its returns take shard 0's condition from then on): then that is remembered for its next try."""
    _, quota = _pool_quota(failed)
    # The condition sat on the returning shards' own quotas; a shard's marks matter to open sale's alone.
    on_shard = "quota" not in failed.reasons and pool_of(tried) == Pool.AVAILABLE
    unmarked = quota is not None and on_shard and (LEGACY_LINE in quota or MARKED not in quota)
    if unmarked and event_id not in _shard_zero_returns:
        if len(_shard_zero_returns) >= _LAST_POOL_EVENTS:
            _shard_zero_returns.clear()
        _shard_zero_returns.add(event_id)
        return True
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
    lost, quota = _pool_quota(failed)
    if lost:
        if quota is None:
            return None
        if now is not None and not line_open(quota, now):
            return CLOSED
        if int(quota.get("waiting", 0)) > 0:
            return line.LEGACY
        used = NOBODY if LINE_USED in quota else UNUSED
        # (else: something else made it fail)
        return used if tried in (CLOSED, line.LEGACY, UNUSED, NOBODY) and used != tried else None
    shard = line.seen_waiting(failed)
    if shard is not None:
        return shard
    return NOBODY if failed.failed("waiters") else None


def _pool_quota(failed: Failed) -> tuple[bool, Item | None]:
    """Whether the quota that carried the pool's condition lost it, and that item as DynamoDB saw it: shard
    0's when the transaction has it, else (a return to other shards alone) the first such shard's."""
    if "quota" in failed.reasons:
        return failed.failed("quota"), failed.old("quota")
    shard = next((name for name in failed.reasons if name.startswith("quota#") and failed.failed(name)), None)
    return (True, failed.old(shard)) if shard is not None else (False, None)


def line_open(quota: Item, now: datetime) -> bool:
    """Whether the event's line is open, for its quota item as DynamoDB saw it: its event on sale and not
    started (returns may be kept for it; else they go on open sale)."""
    return quota.get("status") == EventStatus.ON_SALE and datetime.fromisoformat(quota["starts_at"]) > now


# Who waited for each event's returns when this process last saw: the first guess of its next return, so
# that while people wait, a busy event's cancels and the sweeper's releases do not each lose a transaction
# to the open-sale condition first. A guess only: the conditions decide. Bounded: cleared when full.
_last_seen: dict[str, Waiters] = {}
_LAST_POOL_EVENTS = 1024
# The events whose returns this process found a stock shard marked LEGACY_LINE on, or one without MARKED (its
# returns take shard 0's condition from then on; bounded as _last_seen).
_shard_zero_returns: set[str] = set()


def route_returned(event_id: str, commit: Callable[[Pool], None], now: datetime) -> Pool:
    """Commit a transaction that returns tickets to the event's quota, into the right pool; returns the pool.

    `commit(pool)` builds and commits the whole transaction, its `quota` action returning the tickets to
    `pool` under that pool's conditions (give_back, release: the quota's, and the line counters' as
    check_waiters adds them). Tried with who waited at this event's last return in this process (nobody,
    if none), and when a condition fails showing that someone else waits, or nobody, or that the line
    closed, that is remembered and the transaction goes round again (retry.once: with the step it is part
    of, if any). Every other failure is the caller's. A commit under NOBODY proved the line empty: once the
    retry is over, the line is unmarked (store/marks.py), so that the next returns check no counter.
    """

    def step() -> Pool:
        seen = waiters_for(event_id)
        try:
            commit(pool_of(seen))
        except Failed as exc:
            if not learned(event_id, exc, now, seen):
                raise
            raise retry.Again() from None
        if seen == NOBODY:
            retry.afterwards(lambda: _unmark(event_id))
        return pool_of(seen)

    return retry.once(step)


def _unmark(event_id: str) -> None:
    from boxoffice.store import marks  # (it reads the event's item: event_items imports this module)

    if marks.unmark(event_id):
        _remember(event_id, UNUSED)


def _remember(event_id: str, seen: Waiters) -> None:
    if len(_last_seen) >= _LAST_POOL_EVENTS:
        _last_seen.clear()
    _last_seen[event_id] = seen


def stock_changed(
    failed: Failed, event: EventRecord, ticket_type: TicketType, held: Holding, plan: shards.Plan | None = None
) -> StockChanged:
    """What a booking whose counters failed their conditions now faces, from the failed items (their copies
    of the rules); a sharded event's stock read again in every shard (read_stock: atomically only if it
    looks short of the plan's tickets): a shard that fell short says nothing of the others."""
    seen_event: EventRecord | None = event
    seen_type: TicketType | None = ticket_type
    parts = list(plan or {0: 0})
    for shard in parts:
        if failed.failed(quota_action(shard)) and seen_event is not None:
            old = failed.old(quota_action(shard))
            seen_event = None if old is None else (with_quota if shard == 0 else with_rules)(seen_event, old)
        if failed.failed(type_action(shard)) and seen_type is not None:
            old = failed.old(type_action(shard))
            seen_type = None if old is None else (with_counter if shard == 0 else with_type_rules)(seen_type, old)
    if failed.failed("holding"):
        held = holding(failed.old("holding"))
    short = any(failed.failed(quota_action(k)) or failed.failed(type_action(k)) for k in parts)
    if short and seen_event is not None and seen_type is not None and seen_event.stocked > 1:
        seen_event, seen_type = read_stock(seen_event, seen_type, sum(plan.values()) if plan else None)
    return StockChanged(seen_event, seen_type, held)


def with_type_rules(ticket_type: TicketType, item: Item) -> TicketType:
    """The type with the copies of its rules on a stock shard's counter."""
    return replace(
        ticket_type,
        price=Decimal(item["price"]),
        max_tickets_per_booking=int(item["max_tickets_per_booking"]),
        sales_start=_instant(item.get("sales_start")),
        sales_end=_instant(item.get("sales_end")),
    )


def shard_stock(event: EventRecord, *, atomic: bool = True) -> tuple[int, ...]:
    """The open stock of each of the event's shards, from one TransactGetItems (a serialisable snapshot); not
    `atomic`, from a plain BatchGetItem (writers in flight never cancel it, but it may see each shard at a
    different moment: it guides, it proves nothing)."""
    keys = [quota_key(event.id, k) for k in range(event.stocked)]
    if atomic:
        items = dynamo.transact_get(events_table(), keys)
    else:
        items = dynamo.batch_get({events_table(): keys})[events_table()]
    by_shard = {shard_of(i["pk"]): int(i["available_tickets"]) for i in items}
    return tuple(by_shard.get(k, 0) for k in range(event.stocked))


def with_stock(event: EventRecord, *, atomic: bool = True) -> EventRecord:
    """A sharded event with its open stock summed from its shards (shard_stock: one atomic read, unless not
    `atomic`); unsharded: as it is."""
    if event.stocked == 1:
        return event
    stock = shard_stock(event, atomic=atomic)
    return replace(event, available_tickets=sum(stock), shard_stock=stock, stock_known=True)


def type_stock(event: EventRecord, type_id: str) -> list[Item]:
    """The type's counter in each of the event's stock shards (empty for one not written), from one
    TransactGetItems."""
    items = dynamo.transact_get(events_table(), [type_key(event.id, type_id, k) for k in range(event.stocked)])
    by_shard = {shard_of(i["pk"]): i for i in items}
    return [by_shard.get(k, {}) for k in range(event.stocked)]


def read_stock(
    event: EventRecord, ticket_type: TicketType, quantity: int | None = None
) -> tuple[EventRecord, TicketType]:
    """The event's open stock in every shard (and the type's sub-quota's). With a `quantity` to take, first by
    a plain BatchGetItem, which writers in flight never cancel: a plan from it only guides a take whose
    conditions decide. Only a read that finds fewer than `quantity` to take (or none asked: a gate's
    judgement) goes on to TransactGetItems, one serialisable snapshot, so a refusal rests on a sum that was
    short at one moment, never one pieced together from reads at different times. Shard 0's items bring its
    counters as with_quota and with_counter read them."""
    keys = _stock_keys(event, ticket_type)
    if quantity is not None:
        plain = _with_stock_items(event, ticket_type, dynamo.batch_get({events_table(): keys})[events_table()])
        if _plan_from(*plain, quantity) is not None:
            return plain
    return _with_stock_items(event, ticket_type, dynamo.transact_get(events_table(), keys))


# Stamped (epoch ms, and the event's stock shards after it) on every stock item a move of open stock between
# shards updates (_gathered, a re-shard): a plain read of the shards can see a move's source after it and its
# target before it, and sum low, so a gate that reads plainly (gate_stock) reads atomically while any item it
# read was moved within MOVE_WINDOW. 10 s: far above a transaction's own duration plus the read that follows
# (milliseconds) and the clock skew between Lambdas (NTP: milliseconds), and above event_items.RECENT_SECONDS
# (a join may count the shards from an event read that long ago: a re-shard since stamped the ones it read).
MOVED_AT: Final = "moved_at"
MOVED_OVER: Final = "moved_over"
MOVE_WINDOW: Final = timedelta(seconds=10)


def move_stamp(stocked: int) -> Item:
    """What a move of open stock between shards sets on each item it updates: when, and over how many shards."""
    return {MOVED_AT: ms(clock.now()), MOVED_OVER: stocked}


def moved_over(items: Iterable[Item], now: datetime) -> int | None:
    """The most stock shards a move within MOVE_WINDOW of `now` left among `items` (None: none moved lately)."""
    since = ms(now - MOVE_WINDOW)
    return max((int(i[MOVED_OVER]) for i in items if int(i.get(MOVED_AT, 0)) >= since), default=None)


def gate_keys(event: EventRecord, ticket_type: TicketType) -> list[dict[str, str]]:
    """What a gate reads plainly of a sharded event's stock beside shard 0's items: shards 1..'s quotas (and
    the type's counters there when it has a sub-quota), 1 read unit an item on each shard's own partition."""
    return [k for k in _stock_keys(event, ticket_type) if k["pk"] != event_pk(event.id)] if event.stocked > 1 else []


def gate_stock(event: EventRecord, ticket_type: TicketType, items: list[Item]) -> tuple[EventRecord, TicketType, bool]:
    """A gate's view of a sharded event's open stock (and the type's sub-quota's) from shard 0's quota and type
    counter and what gate_keys named, read plainly (`items`): that sums low only if a move between shards
    fell between its reads, so when any item was moved lately, from one atomic read of every shard instead
    (gate_snapshot). Whether atomic: a plain sum that finds enough on sale proves nothing (the caller
    confirms it by gate_snapshot)."""
    moved = moved_over(items, clock.now())
    if moved is None:
        return (*_with_stock_items(event, ticket_type, items), False)
    return (*gate_snapshot(replace(event, stock_shards=max(event.stock_shards, moved)), ticket_type), True)


def gate_snapshot(event: EventRecord, ticket_type: TicketType) -> tuple[EventRecord, TicketType]:
    """read_stock's atomic read of every shard, over the shards a recent move left the event with: a re-shard
    that added shards since the event was read stamps the ones it moved stock out of, and the read goes
    again over them all."""
    while True:
        items = dynamo.transact_get(events_table(), _stock_keys(event, ticket_type))
        moved = moved_over(items, clock.now())
        if moved is None or moved <= event.stocked:
            return _with_stock_items(event, ticket_type, items)
        event = replace(event, stock_shards=moved)


def _stock_keys(event: EventRecord, ticket_type: TicketType) -> list[dict[str, str]]:
    """Every stock shard's quota, and the type's counter in each when it has a sub-quota."""
    count = event.stocked
    keys = [quota_key(event.id, k) for k in range(count)]
    if ticket_type.total_tickets is not None:
        keys += [type_key(event.id, ticket_type.id, k) for k in range(count)]
    return keys


def _with_stock_items(event: EventRecord, ticket_type: TicketType, items: list[Item]) -> tuple[EventRecord, TicketType]:
    main = next((i for i in items if i["pk"] == event_pk(event.id) and i["sk"] == QUOTA), None)
    if main is None:
        return event, ticket_type
    counter = next((i for i in items if i["pk"] == event_pk(event.id) and i["sk"] != QUOTA), None)
    own = with_counter(ticket_type, counter) if counter else replace(ticket_type, sold=0, held=0)
    types = [own if t.id == own.id else t for t in event.ticket_types] or [own]
    sharded = with_shards(with_quota(event, main), types, items)
    _believe(sharded)
    return sharded, next((t for t in sharded.ticket_types if t.id == own.id), own)


def _plan_from(event: EventRecord, ticket_type: TicketType, quantity: int) -> dict[int, int] | None:
    """shards.plan over what each shard can sell of the type (None: fewer than `quantity` in all together)."""
    if not event.shard_stock:
        return None
    own = ticket_type.shard_stock if ticket_type.total_tickets is not None and ticket_type.shard_stock else None
    return shards.plan(shards.combined(event.shard_stock, own), quantity)


# Per event, the shards this process last found empty: a first guess avoids them (a guess only: the
# conditions decide, and the atomic read finds tickets that came back). Bounded: cleared when full.
_empty: dict[str, frozenset[int]] = {}


def _believe(event: EventRecord) -> None:
    if len(_empty) >= _LAST_POOL_EVENTS:
        _empty.clear()
    _empty[event.id] = frozenset(k for k, left in enumerate(event.shard_stock) if left == 0)


# Per event, the shard this process last lost a transaction conflict on: another buyer's transaction was
# writing it, so a guess tries the others first (as with _empty, a guess only). Bounded as _empty.
_busy: dict[str, int] = {}


def guess(event_id: str, count: int) -> int:
    """The stock shard a booking or a hold reads and tries first (shards.first_guess)."""
    return shards.first_guess(count, _avoided(event_id)) if count > 1 else 0


def _avoided(event_id: str) -> frozenset[int]:
    busy = _busy.get(event_id)
    return _empty.get(event_id, frozenset()) | ({busy} if busy is not None else set())


def elsewhere(
    conflict: retry.Conflict, event: EventRecord, ticket_type: TicketType, held: Holding, plan: shards.Plan
) -> StockChanged | None:
    """A take from one shard of a sharded event that lost a transaction conflict: the step goes round at once
    on another shard, guessed without reading (its condition decides), rather than after a pause on the same
    shard, which the winner may still be writing. None (go round as the conflict says) for a throttled call,
    a take from several shards (near sell-out: they were read) or an unsharded event."""
    if isinstance(conflict, retry.Throttled) or len(plan) != 1 or event.stocked == 1:
        return None
    if len(_busy) >= _LAST_POOL_EVENTS:
        _busy.clear()
    _busy[event.id] = next(iter(plan))
    return StockChanged(replace(event, read_shard=None, shard_stock=(), stock_known=False), ticket_type, held)


def with_shard_read(event: EventRecord, shard: int, items: Iterable[Item], *, chosen: bool = True) -> EventRecord:
    """The event (from its descriptive item) with what a booking read of one stock shard: its quota (shard
    0's brings the counters, as with_quota; another's the rules it carries) and the counter of the type asked
    for (its rules, and what it has of a sub-quota). A sharded event's stock stays unknown but for that
    shard's (read_shard), if the shard was `chosen` for the take; else (shard 0, read beside the event's
    item by a process that did not know its shards) the take guesses one, or every cold read would land
    on shard 0."""
    quota = next((i for i in items if i["sk"] == QUOTA and shard_of(i["pk"]) == shard), None)
    counter = next((i for i in items if i["sk"].startswith(TYPE) and shard_of(i["pk"]) == shard), None)
    if quota is None:
        return event
    event = with_quota(event, quota) if shard == 0 else with_rules(event, quota)
    left = int(quota["available_tickets"])
    if counter is not None:
        type_id = counter["sk"].removeprefix(TYPE)
        types = tuple(
            (with_counter(t, counter) if shard == 0 else with_type_rules(t, counter)) if t.id == type_id else t
            for t in event.ticket_types
        )
        if "available_tickets" in counter:
            left = min(left, int(counter["available_tickets"]))
        event = replace(event, ticket_types=types)
    read_shard = (shard, left) if chosen else None
    return replace(event, read_shard=read_shard, stock_known=False) if event.stocked > 1 else event


def plan_for(event: EventRecord, ticket_type: TicketType, holding: Holding, quantity: int) -> dict[int, int]:
    """Which shards a booking or a hold of `quantity` takes from: shard 0 for an unsharded event; from a
    snapshot of every shard, one with enough or several (shards.plan); the shard its read found with enough;
    else one guessed without reading (shards.first_guess). A read shard that is short makes it read every
    shard (read_stock, atomically only if they look short): StockChanged when they have too few together,
    for the rules to refuse."""
    count = event.inventory_shards
    if event.stocked == 1:
        return {0: quantity}
    if not event.shard_stock and event.read_shard is not None:
        shard, left = event.read_shard
        if left >= quantity:
            return {shard: quantity}
        event, ticket_type = read_stock(event, ticket_type, quantity)
    if event.shard_stock:
        planned = _plan_from(event, ticket_type, quantity)
        if planned is not None and len(planned) > _most_parts(quantity):
            return _gathered(event, ticket_type, holding, planned)
        if planned is not None:
            return planned
        if event.read_shard is not None or Stock(event, ticket_type, holding).available < quantity:
            raise StockChanged(replace(event, read_shard=None), ticket_type, holding)
    return {shards.first_guess(count, _avoided(event.id)): quantity}


def _most_parts(quantity: int) -> int:
    """The stock shards a take of `quantity` may draw on: one transaction holds each one's quota and type
    counter (2 items) beside at most 6 + `quantity` others, of DynamoDB's 100 (a booking: the holding, the
    token check, the Idempotency-Key, the booking and its tickets; a hold's confirm, later, the hold and the
    holding's hold counts too)."""
    return (dynamo.MAX_ACTIONS - 6 - quantity) // 2


def _gathered(event: EventRecord, ticket_type: TicketType, holding: Holding, planned: shards.Plan) -> dict[int, int]:
    """A take planned over more shards than its transaction holds (near sell-out, a big booking's last tickets
    one or two a shard): one transaction first moves the others' parts of the open stock (and of the type's
    sub-quota) into the plan's fullest shard, each conditioned on having them, so the sum never changes; the
    take then draws on that shard alone. StockChanged (read again) when a shard no longer has its part."""
    target = max(planned, key=lambda k: (planned[k], -k))
    moved = {k: part for k, part in planned.items() if k != target}
    sub_quota = ticket_type.total_tickets is not None
    stamp = move_stamp(event.stocked)
    tx = Transaction()
    for shard, part in [(target, -sum(moved.values())), *moved.items()]:
        keys = [(quota_action(shard), quota_key(event.id, shard))]
        if sub_quota:
            keys.append((type_action(shard), type_key(event.id, ticket_type.id, shard)))
        for name, key in keys:
            gain = part < 0
            tx.add(
                name,
                {
                    "Update": {
                        "TableName": events_table(),
                        "Key": dump(key),
                        "UpdateExpression": f"SET available_tickets = available_tickets {'+' if gain else '-'} :n, "
                        f"{MOVED_AT} = :{MOVED_AT}, {MOVED_OVER} = :{MOVED_OVER}",
                        "ConditionExpression": "attribute_exists(available_tickets)"
                        if gain
                        else "available_tickets >= :n",
                        "ExpressionAttributeValues": values(n=abs(part), **stamp),
                    }
                },
            )
    try:
        tx.commit()
    except Failed:
        unread = replace(event, read_shard=None, shard_stock=(), stock_known=False)
        raise StockChanged(unread, ticket_type, holding) from None
    return {target: sum(planned.values())}


def give_back(
    tx: Transaction,
    *,
    event_id: str,
    type_id: str,
    sub_quota: bool,
    user_id: str | None,
    parts: shards.Plan,
    refund: Decimal,
    currency: str,
    starts_at: datetime,
    status: EventStatus,
    pool: Pool,
    now: datetime,
) -> None:
    """Add a cancel's counter moves: `quota` (sold -> `pool`, only before the event starts, and while it
    starts at `starts_at` with `status`, so the answer can show it), `type`, and `holding` (`user_id` None:
    the booking was never counted there), each in the stock shards the tickets came from (`parts`: shard ->
    tickets; the `refund` shared over them). Commit it through route_returned."""
    back = [Returned(type_id, sub_quota, parts, refund)]
    give_back_lines(
        tx, event_id, back, user_id=user_id, currency=currency, starts_at=starts_at, status=status, pool=pool, now=now
    )


@dataclass(frozen=True, slots=True)
class Returned:
    """One line of a cancel: its type's tickets going back to the shards of `parts`, `refund` in all."""

    type_id: str
    sub_quota: bool
    parts: shards.Plan
    refund: Decimal


def give_back_lines(
    tx: Transaction,
    event_id: str,
    lines: Sequence[Returned],
    *,
    user_id: str | None,
    currency: str,
    starts_at: datetime,
    status: EventStatus,
    pool: Pool,
    now: datetime,
) -> None:
    """give_back() for the lines of one booking: each shard's quota once with the sum of the lines' tickets
    there, each line's type counter in its shards (`type@<line>`), the holding once."""
    parts: dict[int, int] = {}
    for x in lines:
        for shard, part in x.parts.items():
            parts[shard] = parts.get(shard, 0) + part
    _return(
        tx,
        event_id,
        parts,
        pool,
        counter="sold",
        condition="starts_at > :now AND starts_at = :starts_at AND #status = :status",
        names={"#status": "status"},
        named={"now": now.isoformat(), "starts_at": starts_at.isoformat(), "status": status},
        refund=(sum((x.refund for x in lines), Decimal(0)), currency),
        now=now,
    )
    for n, x in enumerate(lines):
        quantity = sum(x.parts.values())
        for shard, part in x.parts.items():
            refunded = (x.refund * part / quantity, currency)
            _give_back_type(
                tx, event_id, x.type_id, sub_quota=x.sub_quota, quantity=part, refund=refunded, shard=shard, line=n
            )
    if user_id is not None:
        _give_back_holding(tx, user_id, event_id, sum(parts.values()))


def release(
    tx: Transaction,
    *,
    event_id: str,
    type_id: str,
    sub_quota: bool,
    user_id: str,
    parts: shards.Plan,
    pool: Pool,
    now: datetime,
    placed: bool,
    cooldown_until: datetime | None,
) -> None:
    """Add a hold's release moves: `quota` (held -> `pool`; a deleted event's tombstone takes them back too,
    as for a cancel), `type` (held -> its sub-quota, if it has one), in the stock shards it holds tickets in
    (`parts`), and `holding` (`placed`: a hold the buyer placed, counted under the hold ceilings;
    `cooldown_until`: an expiry's, no hold before it). Commit it through route_returned."""
    back = [Returned(type_id, sub_quota, parts, Decimal(0))]
    release_lines(tx, event_id, back, user_id=user_id, pool=pool, now=now, placed=placed, cooldown_until=cooldown_until)


def release_lines(
    tx: Transaction,
    event_id: str,
    lines: Sequence[Returned],
    *,
    user_id: str,
    pool: Pool,
    now: datetime,
    placed: bool,
    cooldown_until: datetime | None,
) -> None:
    """release() for a cart's lines (their `refund` unused: held tickets were not paid): each shard's quota
    once with the sum, each line's type counter in its shards (`type@<line>`), the holding once."""
    parts: dict[int, int] = {}
    for x in lines:
        for shard, part in x.parts.items():
            parts[shard] = parts.get(shard, 0) + part
    _return(tx, event_id, parts, pool, counter="held", condition="", names={}, named={}, refund=None, now=now)
    for n, x in enumerate(lines):
        for shard, part in x.parts.items():
            _give_back_type(
                tx, event_id, x.type_id, sub_quota=x.sub_quota, quantity=part, refund=None, shard=shard, line=n
            )
    quantity = sum(parts.values())
    _give_back_holding(tx, user_id, event_id, quantity, placed=placed, cooldown_until=cooldown_until)


def _return(
    tx: Transaction,
    event_id: str,
    parts: shards.Plan,
    pool: Pool,
    *,
    counter: str,
    condition: str,
    names: dict[str, str],
    named: dict[str, Any],
    refund: tuple[Decimal, str] | None,
    now: datetime,
) -> None:
    """Tickets leave `counter` (sold, held) in each shard of `parts` and go to `pool` in that same shard: its
    open sale, or its `reserved` (the line's pool, spread over the shards it came back to). The quota (shard
    0's item) carries the pool's condition and `condition`: as an update when it moves anything, else as a
    ConditionCheck; but tickets going to other shards alone carry them on those shards' own updates (their
    copies of the status, the start and the line's marks), so the return writes nothing on the event's
    partition, unless it must prove a line from before the shards still waits (its count is shard 0's) or,
    going on open sale, this process saw a shard marked with that line, or one written without the marks
    (_shard_zero_returns)."""
    quantity = sum(parts.values())
    seen = waiters_for(event_id, pool)
    kept = seen != line.LEGACY if pool == Pool.RESERVED else event_id not in _shard_zero_returns
    own = 0 not in parts and kept
    pooled = pool_key(event_id)  # shard 0's; each other shard's update names its own (`moved`)
    to_pool, right_pool, pool_values = returned(pool, "part", pooled=pooled, now=now, seen=seen, on_shard=own)
    check_waiters(tx, event_id, seen)
    main_sets: list[str] = []
    main_adds: list[str] = []
    main_values: dict[str, Any] = {**named, **pool_values}
    revenue_names = {"#revenue": revenue_attribute(refund[1])} if refund else {}
    for shard, part in parts.items():
        sets = [f"{counter} = {counter} - :part", to_pool]
        adds = [f"{CANCELLED_TICKETS} :part", "#revenue :refund"] if refund else []
        moved = {"part": part, "pooled": pool_key(event_id, shard)}  # (`pooled`: only a pool's clause names it)
        if refund:
            moved["refund"] = -refund[0] * part / quantity
        if shard == 0:
            main_sets += sets
            main_adds += adds
            main_values.update(moved)
            continue
        update = f"SET {', '.join(sets)}" + (f" ADD {', '.join(adds)}" if adds else "")
        guarded: dict[str, Any] = {}
        if own:
            guard = " AND ".join(c for c in (condition, right_pool) if c)
            said = f"{update} {guard}"
            guarded = {
                "ConditionExpression": guard,
                "ExpressionAttributeNames": _used(said, {**names, **POOL_NAMES, **revenue_names}, "#"),
                "ExpressionAttributeValues": values(**_used(said, {**named, **pool_values, **moved}, ":")),
                **ALL_OLD,
            }
        tx.add(
            quota_action(shard),
            {
                "Update": {
                    "TableName": events_table(),
                    "Key": dump(quota_key(event_id, shard)),
                    "UpdateExpression": update,
                    **({"ExpressionAttributeNames": revenue_names} if revenue_names else {}),
                    "ExpressionAttributeValues": values(**_used(update, {**pool_values, **moved}, ":")),
                    **guarded,
                }
            },
        )
    if own:
        return
    held_condition = f"{counter} >= :part" if 0 in parts and counter == "held" else ""
    guard = " AND ".join(c for c in (condition, held_condition, right_pool) if c)
    update = f"SET {', '.join(main_sets)}" + (f" ADD {', '.join(main_adds)}" if main_adds else "") if main_sets else ""
    said = f"{update} {guard}"
    request: dict[str, Any] = {
        "TableName": events_table(),
        "Key": dump(quota_key(event_id)),
        "ConditionExpression": guard,
        "ExpressionAttributeNames": _used(said, {**names, **POOL_NAMES, **revenue_names}, "#"),
        "ExpressionAttributeValues": values(**_used(said, main_values, ":")),
        **ALL_OLD,
    }
    if update:
        tx.add("quota", {"Update": {**request, "UpdateExpression": update}})
    else:
        tx.add("quota", {"ConditionCheck": request})


def _used(expression: str, named: Mapping[str, Any], mark: str) -> dict[str, Any]:
    """The names (`#`) or values (`:`) an expression uses: DynamoDB refuses any it does not."""
    used = set(re.findall(rf"{mark}\w+", expression))
    return {k: v for k, v in named.items() if (k if mark == "#" else f":{k}") in used}


def _give_back_type(
    tx: Transaction,
    event_id: str,
    type_id: str,
    *,
    sub_quota: bool,
    quantity: int,
    refund: tuple[Decimal, str] | None,
    shard: int = 0,
    line: int = 0,
) -> None:
    """The type gives `quantity` back in `shard`, to its share of the sub-quota if it has one (as `sub_quota`
    says: the condition fails, with ALL_OLD, if it no longer does): from sold with `refund` (a cancel's
    amount and currency, counted as on the quota), from held without (a hold's release)."""
    counter = "sold" if refund else "held"
    tx.add(
        line_action(type_action(shard), line),
        {
            "Update": {
                "TableName": events_table(),
                "Key": dump(type_key(event_id, type_id, shard)),
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


def failed_type_shape(failed: Failed, parts: Iterable[int]) -> tuple[bool, bool | None]:
    """Whether a type counter of the shards failed its condition, and then whether it has a sub-quota now
    (None: it is gone)."""
    for shard in parts:
        if failed.failed(type_action(shard)):
            return True, has_sub_quota(failed.old(type_action(shard)))
    return False, None


def has_sub_quota(item: Item | None) -> bool | None:
    """Whether a type's counter item (as a failed cancel saw it) has a sub-quota; None: it is gone."""
    return None if item is None else "available_tickets" in item


def reprice(event_id: str, ticket_type: TicketType, shard: int = 0) -> dict[str, Any]:
    """The type's counter item in `shard` takes its new price (the copy its booking condition pins)."""
    return {
        "Update": {
            "TableName": events_table(),
            "Key": dump(type_key(event_id, ticket_type.id, shard)),
            "UpdateExpression": "SET price = :price",
            "ConditionExpression": "attribute_exists(sold)",
            "ExpressionAttributeValues": values(price=ticket_type.price),
        }
    }
