"""The per-partition bill (issue 20, proof 1): for each request kind, the read and write units every partition
key of every table and index receives, from the calls the real handler sends (captured on the wire) and the
items they touch (scripts.bench.capacity), with each table's and index's totals beside them; then an event's
ceiling: the least of what one partition takes a second (1,000 WCU, 3,000 RCU) over the hottest partition's
units per booking, and of what a table or index takes (its on-demand quota, 40,000 WCU and 40,000 RCU by
default) over its units per booking.

Measured on a 20,000-ticket event at its default N (inventory shards) and at N = 1, where the API has
`inventory_shards`; per booking, the ceiling averages SPREAD bookings per shard of distinct buyers (a sharded
event's bookings spread over its shards). The waiting list is measured on a sold-out event of as many stock
shards with at least LINE_AHEAD people already in line, and someone in each line shard (a line shard's first
join marks every stock shard once: the join measured is a steady one); returns (`emptied line`) on an event
whose line was used and is empty again.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from devserver.invoke import Api
from scripts.bench.capacity import Charge, merged, placeholder
from scripts.bench.common import QUIET, hooked, local_stack, new_caller, new_event, shardable, shards_of, table
from scripts.bench.meter import Meter

PARTITION_WCU, PARTITION_RCU = 1000, 3000  # per second, what one partition takes
TABLE_WCU, TABLE_RCU = 40_000, 40_000  # per second, a table's (or index's) on-demand quota by default
SPREAD = 4  # 1-ticket bookings per shard the ceiling averages over (at least 8)
TOTAL = 20_000
LINE_AHEAD = 10
SPREAD_HOLDS = 64  # holds placed to show how by_expiry's (and by_event_expiry's) shards share them
EVENT_SPREAD_SHARDS = 8  # the inventory shards of the event whose holds show by_event_expiry's spread


def raw_client() -> Any:
    """A client of the same endpoint that none of our hooks watch."""
    import boto3

    from boxoffice.config import settings

    return boto3.client("dynamodb", endpoint_url=settings().dynamodb_endpoint_url)


@contextmanager
def billed() -> Iterator[list[Charge]]:
    """The charges of every DynamoDB call boxoffice's client sends while the block runs (exact: each write is
    sized on the item before and after it)."""
    meter = Meter(raw_client())
    charges: list[Charge] = []
    pending: list[Any] = []

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        writes = meter.writes(model.name, params)
        charges.extend(meter.read_charges(model.name, params))
        pending.append((writes, meter.items(writes)))

    def after(model: Any, **_: Any) -> None:
        writes, old = pending.pop()
        charges.extend(meter.write_charges(writes, old, meter.items(writes)))

    with hooked("provide-client-params.dynamodb", before), hooked("after-call.dynamodb", after):
        yield charges


def _staff() -> str:
    from boxoffice import auth
    from boxoffice.logic import accounts
    from boxoffice.vocabulary import Role

    email = f"partitions-staff-{time.monotonic_ns()}@example.com"  # one per measure
    user = accounts.create_account("Staff", email, "bench-password", role=Role.STAFF)
    return auth.issue_token(user.id, Role.STAFF, 0)[0]


@dataclass
class Bill:
    shards: int  # the event's inventory shards, as it shows them
    requests: dict[str, list[Charge]]  # request kind -> the charges of one request of it
    booking: list[Charge]  # what one 1-ticket booking puts on each partition on average


def measure(shards: int | None = None) -> Bill:
    """The bill of each request kind on an event of `shards` inventory shards (None: its default), through the
    handlers (call inside a local stack)."""
    api, bills = Api(), {}

    def call(kind: str, name: str, expect: int, token: str | None = None, **kwargs: Any) -> Any:
        with billed() as charges:
            result = api.call(name, token=token, **kwargs)
        assert result.status == expect, (kind, result.status, result.body)
        bills[kind] = charges
        return result.body

    buyer, staff = new_caller(), _staff()
    path = {"event_id": new_event(TOTAL, starts_in=timedelta(hours=1), shards=shards)}  # within its door window
    one = call("book 1", "create_booking", 201, buyer.token, path=path, body={"quantity": 1})
    key = {"Idempotency-Key": "partitions-book-4"}
    four = call("book 4 (Idempotency-Key)", "create_booking", 201, buyer.token, path=path, body={"quantity": 4},
                headers=key)  # fmt: skip
    hold = call("hold 1", "create_hold", 201, buyer.token, path=path, body={"quantity": 1})
    call("confirm", "confirm_hold", 201, buyer.token, path={"hold_id": hold["id"]})
    released = api.call("create_hold", token=buyer.token, path=path, body={"quantity": 1}).body
    call("release (hold 1)", "release_hold", 200, buyer.token, path={"hold_id": released["id"]})
    call("cancel (1 ticket)", "cancel_booking", 200, buyer.token, path={"booking_id": one["id"]})
    ticket = {"booking_id": four["id"], "ticket_number": four["tickets"][0]["ticket_number"]}
    call("cancel 1 ticket of 4", "cancel_ticket", 200, buyer.token, path=ticket)
    call("event read", "get_event", 200, None, path=path)
    booked = api.call("create_booking", token=buyer.token, path=path, body={"quantity": 1}).body
    call("check-in", "check_in", 200, staff, path=path, body={"code": booked["tickets"][0]["code"]})

    n = shards_of(path["event_id"])
    line = {"event_id": new_event(1, shards=n)}  # in as many stock shards as the big event: its gate reads them
    api.call("create_booking", token=new_caller().token, path=line, body={"quantity": 1})  # sold out
    ahead = 0
    while ahead < LINE_AHEAD or not all(line_counts(line["event_id"]).shards):  # every counter flagged: steady
        api.call("join_waiting_list", token=new_caller().token, path=line, body={"quantity": 1})
        ahead += 1
    entry = call(f"join ({ahead} ahead)", "join_waiting_list", 201, buyer.token, path=line, body={"quantity": 1})
    call("leave", "leave_waiting_list", 200, buyer.token, path={"entry_id": entry["id"]})
    returns_while_waiting(call, shards)
    emptied = {"event_id": new_event(TOTAL, shards=shards)}
    line_used(emptied["event_id"])
    kept = api.call("create_booking", token=buyer.token, path=emptied, body={"quantity": 1}).body
    for label in ("release (hold 1, emptied line: unmarks it)", "release (hold 1, emptied line)"):
        held = api.call("create_hold", token=buyer.token, path=emptied, body={"quantity": 1}).body
        call(label, "release_hold", 200, buyer.token, path={"hold_id": held["id"]})
    call("cancel (1 ticket, emptied line)", "cancel_booking", 200, buyer.token, path={"booking_id": kept["id"]})
    return Bill(n, bills, booking_share(path, max(8, SPREAD * n)))


def line_counts(event_id: str) -> Any:
    from boxoffice.store import line

    return line.counts(event_id)


def returns_while_waiting(call: Any, shards: int | None) -> None:
    """A cancel and a hold's release of a ticket that came from a stock shard k > 0 (when the event has more
    than one) of a sold-out TOTAL-ticket event while two people wait for 2 tickets each: the cancel's ticket
    is kept for them, the release's makes 2 and is offered to the head (in the same request)."""
    from boxoffice.store import bookings, holds

    api, buyer, admin = Api(), new_caller(), _admin()
    path = {"event_id": new_event(TOTAL, shards=shards)}
    sharded = shards_of(path["event_id"]) > 1

    def off_shard_zero(route: str, read: Any) -> Any:  # the shard a take tries first is picked at random
        while True:
            taken = api.call(route, token=buyer.token, path=path, body={"quantity": 1}).body
            if not sharded or read(buyer.user_id, taken["id"])[1].shards:
                return taken

    booking, hold = (
        off_shard_zero("create_booking", bookings.read_booking),
        off_shard_zero("create_hold", holds.read_hold),
    )
    sold_out = {"total_tickets": 1}
    while (edited := api.call("update_event", token=admin, path=path, body=sold_out)).status == 409:
        sold_out = {"total_tickets": edited.body["tickets_sold"]}  # what is sold or held: none left on sale
    assert edited.status == 200, edited.body
    for _ in range(2):
        joined = api.call("join_waiting_list", token=new_caller().token, path=path, body={"quantity": 2})
        assert joined.status == 201, joined.body
    cancelled = {"booking_id": booking["id"]}
    call("cancel (1 ticket, kept for the line)", "cancel_booking", 200, buyer.token, path=cancelled)
    call("release (hold 1, then offered to the line)", "release_hold", 200, buyer.token, path={"hold_id": hold["id"]})


def _admin() -> str:
    from boxoffice import auth
    from boxoffice.vocabulary import Role

    return auth.issue_token(new_caller().user_id, Role.ADMIN, 0)[0]


def line_used(event_id: str) -> None:
    """The event's line as a first join and that joiner's leave left it: every stock shard marked (LINE_USED),
    nobody waiting. Its first return proves the line empty and unmarks it; the ones after check no counter."""
    from boxoffice.config import settings
    from boxoffice.store import dynamo, inventory

    for shard in range(shards_of(event_id)):
        dynamo.client().update_item(
            TableName=settings().events_table,
            Key=dynamo.dump(inventory.quota_key(event_id, shard)),
            UpdateExpression=f"SET {inventory.LINE_USED} = :used",
            ExpressionAttributeValues=dynamo.values(used=True),
        )


def booking_share(path: dict[str, str], bookings: int) -> list[Charge]:
    """The charges of `bookings` 1-ticket bookings of distinct buyers, each divided by their number: what one
    booking puts on each partition key on average."""
    api, callers = Api(), [new_caller() for _ in range(bookings)]
    with billed() as charges:
        for caller in callers:
            booked = api.call("create_booking", token=caller.token, path=path, body={"quantity": 1})
            assert booked.status == 201, booked.body
    return [Charge(c.where, c.key, c.rcu / bookings, c.wcu / bookings) for c in charges]


def expiry_spread(holds: int = SPREAD_HOLDS, index: str = "by_expiry", shards: int | None = None) -> dict[str, float]:
    """`index`'s partition key -> the write units `holds` one-ticket holds of one event (in `shards` inventory
    shards; None: its default) put on it, placed through the handler (call inside a local stack)."""
    api, buyer = Api(), new_caller()
    path = {"event_id": new_event(holds, shards=shards, max_holds_per_user=holds, max_held_tickets_per_user=holds)}
    with billed() as charges:
        for _ in range(holds):
            placed = api.call("create_hold", token=buyer.token, path=path, body={"quantity": 1})
            assert placed.status == 201, placed.body
    return {key: wcu for (where, key), (_, wcu) in merged(charges).items() if where.endswith(f"/{index}")}


def spread_line(index: str, units: dict[str, float], shards: int | None = None) -> str:
    total, hottest = sum(units.values()), max(units.values())
    event = f"one event in {shards} inventory shards" if shards else "one event"
    return (
        f"{index}, {SPREAD_HOLDS} holds of {event}: {len(units)} partition keys written, the hottest takes "
        f"{_units(hottest)} of {_units(total)} WCU ({hottest / total:.0%}); one key took them all before the shards"
    )


ROW_HEADERS = ["partition key", "table/index", "RCU", "WCU", "keys", "max RCU/key", "max WCU/key"]


def rows(charges: list[Charge]) -> list[list[str]]:
    """One row per partition key pattern (placeholders for ids), hottest first: their units summed, how many
    keys it covers and the most any one of them takes (what a partition's ceiling is about)."""
    by_key: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0] * 5)
    for (where, key), (rcu, wcu) in merged(charges).items():
        total = by_key[(placeholder(key), where)]
        total[0] += rcu
        total[1] += wcu
        total[2] += 1
        total[3] = max(total[3], rcu)
        total[4] = max(total[4], wcu)
    ordered = sorted(by_key.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    return [[key, where, *(_units(u) for u in units)] for (key, where), units in ordered]


def per_table(charges: list[Charge]) -> dict[str, tuple[float, float]]:
    """Table or table/index -> its (RCU, WCU): each has a quota of its own."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for c in charges:
        totals[c.where][0] += c.rcu
        totals[c.where][1] += c.wcu
    return {where: (rcu, wcu) for where, (rcu, wcu) in sorted(totals.items())}


def table_rows(charges: list[Charge]) -> list[list[str]]:
    return [[where, _units(rcu), _units(wcu)] for where, (rcu, wcu) in per_table(charges).items()]


def hottest(charges: list[Charge]) -> tuple[tuple[str, float], tuple[str, float]]:
    """(partition, WCU) and (partition, RCU) of the partitions that take the most of each."""
    units = merged(charges)
    (wk, (_, w)) = max(units.items(), key=lambda kv: kv[1][1])
    (rk, (r, _)) = max(units.items(), key=lambda kv: kv[1][0])
    return (f"{wk[0]} {placeholder(wk[1])}", w), (f"{rk[0]} {placeholder(rk[1])}", r)


def ceiling(booking: list[Charge]) -> tuple[float, str]:
    """Bookings a second one event takes: the least of its hottest partitions' and its tables' budgets over
    their units per booking."""
    (wk, w), (rk, r) = hottest(booking)
    tables = per_table(booking)
    tw, (_, twu) = max(tables.items(), key=lambda kv: kv[1][1])
    tr, (tru, _) = max(tables.items(), key=lambda kv: kv[1][0])
    limits = [
        (_per(PARTITION_WCU, w), f"hottest partition for writes: {wk} {_units(w)} WCU"),
        (_per(PARTITION_RCU, r), f"for reads: {rk} {_units(r)} RCU"),
        (_per(TABLE_WCU, twu), f"busiest table for writes: {tw} {_units(twu)} WCU"),
        (_per(TABLE_RCU, tru), f"for reads: {tr} {_units(tru)} RCU"),
    ]
    text = "; ".join(f"{what} per booking -> {rate:,.0f} bookings/s" for rate, what in limits)
    return min(rate for rate, _ in limits), text


def _per(budget: float, units: float) -> float:
    return budget / units if units else float("inf")


def _units(value: float) -> str:
    return f"{value:g}"


def run() -> str:
    with local_stack(**QUIET) as runtime:
        assert runtime.scheduler is not None
        runtime.scheduler.stop()  # its sweeps would be billed to whichever request runs beside them
        bills = [measure(shards) for shards in ((None, 1) if shardable() else (None,))]
        spread = expiry_spread()
        event_spread = expiry_spread(index="by_event_expiry", shards=EVENT_SPREAD_SHARDS) if shardable() else {}
    out = [] if shardable() else ["POST /events has no inventory_shards in this version: every event has N = 1"]
    for bill in bills:
        out.append(f"\nPer-partition bill of one request, {TOTAL:,}-ticket event, N = {bill.shards} inventory shards")
        for kind, charges in bill.requests.items():
            out.append(f"\n{kind}")
            out.append(table(ROW_HEADERS, rows(charges)))
            out.append("per table and index (each has its own quota):")
            out.append(table(["table/index", "RCU", "WCU"], table_rows(charges)))
        best, text = ceiling(bill.booking)
        out.append(
            f"\nPer-event ceiling at N = {bill.shards} (book 1, averaged over {max(8, SPREAD * bill.shards)} bookings"
            f"): {text}.\n=> about {best:,.0f} bookings/s per event, so a {TOTAL:,}-ticket on-sale takes at least "
            f"{TOTAL / best:.0f} s however many buyers wait."
        )
    out.append(f"\n{spread_line('by_expiry', spread)}")
    if event_spread:
        out.append(spread_line("by_event_expiry", event_spread, EVENT_SPREAD_SHARDS))
    return "\n".join(out)


if __name__ == "__main__":
    print(run())
