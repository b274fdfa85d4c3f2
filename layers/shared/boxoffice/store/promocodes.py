"""Promo codes in the events table, under a partition of their event's own (docs/data-model.md, "promo codes").

Two items per code, both under `PROMO#<event id>` (never the event's `EVENT#<id>`, whose items every public
read of the event queries): the definition `CODE#<CODE>` (what an admin wrote; the code's claim: put with
attribute_not_exists, so a code is unique per event) and the counter `USES#<CODE>` (uses, discount_given and
the copies a redemption's condition reads: version, max_uses, valid_from, valid_until). Only the counter is
written by bookings: it stays under 250 bytes (1 WCU) however many types the code names. Every admin write moves
`version` on both in one transaction; a redemption conditions on the version it judged, so a code edited
or deleted while bookings race is applied as it was read or refused, never half.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from boxoffice import clock
from boxoffice.errors import EventNotFound, InvalidPromoCode, PromoCodeExists, PromoCodeNotFound, PromoCodeUsedUp
from boxoffice.records import Discount, EventRecord, PromoCode
from boxoffice.store import dynamo
from boxoffice.store.dynamo import ALL_OLD, Failed, Item, Transaction, aws_errors, client, dump, events_table, load
from boxoffice.store.dynamo import values as named_values
from boxoffice.store.event_items import event_key
from boxoffice.store.events import Stale
from boxoffice.vocabulary import DiscountKind, EventStatus

CODE = "CODE#"
USES = "USES#"
NEW = {"ConditionExpression": "attribute_not_exists(pk)"}


def pk(event_id: str) -> str:
    return f"PROMO#{event_id}"


def definition_key(event_id: str, code: str) -> dict[str, str]:
    return {"pk": pk(event_id), "sk": f"{CODE}{code}"}


def counter_key(event_id: str, code: str) -> dict[str, str]:
    return {"pk": pk(event_id), "sk": f"{USES}{code}"}


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _definition_item(c: PromoCode) -> Item:
    return {
        **definition_key(c.event_id, c.code),
        "id": c.id,
        "code": c.code,
        "discount_kind": c.discount.kind.value,
        "discount_value": c.discount.value,
        "ticket_type_ids": sorted(c.ticket_type_ids) if c.ticket_type_ids is not None else None,
        "max_uses": c.max_uses,
        "valid_from": _instant(c.valid_from),
        "valid_until": _instant(c.valid_until),
        "unlocks": sorted(c.unlocks),
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
        "version": c.version,
    }


def _counter_item(c: PromoCode) -> Item:
    return {
        **counter_key(c.event_id, c.code),
        "id": c.id,
        "version": c.version,
        "uses": c.uses,
        "discount_given": c.discount_given,
        "max_uses": c.max_uses,
        "valid_from": _instant(c.valid_from),
        "valid_until": _instant(c.valid_until),
    }


def _when(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def record(event_id: str, item: Item, counter: Item | None) -> PromoCode:
    """A code from its definition and, when read, its counter (uses 0 until it is)."""
    types, cap = item.get("ticket_type_ids"), item.get("max_uses")
    return PromoCode(
        id=item["id"],
        event_id=event_id,
        code=item["code"],
        discount=Discount(DiscountKind(item["discount_kind"]), Decimal(item["discount_value"])),
        ticket_type_ids=frozenset(types) if types is not None else None,
        max_uses=int(cap) if cap is not None else None,
        valid_from=_when(item.get("valid_from")),
        valid_until=_when(item.get("valid_until")),
        unlocks=frozenset(item.get("unlocks", [])),
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        uses=int(counter["uses"]) if counter else 0,
        discount_given=Decimal(counter["discount_given"]) if counter else Decimal(0),
        version=int(item["version"]),
    )


# --- reads ---


def get(event_id: str, code: str) -> PromoCode | None:
    """The code with its counters: one strongly consistent BatchGetItem of its two items."""
    found = dynamo.batch_get({events_table(): [definition_key(event_id, code), counter_key(event_id, code)]})
    by_sk = {i["sk"]: i for i in found[events_table()]}
    item = by_sk.get(f"{CODE}{code}")
    return record(event_id, item, by_sk.get(f"{USES}{code}")) if item else None


def page(event_id: str, limit: int, after: str | None) -> tuple[list[PromoCode], str | None]:
    """Up to `limit` codes in code order after `after`, with their counters, and the last code when more may
    follow: one Query of the definitions, one BatchGetItem of their counters."""
    request: dict[str, Any] = {
        "TableName": events_table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :code)",
        "ExpressionAttributeValues": named_values(pk=pk(event_id), code=CODE),
        "Limit": limit,
    }
    if after is not None:
        request["ExclusiveStartKey"] = dump(definition_key(event_id, after))
    with aws_errors():
        raw = client().query(**request)
    items = [load(i) for i in raw.get("Items", [])]
    counters: dict[str, Item] = {}
    if items:
        keys = [counter_key(event_id, i["code"]) for i in items]
        counters = {c["sk"]: c for c in dynamo.batch_get({events_table(): keys})[events_table()]}
    codes = [record(event_id, i, counters.get(f"{USES}{i['code']}")) for i in items]
    more = "LastEvaluatedKey" in raw and codes
    return codes, codes[-1].code if more else None


def usage(event_id: str, limit: int) -> list[tuple[str, int, Decimal]]:
    """The first `limit` codes of the event in code order, each (code, uses, discount_given): one Query of
    their counters (the definitions are not read: the stats need none of them)."""
    with aws_errors():
        raw = client().query(
            TableName=events_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :uses)",
            ExpressionAttributeValues=named_values(pk=pk(event_id), uses=USES),
            ConsistentRead=True,
            Limit=limit,
        )
    counters = [load(i) for i in raw.get("Items", [])]
    return [(c["sk"].removeprefix(USES), int(c["uses"]), Decimal(c["discount_given"])) for c in counters]


# --- admin writes ---


def _event_check(event: EventRecord, type_ids: Sequence[str]) -> dict[str, Any]:
    """The event is on sale in the currency the amounts were checked in, and still has the types named."""
    names = {f"#t{n}": t for n, t in enumerate(type_ids)}
    exists = [f"attribute_exists(ticket_types.{name})" for name in names]
    return {
        "ConditionCheck": {
            "TableName": events_table(),
            "Key": dump(event_key(event.id)),
            "ConditionExpression": " AND ".join(["#status = :on_sale", "currency = :currency", *exists]),
            "ExpressionAttributeNames": {"#status": "status", **names},
            "ExpressionAttributeValues": named_values(on_sale=EventStatus.ON_SALE, currency=event.currency),
            **ALL_OLD,
        }
    }


def _named_types(c: PromoCode) -> list[str]:
    return sorted((c.ticket_type_ids or frozenset()) | c.unlocks)


def _event_failure(exc: Failed) -> Exception | None:
    """Why the event's check failed, if it did: gone (404), or changed since it was judged (read again)."""
    if not exc.failed("event"):
        return None
    current = exc.old("event")
    if current is None or current.get("status") != EventStatus.ON_SALE:
        return EventNotFound()
    return Stale()  # its currency changed or a type named went: judge the code again


def create(event: EventRecord, code: PromoCode) -> None:
    tx = Transaction().add("event", _event_check(event, _named_types(code)))
    tx.add("code", {"Put": {"TableName": events_table(), "Item": dump(_definition_item(code)), **NEW}})
    tx.add("uses", {"Put": {"TableName": events_table(), "Item": dump(_counter_item(code)), **NEW}})
    try:
        tx.commit()
    except Failed as exc:
        failure = _event_failure(exc)
        if failure is not None:
            raise failure from None
        raise PromoCodeExists(f"The event already has the code {code.code}.") from None


def update(event: EventRecord, old: PromoCode, new: PromoCode) -> PromoCode:
    """Write the edited code with the next version, if nobody edited it since `old` was read; its counter
    keeps its uses. Returns it as written (uses as read)."""
    written = replace(new, version=old.version + 1, updated_at=clock.now())
    seen = {"ConditionExpression": "version = :seen", "ExpressionAttributeValues": named_values(seen=old.version)}
    copies = {
        k: v for k, v in _counter_item(written).items() if k in ("version", "max_uses", "valid_from", "valid_until")
    }
    sets = [f"#{k} = :{k}" for k, v in copies.items() if v is not None]
    removes = [f"#{k}" for k, v in copies.items() if v is None]
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    tx = Transaction().add("event", _event_check(event, _named_types(written)))
    tx.add("code", {"Put": {"TableName": events_table(), "Item": dump(_definition_item(written)), **seen, **ALL_OLD}})
    counter = {
        "TableName": events_table(),
        "Key": dump(counter_key(event.id, old.code)),
        "UpdateExpression": expression,
        "ConditionExpression": "version = :seen",
        "ExpressionAttributeNames": {f"#{k}": k for k in copies},
        "ExpressionAttributeValues": named_values(
            seen=old.version, **{k: v for k, v in copies.items() if v is not None}
        ),
    }
    tx.add("uses", {"Update": counter})
    try:
        tx.commit()
    except Failed as exc:
        failure = _event_failure(exc)
        if failure is not None:
            raise failure from None
        if exc.failed("code") and exc.old("code") is None:
            raise PromoCodeNotFound() from None
        raise Stale() from None  # edited meanwhile: apply the change to what it is now
    return written


def delete(event_id: str, code: str) -> None:
    """Remove the code's two items; its uses go with it (bookings keep the prices they were sold at)."""
    exists = {"ConditionExpression": "attribute_exists(pk)"}
    tx = Transaction()
    tx.add("code", {"Delete": {"TableName": events_table(), "Key": dump(definition_key(event_id, code)), **exists}})
    tx.add("uses", {"Delete": {"TableName": events_table(), "Key": dump(counter_key(event_id, code))}})
    try:
        tx.commit()
    except Failed:
        raise PromoCodeNotFound() from None


# --- redemption: actions for the booking's and the cancel's transactions (phase 2) ---


def redeem(code: PromoCode, quantity: int, discount: Decimal, now: datetime) -> dict[str, Any]:
    """An Update for a booking's transaction: the code's counter takes `quantity` tickets and `discount`, if
    the code is still the version judged, has room for them (max_uses counts tickets) and is valid at `now`.
    Its failure (ALL_OLD) says why: no item, deleted (invalid); another version, edited (judge it again);
    else used up (`uses` as it is now) or out of its window (invalid)."""
    conditions = ["version = :version"]
    values: dict[str, Any] = {"version": code.version, "q": quantity, "d": discount, "now": now.isoformat()}
    if code.max_uses is not None:
        conditions.append("uses <= :room")
        values["room"] = code.max_uses - quantity
    conditions.append("(attribute_not_exists(valid_from) OR valid_from <= :now)")
    conditions.append("(attribute_not_exists(valid_until) OR valid_until > :now)")
    return {
        "Update": {
            "TableName": events_table(),
            "Key": dump(counter_key(code.event_id, code.code)),
            "UpdateExpression": "ADD uses :q, discount_given :d",
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeValues": named_values(**values),
            **ALL_OLD,
        }
    }


class PromoCodeChanged(Exception):
    """A redemption found the code at another version than judged (edited, or deleted and made again):
    read it again and judge it afresh."""


def redeem_refusal(failed: Failed, name: str, code: PromoCode, quantity: int) -> Exception | None:
    """Why the redemption action `name` of a lost transaction failed, if it did (its item as ALL_OLD saw it):
    the code gone or out of its window (InvalidPromoCode), edited (PromoCodeChanged), or without room for
    `quantity` more tickets (PromoCodeUsedUp)."""
    if not failed.failed(name):
        return None
    current = failed.old(name)
    if current is None:
        return InvalidPromoCode()
    if int(current["version"]) != code.version:
        return PromoCodeChanged()
    cap = current.get("max_uses")
    if cap is not None and int(current["uses"]) + quantity > int(cap):
        return PromoCodeUsedUp()
    return InvalidPromoCode()


def give_back(event_id: str, code: str, code_id: str, quantity: int, discount: Decimal) -> dict[str, Any]:
    """An Update for a cancel's transaction: the code's counter gives back `quantity` tickets and `discount`,
    only if it is still the code the booking used (`id`): a code deleted, or deleted and made again, gets
    nothing back, and then the cancel commits again without this action."""
    return {
        "Update": {
            "TableName": events_table(),
            "Key": dump(counter_key(event_id, code)),
            "UpdateExpression": "ADD uses :q, discount_given :d",
            "ConditionExpression": "id = :id",
            "ExpressionAttributeValues": named_values(id=code_id, q=-quantity, d=-discount),
        }
    }
