"""Events: the descriptive item and its counters read, created, edited and deleted, keeping the word
index (store.search) in step. Keys, indexes and attributes: docs/data-model.md, "events"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from boxoffice import clock, retry, shards
from boxoffice.errors import CapacityBelowSold, EventNotFound
from boxoffice.records import EventRecord
from boxoffice.store import dynamo, event_items, inventory, legacy, search, tickets, users
from boxoffice.store.dynamo import (
    ALL_OLD,
    Failed,
    Item,
    Transaction,
    aws_errors,
    client,
    dump,
    events_table,
    load,
    users_table,
    values,
)
from boxoffice.store.event_items import (
    EVENT,
    NEW,
    assemble,
    counter_puts,
    descriptive_item,
    event_key,
    is_legacy,
    name_key,
)
from boxoffice.text import venue_key
from boxoffice.vocabulary import EventStatus, Principal, UserRecord


class Stale(retry.Again):
    """The event changed between our read and our conditional write: read it again (retry.retried)."""


# --- reads ---


def items_of(event_id: str, *, consistent: bool = True) -> list[Item]:
    """The event's items (descriptive, quota, type counters, name claims): one Query; and a sharded event's
    other stock shards, one BatchGetItem; strongly consistent unless not `consistent`."""
    with aws_errors():
        raw = client().query(
            TableName=events_table(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values(pk=inventory.event_pk(event_id)),
            ConsistentRead=consistent,
        )
    items = [load(i) for i in raw.get("Items", [])]
    return items + with_shards(items, consistent=consistent)


def with_shards(items: list[Item], *, consistent: bool = True) -> list[Item]:
    """The other stock shards' items of the event among `items` (none for an unsharded one)."""
    described = next((i for i in items if i["sk"] == EVENT), None)
    keys = event_items.shard_keys(described) if described else []
    return dynamo.batch_get({events_table(): keys}, consistent=consistent)[events_table()] if keys else []


def from_items(items: list[Item]) -> EventRecord | None:
    described = next((i for i in items if i["sk"] == EVENT), None)
    return assemble(described, items) if described else None


def get(event_id: str, *, consistent: bool = True) -> EventRecord | None:
    """The event, tombstones included, with its counters: one Query of its items, strongly consistent unless
    not `consistent` (a public read, which may show them a moment old)."""
    return from_items(items_of(event_id, consistent=consistent))


def get_for_user(
    event_id: str, user_id: str, *, upgrading: bool = True, stock: bool = True
) -> tuple[EventRecord | None, UserRecord | None]:
    """One BatchGetItem: the event with its quota, and the caller's account (to check the token version);
    with `stock`, a sharded event's other stock shards too (a second BatchGetItem).

    An event stored before ticket types is first moved to today's items (legacy.upgrade), then read again;
    unless not `upgrading` (a reader that writes nothing shows it as it is).
    """
    found = dynamo.batch_get(
        {
            events_table(): [event_key(event_id), inventory.quota_key(event_id)],
            users_table(): [users.user_key(user_id)],
        },
        attributes=users.readable(),
    )
    items, accounts = found[events_table()], found[users_table()]
    described = next((i for i in items if i["sk"] == EVENT), None)
    if described is not None and is_legacy(described) and upgrading and legacy.upgrade(event_id):
        return get_for_user(event_id, user_id)
    if stock:
        items += with_shards(items)
    event = assemble(described, items) if described else None
    return event, users.user_of(accounts[0]) if accounts else None


# --- writes ---


def _copy_door(tx: Transaction, event: EventRecord) -> None:
    """The check-in count shards' copy of the event's door window and status, which check-ins' conditions read."""
    for name, action in tickets.door_actions(event):
        tx.add(name, action)


def create(event: EventRecord, *, caller: Principal | None) -> None:
    """Put the event, its counter items and its word entries; with a caller, only while the caller's token
    is current."""
    tx = Transaction()
    if caller:
        users.check_current(tx, caller.user_id, caller.token_version)
    tx.add("event", {"Put": {"TableName": events_table(), "Item": dump(descriptive_item(event)), **NEW}})
    shards = counter_puts(tx, event)
    _copy_door(tx, event)
    # Its other stock shards (up to 89 x 21 items) go first, beside the transaction: their keys are new and
    # nothing reads them before the event exists; taken back if it is not created.
    search.batch([{"PutRequest": {"Item": dump(item)}} for item in shards])
    try:
        search.write(tx, puts=search.entries(event))
    except Exception:
        search.batch([{"DeleteRequest": {"Key": dump({"pk": i["pk"], "sk": i["sk"]})}} for i in shards])
        raise


@dataclass
class Update:
    """One UpdateItem's SET and REMOVE clauses, conditions and values, built up field by field."""

    sets: list[str]
    removes: list[str]
    conditions: list[str]
    names: dict[str, str]
    named: dict[str, Any]

    @classmethod
    def on_sale(cls) -> Update:
        return cls([], [], ["#status = :on_sale"], {"#status": "status"}, {"on_sale": EventStatus.ON_SALE})

    def put(self, field: str, value: Any) -> None:
        """SET the attribute, or REMOVE it when `value` is None."""
        self.names[f"#{field}"] = field
        if value is None:
            self.removes.append(f"#{field}")
        else:
            self.sets.append(f"#{field} = :{field}")
            self.named[field] = value

    def action(self, key: dict[str, str]) -> dict[str, Any]:
        clauses = [("SET", self.sets), ("REMOVE", self.removes)]
        request: dict[str, Any] = {
            "TableName": events_table(),
            "Key": dump(key),
            "UpdateExpression": " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses if parts),
            "ConditionExpression": " AND ".join(self.conditions),
            **ALL_OLD,
        }
        if self.names:  # DynamoDB refuses empty maps
            request["ExpressionAttributeNames"] = self.names
        if self.named:
            request["ExpressionAttributeValues"] = values(**self.named)
        return {"Update": request}

    def check(self, key: dict[str, str]) -> dict[str, Any]:
        """Its conditions alone, as a ConditionCheck (it changes nothing)."""
        update = self.action(key)["Update"]
        return {"ConditionCheck": {k: v for k, v in update.items() if k != "UpdateExpression"}}


def pin_shards(update: Update, old: EventRecord) -> None:
    """Hold only while the event has the stock shards we read: an edit writes copies to each of them."""
    if old.stocked == 1:
        update.conditions.append("attribute_not_exists(inventory_shards)")
        return
    update.conditions.append("inventory_shards = :shards")
    update.named["shards"] = old.inventory_shards


def _pin_index(update: Update, old: EventRecord) -> None:
    """Hold only while the event has the name and start we read, so the word entries we swap are its own."""
    update.conditions.append("#name = :old_name AND starts_key = :old_key")
    update.names["#name"] = "name"
    update.named.update(old_name=old.name, old_key=old.starts_key)


def _recount(quota: Update, old: EventRecord, total: int, others: Shards) -> inventory.Waiters | None:
    """A new capacity moves the tickets on open sale by the difference, from the total we read (pinned); who
    waits as the conditions put it, for inventory.check_waiters (None: the line is not asked).

    Fewer: only tickets on open sale can go (never sold, held or reserved ones), from whichever stock
    shards have them (one atomic read of all: below what they hold together is CAPACITY_BELOW_SOLD). More:
    they are tickets that come back, so they go to the waiting list's pool while anyone waits
    (inventory.returned), to open sale otherwise (shard 0's); each under the conditions on the line's
    counters, so a line that formed or emptied since our read makes the edit go round again.
    """
    change = total - old.total_tickets
    quota.sets.append("total_tickets = :total")
    quota.conditions.append("total_tickets = :old_total")
    quota.named.update(total=total, old_total=old.total_tickets, change=abs(change))
    if change < 0 and old.stocked > 1:
        stock = inventory.shard_stock(old)
        cuts = shards.plan(stock, -change)
        if cuts is None:
            raise CapacityBelowSold(old.total_tickets - sum(stock))
        for shard, cut in cuts.items():
            _move(quota if shard == 0 else others.of(shard), -cut, f"cut{shard}")
        quota.named.pop("change")
        return None
    if change < 0:
        quota.sets.append("available_tickets = available_tickets - :change")
        quota.conditions.append("available_tickets >= :change")
        return None
    seen = inventory.waiters_for(old.id)
    seen = inventory.UNUSED if seen == inventory.CLOSED else seen  # (an edit is of an open event)
    pooled = inventory.pool_key(old.id)
    to_pool, right_pool, pool_values = inventory.returned(inventory.pool_of(seen), "change", pooled=pooled, seen=seen)
    quota.sets.append(to_pool)
    quota.conditions.append(right_pool)
    quota.named.update(pool_values)
    return seen


def _move(update: Update, delta: int, name: str, *, had: int | None = None) -> None:
    """A shard's open stock moves by `delta`, never below zero; a loss only while it still has `had`."""
    if delta < 0:
        update.sets.append(f"available_tickets = available_tickets - :{name}")
        if had is None:
            update.conditions.append(f"available_tickets >= :{name}")
        else:
            update.conditions.append(f"available_tickets = :had_{name}")
            update.named[f"had_{name}"] = had
    else:
        update.sets.append(f"available_tickets = available_tickets + :{name}")
    update.named[name] = abs(delta)


def _stage(items: list[Item], old: EventRecord) -> None:
    """Put new stock shards' items, 99 to a transaction, each while the event has the shards and the
    update we read: a racing re-shard that made one of them live makes us read again (an overwrite would
    lose its tickets), and a racing edit makes them be written again with its rules."""
    for start in range(0, len(items), dynamo.MAX_ACTIONS - 1):
        pin = Update([], [], ["updated_at = :read_at"], {}, {"read_at": old.updated_at.isoformat()})
        pin_shards(pin, old)
        tx = Transaction().add("event", pin.check(event_key(old.id)))
        for n, item in enumerate(items[start : start + dynamo.MAX_ACTIONS - 1]):
            tx.add(f"shard:{n}", {"Put": {"TableName": events_table(), "Item": dump(item)}})
        try:
            tx.commit()
        except Failed:
            raise Stale() from None


class Shards:
    """The updates of an event's stock shards beyond shard 0 (whose item is the quota), made as needed."""

    def __init__(self) -> None:
        self.updates: dict[int, Update] = {}

    def of(self, shard: int) -> Update:
        return self.updates.setdefault(shard, Update([], [], ["attribute_exists(available_tickets)"], {}, {}))

    def add_to(self, tx: Transaction, event_id: str) -> None:
        for shard, update in sorted(self.updates.items()):
            tx.add(inventory.quota_action(shard), update.action(inventory.quota_key(event_id, shard)))


def _reshard(described: Update, quota: Update, others: Shards, old: EventRecord, new: EventRecord) -> list[Item]:
    """Bookings spread over `new.inventory_shards` shards from now on: shards it has never had are put first
    (returned, for the caller to _stage once its transaction is known to fit), empty, with the event's rules
    (the edit pins updated_at, so no other edit slipped in since they were written); in this transaction its
    open stock is spread evenly over the selling shards (one atomic read; each shard's move conditioned on
    what it had, so a racing booking makes the edit read again). A lower count drains the shards beyond it;
    they keep their sold and held tickets, and still count. New shards copy the line's marks from shard 0's
    quota as read (inventory.line_marks), which must then still be so: a first join since (which marks only
    the shards it read) makes the edit read again."""
    count = new.inventory_shards
    stocked = max(old.stocked, count)
    puts: list[Item] = [
        item
        for shard in range(old.stocked, stocked)
        for item in (
            {**inventory.quota_item(new, shard, 0), **inventory.line_marks(old)},
            *(inventory.type_item(new.id, t, shard, 0) for t in new.ticket_types),
        )
    ]
    if puts and not old.line_used:
        quota.conditions.append(f"attribute_not_exists({inventory.LINE_USED})")
    stock = inventory.shard_stock(old) + (0,) * (stocked - old.stocked)
    target = shards.split(sum(stock), count) + [0] * (stocked - count)
    stamp = inventory.move_stamp(stocked)  # a join's gate that reads the shards plainly reads atomically a while
    for shard, (had, wanted) in enumerate(zip(stock, target, strict=True)):
        if had != wanted:
            moving = quota if shard == 0 else others.of(shard)
            _move(moving, wanted - had, f"move{shard}", had=had)
            for field, value in stamp.items():
                moving.put(field, value)
    described.put("inventory_shards", count if stocked > 1 else None)
    described.put("stock_shards", stocked if stocked > count else None)
    described.conditions.append("updated_at = :read_at")
    described.named["read_at"] = old.updated_at.isoformat()
    return puts


def _failure(exc: Failed, new: EventRecord, old: EventRecord) -> Exception:
    """Why an edit's transaction failed, from its items as the failing write saw them."""
    for name in ("event", "quota"):
        if exc.failed(name):
            current = exc.old(name)
            if current is None or current.get("status") != EventStatus.ON_SALE:
                return EventNotFound()
    quota = exc.old("quota") if exc.failed("quota") else None
    if quota is not None and old.stocked == 1 and int(quota["total_tickets"]) == old.total_tickets:
        available = int(quota["available_tickets"])
        if old.total_tickets - new.total_tickets > available:
            return CapacityBelowSold(old.total_tickets - available)  # the lowest capacity allowed
    return Stale()


_DESCRIBED = (
    *(
        "name",
        "description",
        "venue",
        "timezone",
        "currency",
        "max_tickets_per_booking",
        "max_tickets_per_user",
        "doors_open_minutes_before",
        "doors_close_minutes_after",
    ),
    *inventory.HOLD_CEILINGS,
)
_QUOTA_COPIES = ("currency", "max_tickets_per_booking", "max_tickets_per_user", *inventory.HOLD_CEILINGS)


def update(old: EventRecord, new: EventRecord, *, before_start: bool) -> EventRecord:
    """Write `new` over `old` in one transaction: the event item, and its quota item when a copy or the
    capacity changes, and the price of a type whose price changed.

    A capacity change moves `available` by the change in `total` on the quota item, while the total is the
    one we read and enough are on open sale to lose, so racing bookings and holds keep available + held +
    reserved + sold == total without pinning their counters (a racing capacity edit makes it go round again). A new name
    or start pins the old ones, so the word entries we swap are the event's own. `before_start`: the write
    holds only while the stored start is after new.updated_at (another edit may have brought the start
    forward since our read).
    """
    described, quota, others = Update.on_sale(), Update.on_sale(), Shards()
    pin_shards(described, old)
    if before_start:
        described.conditions.append("starts_at > :now")
        described.named["now"] = new.updated_at.isoformat()
    copies: dict[str, Any] = {}
    for field in _DESCRIBED:
        if getattr(new, field) != getattr(old, field):
            described.put(field, getattr(new, field))
            if field in _QUOTA_COPIES:
                copies[field] = getattr(new, field)
    described.put("updated_at", new.updated_at.isoformat())
    if new.venue != old.venue:
        described.put("venue_key", venue_key(new.venue))
        described.put("venue_pk", event_items.venue_pk(venue_key(new.venue)))
    if new.starts_at != old.starts_at:
        described.put("starts_at", new.starts_at.isoformat())
        described.put("starts_key", new.starts_key)
        copies["starts_at"] = new.starts_at.isoformat()
    if new.name != old.name or new.starts_at != old.starts_at:
        _pin_index(described, old)
    # Every stock shard carries the copies its bookings' conditions read.
    for shard in range(old.stocked):
        for field, value in copies.items():
            (quota if shard == 0 else others.of(shard)).put(field, value)
    seen = _recount(quota, old, new.total_tickets, others) if new.total_tickets != old.total_tickets else None
    staged = _reshard(described, quota, others, old, new) if new.inventory_shards != old.inventory_shards else []
    repriced = [t for t in new.ticket_types if (o := old.ticket_type(t.id)) is not None and o.price != t.price]
    for n, t in enumerate(repriced):
        described.sets.append(f"ticket_types.#t{n}.price = :price{n}")
        described.names[f"#t{n}"] = t.id
        described.named[f"price{n}"] = t.price
    tx = Transaction().add("event", described.action(event_key(old.id)))
    if quota.sets or quota.removes:
        tx.add("quota", quota.action(inventory.quota_key(old.id)))
    elif staged:  # new shards copied shard 0's line marks: they must still be as read
        tx.add("quota", quota.check(inventory.quota_key(old.id)))
    others.add_to(tx, old.id)
    if seen is not None:
        inventory.check_waiters(tx, old.id, seen)
    for t in repriced:
        for shard in range(old.stocked):
            tx.add(f"type:{t.id}" + (f"#{shard}" if shard else ""), inventory.reprice(old.id, t, shard))
    if new.doors != old.doors:
        _copy_door(tx, new)
    tx.check_size()  # before the new shards are put: an edit too big for one transaction writes nothing
    _stage(staged, old)
    before, after = search.entries(old), search.entries(new)
    try:
        search.write(
            tx,
            puts=[k for k in after if k not in before],
            deletes=[k for k in before if k not in after],
        )
    except Failed as exc:
        if seen is not None and inventory.learned(old.id, exc, None, seen):
            raise Stale() from None  # someone joined or left the line since: the edit goes round again
        raise _failure(exc, new, old) from None
    finally:
        event_items.forget(old.id)
    # A transaction returns no item: read the live one back (its counts may have moved meanwhile).
    updated = get(old.id)
    if updated is None or updated.status != EventStatus.ON_SALE:  # deleted since: answer as if the delete came first
        raise EventNotFound()
    return updated


def delete(old: EventRecord) -> None:
    """Keep the event as a tombstone (bookings still point at it), out of every index; its quota says so too."""
    described, quota, others = Update.on_sale(), Update.on_sale(), Shards()
    _pin_index(described, old)
    pin_shards(described, old)
    for update in (described, quota, *(others.of(k) for k in range(1, old.stocked))):
        update.put("status", EventStatus.DELETED)
    # Listed for the sweeper, which closes any waiting line of the event (and unlists it): the line is
    # not read here, so a join racing the delete cannot be missed.
    quota.put(inventory.POOL_KEY, inventory.pool_key(old.id))
    described.put("updated_at", clock.now().isoformat())
    described.put("list_pk", None)
    described.put("venue_pk", None)
    tx = Transaction().add("event", described.action(event_key(old.id)))
    tx.add("quota", quota.action(inventory.quota_key(old.id)))
    others.add_to(tx, old.id)
    _copy_door(tx, replace(old, status=EventStatus.DELETED))  # its tickets are let in no more
    try:
        search.write(tx, deletes=search.entries(old))
    except Failed as exc:
        raise _failure(exc, old, old) from None
    finally:
        event_items.forget(old.id)


def put_many(events: Iterable[EventRecord]) -> None:
    """Bulk load (benchmarks, sample data): events, counters and entries by BatchWriteItem, no conditions."""
    requests: list[dict[str, Any]] = []
    for event in events:
        items = [descriptive_item(event), *inventory.stock_items(event)]
        items += [name_key(event.id, t.name) for t in event.ticket_types]
        requests += [{"PutRequest": {"Item": dump(i)}} for i in items]
        requests += [{"PutRequest": {"Item": search.key_item(k)}} for k in search.entries(event)]
    search.batch(requests)
