"""Holds: DynamoDB round trips per hold, read, confirm, release, and a sweep's reads per expired hold.

Targets (issue 12): hold = 1 tx + 1 read (as a booking); confirm = 1 tx + 2 reads (account, hold and key;
its event); release = 1 tx + 1 read; a sweep of N expired holds = a round of Queries per 100 holds, one per
by_expiry key not yet read to its end (33 at most: 32 shards and the key before them), reading exactly the
N expired holds, + N transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from devserver.invoke import Api
from scripts.bench.common import QUIET, Calls, RoundTrips, count_calls, local_stack, new_caller, new_event, table

SWEPT = (10, 100, 250)
TARGETS = {
    "hold": "1 tx + 1 read",
    "get hold": "1 read",
    "confirm": "1 tx + 2 reads",
    "release (owner)": "1 tx + 1 read",
}


@contextmanager
def _clock_at(moment: datetime) -> Iterator[None]:
    from boxoffice import clock

    real = clock.now
    clock.now = lambda: moment
    try:
        yield
    finally:
        clock.now = real


def _round_trips() -> str:
    api = Api()
    token = new_caller().token
    trips = RoundTrips(api, TARGETS)
    place: dict[str, Any] = {"path": {"event_id": new_event(1000)}, "body": {"quantity": 2}}
    hold = trips.measure("hold", "create_hold", 201, token, **place)
    trips.measure("get hold", "get_hold", 200, token, path={"hold_id": hold["id"]})
    trips.measure("confirm", "confirm_hold", 201, token, path={"hold_id": hold["id"]})
    other = api.call("create_hold", token=token, **place).body
    trips.measure("release (owner)", "release_hold", 200, token, path={"hold_id": other["id"]})
    return trips.table("DynamoDB calls per request, holds")


def _sweeps() -> str:
    from boxoffice import clock
    from boxoffice.config import settings
    from boxoffice.logic import expiry, holds
    from boxoffice.models.bookings import BookingRequest
    from boxoffice.vocabulary import Principal, Role

    caller = new_caller()
    principal = Principal(caller.user_id, Role.USER, 0)
    rows = []
    for count in SWEPT:
        event_id = new_event(count, max_held_tickets_per_user=count, max_holds_per_user=count)  # one holder
        for _ in range(count):  # through the domain, with no request budget: only the sweep is measured
            holds.place_hold(principal, event_id, BookingRequest(quantity=1))
        later = clock.now() + timedelta(seconds=settings().hold_seconds + 1)
        with _clock_at(later), count_calls() as calls:
            released = expiry.sweep()
        assert released == count, released
        with _clock_at(later), count_calls() as again:
            assert expiry.sweep() == 0
        rows.append(_sweep_row(count, calls, again))
    headers = ["expired holds", "calls", "items read", "items read per hold", "then an empty sweep"]
    return "One sweep of N expired holds\n" + table(headers, rows)


def _sweep_row(count: int, calls: Calls, empty: Calls) -> list[str]:
    return [str(count), calls.describe(), str(calls.items_read), f"{calls.items_read / count:.2f}", empty.describe()]


def run() -> str:
    with local_stack(**QUIET) as runtime:
        assert runtime.scheduler is not None
        runtime.scheduler.stop()  # its sweeps would release some of the holds a measured sweep counts
        return f"{_round_trips()}\n\n{_sweeps()}"


if __name__ == "__main__":
    print(run())
