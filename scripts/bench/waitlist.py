"""The waiting list: DynamoDB round trips per join, list, leave and a cancel that makes an offer.

A join is one BatchGetItem (account, event and quota, holding, entry), one Query of the event's lapsed
holds, one transaction (entry, line item, its shard's counter, token check), one BatchGetItem that judges
the gate again (quota and the line's 8 counters), one UpdateItem (the entry keeps the line's counts, the
bound of its position), the allocator only when tickets are kept for the line, and, while fewer than 1,000
are ahead, one COUNT Query per line shard anyone waits in (at most 999 items in all; behind more, none:
section `line`). The allocator reads the event, the line's counters and the head of each shard anyone
waits in (offers.LINE_WINDOW items in all, merged in join order). An offer is one more transaction, and
one write takes the emptied pool out of the pool index. A cancel checks the line's counters in its
transaction once anyone has queued for the event (nobody waits: 8 ConditionChecks; someone: one); it
commits once when this process saw who waits at the event's last return, else twice (the second after
one read of the counters).
"""

from __future__ import annotations

from typing import Any

from devserver.invoke import Api
from scripts.bench.common import QUIET, Caller, RoundTrips, local_stack, new_caller, new_event

LINE = 200  # entries ahead of the last join measured
TARGETS = {
    "join (first in line)": "1 tx + 1 write + 3 reads + COUNT/shard",
    f"join (after {LINE})": "1 tx + 1 write + 3 reads + COUNT/shard",
    "join (kept tickets fit: offer at once)": "2 tx + 2 writes + 5 reads + head/shard",
    "list (1 entry, WAITING)": "2 reads + COUNT/shard",
    "leave (WAITING)": "1 tx + 3 reads",
    "cancel that makes an offer": "2 tx + 1 write + 4 reads + head/shard",
    f"cancel behind {LINE} that nothing kept fits": "2 tx + 4 reads + head/shard",
}


def _sold_out(api: Api, owner: Caller, total: int) -> tuple[str, list[str]]:
    event_id = new_event(total)
    body = {"quantity": 1}
    booked = [
        api.call("create_booking", token=owner.token, path={"event_id": event_id}, body=body) for _ in range(total)
    ]
    return event_id, [b.body["id"] for b in booked]


def _round_trips() -> str:
    api = Api()
    owner = new_caller()
    trips = RoundTrips(api, TARGETS, items_read=True)

    def joining(label: str, event_id: str, quantity: int) -> Any:
        body = {"quantity": quantity}
        return trips.measure(
            label, "join_waiting_list", 201, new_caller().token, path={"event_id": event_id}, body=body
        )

    event_id, bookings = _sold_out(api, owner, 3)
    first = new_caller()
    body = {"quantity": 2}
    join = {"path": {"event_id": event_id}, "body": body}
    entry = trips.measure("join (first in line)", "join_waiting_list", 201, first.token, **join)
    trips.measure("list (1 entry, WAITING)", "list_waiting_list", 200, first.token, query={})
    trips.measure("leave (WAITING)", "leave_waiting_list", 200, first.token, path={"entry_id": entry["id"]})
    for _ in range(LINE):
        api.call("join_waiting_list", token=new_caller().token, path={"event_id": event_id}, body=body)
    joining(f"join (after {LINE})", event_id, 2)
    # One ticket back, and everyone wants two: the allocator reads one window of the line (offers.LINE_WINDOW
    # items), not the whole line, and the sweeper reads deeper. The event's first return: it commits twice.
    trips.measure(
        f"cancel behind {LINE} that nothing kept fits",
        "cancel_booking",
        200,
        owner.token,
        path={"booking_id": bookings[0]},
    )

    event_id, bookings = _sold_out(api, owner, 2)
    api.call("join_waiting_list", token=new_caller().token, path={"event_id": event_id}, body={"quantity": 2})
    api.call("cancel_booking", token=owner.token, path={"booking_id": bookings[0]})  # kept: the line wants two
    late = joining("join (kept tickets fit: offer at once)", event_id, 1)
    assert late["status"] == "OFFERED", late
    api.call("join_waiting_list", token=new_caller().token, path={"event_id": event_id}, body={"quantity": 1})
    trips.measure("cancel that makes an offer", "cancel_booking", 200, owner.token, path={"booking_id": bookings[1]})
    return trips.table("DynamoDB calls per request, waiting list")


def run() -> str:
    with local_stack(**QUIET) as runtime:
        if runtime.scheduler is not None:
            runtime.scheduler.stop()  # a sweep would make offers the measured requests should make
        return _round_trips()


if __name__ == "__main__":
    print(run())
