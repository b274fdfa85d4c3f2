"""An event's waiting line, spread over LINE_SHARDS partitions so that no partition takes every join.

An entry's line item lives under `LINE#<event>#<k>` (k from its id), in join order within the shard, and
shard k's count of entries WAITING on its own item under `LINECOUNT#<event>#<k>`: a join writes 2 WCU to
each of two partitions of the 2 * LINE_SHARDS, so 1,000 WCU a partition take 4,000 joins a second. Lines of
events stored before the shards (`LINE#<event>`, counted by the quota's `waiting`) are the LEGACY shard:
read and ended as before, never joined again, so they empty on their own (docs/data-model.md).

Who waits, for the pool that returned tickets go to (store/inventory.py), is decided by conditions on the
counters: nobody = every counter 0 (LINE_SHARDS ConditionChecks), someone = one counter seen above 0 still
is. This module knows keys and counters only: the quota item is store/inventory.py's.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from boxoffice.store import dynamo
from boxoffice.store.dynamo import ALL_OLD, Failed, Item, Transaction, dump, events_table, values

LINE_SHARDS: Final = 8
LEGACY: Final = -1  # the line of an event stored before the shards: `LINE#<event>`, counted on the quota
COUNT = "COUNT"
_LINE, _COUNTER = "LINE#", "LINECOUNT#"
# A counter that is 0 or was never written (nobody ever joined that shard): `:zero` is 0.
_NONE_WAIT = "(attribute_not_exists(waiting) OR waiting = :zero)"
# On a counter: every stock shard's quota carries LINE_USED (store/inventory.py). Set by a join that marks
# them, removed from all 8 at once by the unmark (only while nobody waits), so a join that finds its own
# counter flagged need mark nothing, and an emptied line can be unmarked.
STOCK_MARKED: Final = "stock_marked"


def shard_of(entry_id: str) -> int:
    """The line shard of an entry: a hash of its whole id (a ULID's first symbols are its millisecond, shared
    by a rush's joins), so joins spread evenly over the shards."""
    return dynamo.spread(entry_id, LINE_SHARDS)


def line_pk(event_id: str, shard: int) -> str:
    return f"{_LINE}{event_id}" if shard == LEGACY else f"{_LINE}{event_id}#{shard}"


def counter_key(event_id: str, shard: int) -> dict[str, str]:
    return {"pk": f"{_COUNTER}{event_id}#{shard}", "sk": COUNT}


def count(event_id: str, shard: int, delta: int, *, served: bool = False) -> dict[str, Any]:
    """Shard `shard`'s count of entries WAITING moves with its line items, in the same transaction; `served`:
    the entry leaving is the head of the whole line (nobody WAITING ahead of it), counted in `served`, which
    bounds every later position (position_bound)."""
    return {
        "Update": {
            "TableName": events_table(),
            "Key": dump(counter_key(event_id, shard)),
            "UpdateExpression": "ADD waiting :delta" + (", served :one" if served else ""),
            "ExpressionAttributeValues": values(delta=delta, **({"one": 1} if served else {})),
        }
    }


def join_count(event_id: str, shard: int, *, marking: bool) -> dict[str, Any]:
    """A join's count: + 1 on its shard's counter, with its flag (STOCK_MARKED) set when the join marks the
    stock shards (`marking`), else only while the flag is there: a line unmarked since makes it fail."""
    action = count(event_id, shard, 1)
    if marking:
        action["Update"]["UpdateExpression"] += f" SET {STOCK_MARKED} = :marked"
        action["Update"]["ExpressionAttributeValues"] |= values(marked=True)
    else:
        action["Update"]["ConditionExpression"] = f"attribute_exists({STOCK_MARKED})"
    return action


def unflag(tx: Transaction, event_id: str) -> None:
    """Every counter's STOCK_MARKED removed, each while it is 0 (a join since makes it fail): `waiters:<k>`."""
    for k in range(LINE_SHARDS):
        tx.add(
            f"waiters:{k}",
            {
                "Update": {
                    "TableName": events_table(),
                    "Key": dump(counter_key(event_id, k)),
                    "UpdateExpression": f"REMOVE {STOCK_MARKED}",
                    "ConditionExpression": _NONE_WAIT,
                    "ExpressionAttributeValues": values(zero=0),
                }
            },
        )


@dataclass(frozen=True, slots=True)
class Counts:
    """How many entries WAITING, per line shard and in the legacy line (the quota's `waiting`), and how many
    have left the line from its head in all (`served`: offered or ended with nobody waiting ahead)."""

    shards: tuple[int, ...]
    legacy: int = 0
    served: int = 0

    @property
    def total(self) -> int:
        return sum(self.shards) + self.legacy

    def lined(self) -> list[int]:
        """The shards anyone waits in (LEGACY first: the old line joined before any shard): the only ones a
        read of the line's head or of those ahead need query (whoever joins an empty one since is behind)."""
        return [LEGACY] * bool(self.legacy) + [k for k, n in enumerate(self.shards) if n > 0]

    def someone(self) -> int | None:
        """A shard where someone waits (LEGACY: the old line), None when nobody does: any of them, at random, so
        that the returns of many processes, each checking the one it guessed, spread over the counters."""
        if self.legacy > 0:
            return LEGACY
        lined = [k for k, n in enumerate(self.shards) if n > 0]
        return random.choice(lined) if lined else None  # noqa: S311 - spread, not crypto


def counts(event_id: str, legacy: int = 0) -> Counts:
    """Every shard's count, in one strongly consistent BatchGetItem (LINE_SHARDS small items)."""
    found = dynamo.batch_get({events_table(): [counter_key(event_id, k) for k in range(LINE_SHARDS)]})
    return counted(event_id, found[events_table()], legacy)


def counted(event_id: str, items: Iterable[Item], legacy: int = 0) -> Counts:
    """The event's Counts from whichever of its counter items are among `items` (a missing one: 0)."""
    mine = {item["pk"]: item for item in items if item["sk"] == COUNT}
    found = [mine.get(counter_key(event_id, k)["pk"], {}) for k in range(LINE_SHARDS)]
    return Counts(tuple(int(i.get("waiting", 0)) for i in found), legacy, sum(int(i.get("served", 0)) for i in found))


def _check(event_id: str, shard: int, condition: str, **named: int) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": events_table(),
            "Key": dump(counter_key(event_id, shard)),
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values(**named),
            **ALL_OLD,
        }
    }


def check_nobody(tx: Transaction, event_id: str) -> None:
    """Every shard's counter is 0 (the legacy line is the quota's condition): actions `waiters:<k>`."""
    for k in range(LINE_SHARDS):
        tx.add(f"waiters:{k}", _check(event_id, k, _NONE_WAIT, zero=0))


def check_someone(tx: Transaction, event_id: str, shard: int) -> None:
    """Someone still waits in `shard`, as seen before: action `waiters`."""
    tx.add("waiters", _check(event_id, shard, "waiting > :zero", zero=0))


def check_unchanged(tx: Transaction, event_id: str, seen: Counts) -> None:
    """Every shard's counter is what was read (a join or a leave since makes it fail): `waiters:<k>`."""
    for k, n in enumerate(seen.shards):
        check = _check(event_id, k, _NONE_WAIT, zero=0) if n == 0 else _check(event_id, k, "waiting = :n", n=n)
        tx.add(f"waiters:{k}", check)


def seen_waiting(exc: Failed) -> int | None:
    """A shard that a failed transaction's counter checks (check_nobody) found with someone waiting (any, at
    random: as Counts.someone)."""
    found = []
    for k in range(LINE_SHARDS):
        old = exc.old(f"waiters:{k}")
        if exc.failed(f"waiters:{k}") and old is not None and int(old.get("waiting", 0)) > 0:
            found.append(k)
    return random.choice(found) if found else None  # noqa: S311 - spread, not crypto


def head(
    event_id: str, limit: int, shards: Iterable[int], to_entry: Callable[[int, Item], Any]
) -> tuple[list[Any], bool]:
    """The first `limit` line items of the event in join order over `shards`, and whether more follow.

    Each shard is read from its head (one strongly consistent Query; `limit` items shared out over the
    shards, at least one each), and the heads are merged by sort key (joined_at, then id). An item is
    returned only if no shard cut short could still hold an earlier one: the merge stops at the earliest
    last item of a shard read in part (so at least one shard's worth is returned while any is left).
    """
    read = list(shards)
    share, extra = divmod(limit, max(len(read), 1))
    pages: list[tuple[int, list[Item], bool]] = []
    for n, shard in enumerate(read):
        with dynamo.aws_errors():
            raw = dynamo.client().query(
                TableName=events_table(),
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=values(pk=line_pk(event_id, shard)),
                ConsistentRead=True,
                Limit=max(1, share + (n < extra)),
            )
        pages.append((shard, [dynamo.load(i) for i in raw.get("Items", [])], "LastEvaluatedKey" in raw))
    merged = list(heapq.merge(*([(i["sk"], shard, i) for i in items] for shard, items, _ in pages)))
    return merge_cut(merged, [items[-1]["sk"] for _, items, more in pages if more and items], limit, to_entry)


def merge_cut(
    merged: Sequence[tuple[str, int, Item]], cut_at: Sequence[str], limit: int, to_entry: Callable[[int, Item], Any]
) -> tuple[list[Any], bool]:
    """The merged items up to the earliest of `cut_at` (the last item of each shard read in part), at most
    `limit`, and whether more may follow."""
    bound = min(cut_at) if cut_at else None
    kept = [to_entry(shard, item) for sk, shard, item in merged if bound is None or sk <= bound][:limit]
    return kept, bool(cut_at) or len(merged) > limit
