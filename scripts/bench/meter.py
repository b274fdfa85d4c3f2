"""The capacity a DynamoDB call takes, partition by partition, sized on the items it reads or writes.

The call is the one boxoffice's client sends (its operation and parameters, as a botocore hook sees them); the
items are read beside it through a plain client of the same endpoint, which no hook of ours watches: before
the call (what it reads, what it will overwrite) and, for an exact bill, after it (what it wrote).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scripts.bench.capacity import Charge, Item, Schema, read_charge, schemas, write_charges
from scripts.bench.writes import item_size

_WRITES = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}
_TOKEN = re.compile(r"[#:]\w+")


@dataclass(frozen=True)
class Write:
    """One item a call writes (or checks): its table, key, kind, and the item a Put sends."""

    table: str
    key: tuple[tuple[str, Any], ...]
    kind: str  # Put, Update, Delete, ConditionCheck (or Get: an item a read sizes)
    transactional: bool
    item: Item | None = None


def _frozen(key: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, next(iter(v.items()))) for k, v in key.items()))


def _thawed(key: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return {k: {t: v} for k, (t, v) in key}


class Meter:
    def __init__(self, raw: Any, *, remember: bool = False) -> None:
        """With `remember`, an item read once is taken as read again (a model's estimate: items that every
        request writes change by a few bytes, well within a unit), a Put's item as sent, and a Put of a key
        never seen as a new item (the booking path puts only new ones): no read of the store for either."""
        self.raw = raw
        self.schemas: dict[str, Schema] = schemas()
        self.remembered: dict[tuple[str, Any], Item | None] | None = {} if remember else None

    def _key(self, table: str, item: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        return _frozen({k: item[k] for k in self.schemas[table].keys})

    def writes(self, operation: str, params: Mapping[str, Any]) -> list[Write]:
        found = []
        if operation == "TransactWriteItems":
            for action in params["TransactItems"]:
                (kind, body), *_ = action.items()
                key = self._key(body["TableName"], body.get("Key") or body["Item"])
                found.append(Write(body["TableName"], key, kind, True, body.get("Item")))
        elif operation in _WRITES:
            key = self._key(params["TableName"], params.get("Key") or params["Item"])
            found.append(Write(params["TableName"], key, _WRITES[operation], False, params.get("Item")))
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    put = request.get("PutRequest", {}).get("Item")
                    key = self._key(table, put or request["DeleteRequest"]["Key"])
                    found.append(Write(table, key, "Put" if put else "Delete", False, put))
        return found

    def gets(self, params: Mapping[str, Any]) -> list[Write]:
        """The items a TransactGetItems reads (kind Get)."""
        return [
            Write(get["TableName"], self._key(get["TableName"], get["Key"]), "Get", True)
            for get in (action["Get"] for action in params["TransactItems"])
        ]

    def items(self, writes: list[Write]) -> dict[tuple[str, Any], Item | None]:
        """The items as stored now, by (table, key), in as few BatchGetItems as it takes."""
        wanted = list(dict.fromkeys((w.table, w.key) for w in writes))
        known = self.remembered if self.remembered is not None else {}
        found: dict[tuple[str, Any], Item | None] = {k: known.get(k) for k in wanted}
        wanted = [k for k in wanted if k not in known]
        if self.remembered is not None:
            new = {(w.table, w.key) for w in writes if w.kind == "Put"}
            wanted = [k for k in wanted if k not in new]
        for start in range(0, len(wanted), 100):
            request: dict[str, Any] = {}
            for table, key in wanted[start : start + 100]:
                request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(_thawed(key))
            while request:
                answer = _aside(self.raw.batch_get_item, RequestItems=request)
                for table, items in answer["Responses"].items():
                    for item in items:
                        found[(table, self._key(table, item))] = item
                request = answer.get("UnprocessedKeys") or {}
        if self.remembered is not None:
            self.remembered.update(found)
            self.remembered.update({(w.table, w.key): w.item for w in writes if w.kind in ("Put", "Delete")})
        return found

    def write_charges(
        self,
        writes: list[Write],
        before: Mapping[tuple[str, Any], Item | None],
        after: Mapping[tuple[str, Any], Item | None] | None = None,
    ) -> list[Charge]:
        """Units of `writes`, from the items `before` and `after` them; without `after`, an estimate made
        before the call: a Put's new item is the one it sends, an update keeps the item's size."""
        charges = []
        for w in writes:
            schema, old = self.schemas[w.table], before.get((w.table, w.key))
            if after is not None:
                new = after.get((w.table, w.key))
            else:
                new = w.item if w.kind == "Put" else None if w.kind == "Delete" else old
            if w.kind == "ConditionCheck":
                new = old
            if old is None and new is None:
                old = _thawed(w.key)  # deleting or checking an absent item still takes the minimum
            charges += write_charges(
                schema, old, new, transactional=w.transactional, check_only=w.kind == "ConditionCheck"
            )
        return charges

    def read_charges(self, operation: str, params: Mapping[str, Any]) -> list[Charge]:
        """Units of a read, sized on the whole items it reads (read now, as the call will find them)."""
        if operation == "GetItem":
            return [self._get(params["TableName"], params["Key"], params.get("ConsistentRead", False))]
        if operation == "BatchGetItem":
            keys = [
                (table, key, bool(request.get("ConsistentRead", False)))
                for table, request in params["RequestItems"].items()
                for key in request["Keys"]
            ]
            found = self.items([Write(table, self._key(table, key), "Get", False) for table, key, _ in keys])
            return [self._get(table, key, consistent, found) for table, key, consistent in keys]
        if operation == "TransactGetItems":
            return [
                self._get(action["Get"]["TableName"], action["Get"]["Key"], True, times=2)
                for action in params["TransactItems"]
            ]
        if operation == "Query":
            return [self._query(params)]
        return []

    def _get(
        self,
        table: str,
        key: Mapping[str, Any],
        consistent: bool,
        found: Mapping[tuple[str, Any], Item | None] | None = None,
        times: int = 1,
    ) -> Charge:
        """One item's read; `found`: the items already read with others of the same call, in one request."""
        schema, frozen = self.schemas[table], self._key(table, key)
        item = (found if found is not None else self.items([Write(table, frozen, "Get", False)]))[(table, frozen)]
        partition = str(next(iter(key[schema.keys[0]].values())))
        return read_charge(schema, partition, [item_size_of(item)], consistent=consistent, times=times)

    def _query(self, params: Mapping[str, Any]) -> Charge:
        """The Query again with its key condition only: the items it reads, whatever it filters or projects."""
        schema = self.schemas[params["TableName"]]
        condition = params["KeyConditionExpression"]
        used = set(_TOKEN.findall(condition))
        again: dict[str, Any] = {"TableName": params["TableName"], "KeyConditionExpression": condition}
        for field in ("IndexName", "Limit", "ExclusiveStartKey", "ScanIndexForward"):
            if field in params:
                again[field] = params[field]
        names = {k: v for k, v in params.get("ExpressionAttributeNames", {}).items() if k in used}
        values = {k: v for k, v in params["ExpressionAttributeValues"].items() if k in used}
        if names:
            again["ExpressionAttributeNames"] = names
        again["ExpressionAttributeValues"] = values
        index = params.get("IndexName")
        hash_name = schema.index(index).keys[0] if index else schema.keys[0]
        placeholder = next(n for n, v in names.items() if v == hash_name) if hash_name not in condition else hash_name
        value = re.search(rf"{re.escape(placeholder)}\s*=\s*(:\w+)", condition)
        assert value is not None, condition
        key = str(next(iter(values[value.group(1)].values())))
        items = _aside(self.raw.query, **again)["Items"]
        consistent = bool(params.get("ConsistentRead")) and index is None
        return read_charge(schema, key, [item_size_of(i) for i in items], consistent=consistent, index=index)


def _aside(call: Any, **params: Any) -> Any:
    """A call of the meter's own, in an empty context: not the running function's (nor in its budget)."""
    return contextvars.Context().run(call, **params)


def item_size_of(item: Item | None) -> int:
    return item_size(item) if item else 0
