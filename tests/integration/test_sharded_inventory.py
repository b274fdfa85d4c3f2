"""Sharded inventory (issue 20): an event's open stock split over stock shards, each a partition of its
own. Races run threads through the handlers over the embedded database (every call serialised, as `make
run` runs it); `stock_now` reads every shard at one instant. The promises: never oversold (sold + held +
reserved + available == total at every sample) and never stranded (demand above supply sells all of it,
fragments left in several shards joined by one booking). The counts are scaled down from issue 20's
(2,000 attempts on 500 tickets) to keep the suite's CPU time; demand stays above supply."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from boxoffice import auth
from boxoffice.config import settings
from boxoffice.errors import Busy, CapacityBelowSold
from boxoffice.logic import events
from boxoffice.models.events import UpdateEvent
from boxoffice.store import dynamo, event_items
from devserver.dynamodb import EmbeddedDynamoDB
from scripts.bench.common import count_calls
from tests.support.bookings import Account, _scan, new_account, new_event
from tests.support.fixtures import embedded_database
from tests.support.handlers import Api, Result
from tests.support.holds import Clock, Stock, place, stock_now, sweep

ALLOWED = {(201, ""), (409, "SOLD_OUT"), (409, "NOT_ENOUGH_TICKETS"), (409, "BUSY")}


@pytest.fixture(scope="module")
def db() -> Iterator[EmbeddedDynamoDB]:
    with embedded_database("shards") as database:
        yield database


def race(calls: list[Callable[[], Any]], workers: int = 16) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def codes(results: list[Result]) -> Counter[tuple[int, str]]:
    return Counter((r.status, r.body["code"] if r.status >= 400 else "") for r in results)


def book(who: Account, event_id: str, quantity: int) -> Result:
    return Api().call("create_booking", token=who.token, path={"event_id": event_id}, body={"quantity": quantity})


def sold(results: list[Result]) -> int:
    return sum(r.body["quantity"] for r in results if r.status == 201)


def shard_items(db: EmbeddedDynamoDB, event_id: str) -> dict[int, int]:
    """Each stock shard's open stock, as stored."""
    items = [
        item
        for item in _scan(settings().events_table)
        if item["pk"].startswith(f"EVENT#{event_id}") and item["sk"] == "QUOTA"
    ]
    return {int(i["pk"].partition("#S")[2] or 0): int(i["available_tickets"]) for i in items}


class Sampler:
    """stock_now every few milliseconds while a race runs."""

    def __init__(self, db: EmbeddedDynamoDB, event_id: str) -> None:
        self.samples: list[Stock] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(db, event_id))

    def _run(self, db: EmbeddedDynamoDB, event_id: str) -> None:
        while not self._done.wait(0.02):
            self.samples.append(stock_now(db, event_id))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


def test_more_one_ticket_buyers_than_tickets_over_sixteen_shards_buy_exactly_every_ticket(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=24, inventory_shards=16)  # 1 or 2 in each shard
    buyers = [new_account() for _ in range(16)]
    results = race([lambda who=who: book(who, event_id, 1) for who in buyers * 2])
    assert set(codes(results)) <= ALLOWED, codes(results)
    left = 24 - sold(results)  # none, unless some lost every round (BUSY) before the end
    assert left == 0 or (409, "SOLD_OUT") not in codes(results)  # stock only fell: SOLD_OUT meant none left
    assert [book(new_account(), event_id, 1).status for _ in range(left)] == [201] * left
    assert book(new_account(), event_id, 1).body["code"] == "SOLD_OUT"
    state = stock_now(db, event_id)
    assert (state.sold, state.available, state.valid_tickets, state.balanced) == (24, 0, 24, True)


def test_bookings_of_one_to_four_over_eight_shards_sell_exactly_every_ticket_joining_fragments(
    db: EmbeddedDynamoDB,
) -> None:
    event_id = new_event(total=20, inventory_shards=8)  # 2 or 3 in each shard
    buyers = [new_account() for _ in range(16)]
    rng = random.Random(20)
    wanted = [rng.randint(1, 4) for _ in buyers]
    results = race([lambda who=who, q=q: book(who, event_id, q) for who, q in zip(buyers, wanted, strict=True)])
    assert set(codes(results)) <= ALLOWED, codes(results)
    # Refused only when fewer than asked were left in all the shards together (one atomic read).
    codes_of = [(r.body.get("code"), r.body.get("available"), q) for r, q in zip(results, wanted, strict=True)]
    assert all(left < q for code, left, q in codes_of if code == "NOT_ENOUGH_TICKETS"), codes_of
    left = 20 - sold(results)
    assert left == 0 or (409, "SOLD_OUT") not in codes(results)  # stock only fell: SOLD_OUT meant none left
    assert [book(new_account(), event_id, 1).status for _ in range(left)] == [201] * left  # fragments too
    assert book(new_account(), event_id, 1).body["code"] == "SOLD_OUT"
    state = stock_now(db, event_id)
    assert (state.sold, state.available, state.balanced) == (20, 0, True)


def test_four_tickets_left_one_in_each_of_four_shards_sell_to_one_booking_of_four(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=4, inventory_shards=4)
    result = book(new_account(), event_id, 4)
    assert result.status == 201, result.body
    state = stock_now(db, event_id)
    assert (state.sold, state.available, state.balanced) == (4, 0, True)
    assert book(new_account(), event_id, 1).body["code"] == "SOLD_OUT"


def test_a_booking_whose_last_tickets_lie_in_more_shards_than_one_transaction_takes_gathers_them_first(
    db: EmbeddedDynamoDB,
) -> None:
    types = [{"name": "Floor", "price": "10.00", "total_tickets": 40}]
    event_id = new_event(total=40, inventory_shards=40, per_booking=40, types=types)  # one ticket a shard
    who = new_account()
    with count_calls() as calls:
        result = book(who, event_id, 40)  # 40 shards' quota and counter and 40 tickets: 124 items in one
    assert result.status == 201, result.body
    # A guess at one shard (short), the stock moved into one shard (80 items), the take from it.
    assert calls.operations["TransactWriteItems"] == 3, calls.describe()
    assert sum(shard_items(db, event_id).values()) == 0
    state = stock_now(db, event_id)
    assert (state.sold, state.available, state.valid_tickets, state.balanced) == (40, 0, 40, True)


def test_big_bookings_gathering_their_tickets_while_others_book_sell_exactly_every_ticket(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=40, inventory_shards=40, per_booking=40)  # one ticket a shard
    wanted = [34, 1, 1, 34, 1, 1, 1, 1]  # 34 from 34 shards: more than one transaction takes, so gathered first
    results = race([lambda q=q: book(new_account(), event_id, q) for q in wanted], workers=8)
    assert set(codes(results)) <= ALLOWED, codes(results)
    left = 40 - sold(results)
    assert [book(new_account(), event_id, 1).status for _ in range(left)] == [201] * left
    assert book(new_account(), event_id, 1).body["code"] == "SOLD_OUT"
    state = stock_now(db, event_id)
    assert (state.sold, state.available, state.valid_tickets, state.balanced) == (40, 0, 40, True)


def test_a_booking_whose_shard_is_short_takes_from_others_read_without_any_transactional_read(
    db: EmbeddedDynamoDB,
) -> None:
    event_id = new_event(total=8, inventory_shards=4)  # 2 in each: every shard is short of 3
    with count_calls() as calls:
        result = book(new_account(), event_id, 3)
    assert result.status == 201, result.body
    # The shards are read plainly (never cancelled by writers in flight); the take's conditions decide.
    assert calls.operations["TransactGetItems"] == 0, calls.describe()
    assert sorted(shard_items(db, event_id).values()) == [0, 1, 2, 2]  # the fullest first, in one transaction
    assert stock_now(db, event_id).balanced


def test_a_refusal_on_a_sharded_event_rests_on_one_atomic_snapshot_of_every_shard(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=4, inventory_shards=4)
    assert book(new_account(), event_id, 3).status == 201
    with count_calls() as calls:
        refused = book(new_account(), event_id, 2)
    assert (refused.status, refused.body["code"], refused.body["available"]) == (409, "NOT_ENOUGH_TICKETS", 1)
    assert calls.operations["TransactGetItems"] == 1, calls.describe()
    assert stock_now(db, event_id).available == 1


def test_a_booking_whose_take_loses_a_transaction_conflict_goes_round_on_another_shard(
    db: EmbeddedDynamoDB,
) -> None:
    event_id, buyer = new_event(total=20, inventory_shards=2), new_account()
    taken_from: list[int] = []

    def conflict_first(params: dict[str, Any], model: Any, **_: Any) -> Any:
        if model.name != "TransactWriteItems":
            return None
        actions = json.loads(params["body"])["TransactItems"]
        keys = [a["Update"]["Key"] for a in actions if "Update" in a]
        taken_from.extend(int(k["pk"]["S"].partition("#S")[2] or 0) for k in keys if k["sk"]["S"] == "QUOTA")
        if len(taken_from) > 1:
            return None
        # What DynamoDB answers while another transaction holds the shard's items.
        reasons = [{"Code": "TransactionConflict"} for _ in actions]
        error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
        parsed = {"Error": error, "CancellationReasons": reasons, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("http://conflicted", 400, HTTPHeaders(), None), parsed

    events_hook = dynamo.client().meta.events
    events_hook.register("before-call.dynamodb", conflict_first, unique_id="conflict-first")
    try:
        result = book(buyer, event_id, 1)
    finally:
        events_hook.unregister("before-call.dynamodb", unique_id="conflict-first")
    assert result.status == 201, result.body
    assert len(taken_from) == 2, taken_from
    assert taken_from[0] != taken_from[1], taken_from


def test_bookings_by_processes_that_read_the_event_afresh_spread_over_its_shards_too(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=40, inventory_shards=4)  # 10 in each
    for _ in range(8):
        event_items.forget(event_id)  # as a new Lambda instance: reads the event's item (and shard 0's quota)
        assert book(new_account(), event_id, 1).status == 201
    stock = shard_items(db, event_id)
    assert sum(stock.values()) == 32
    assert stock[0] > 2, stock  # not all 8 from shard 0 (by chance: 1 in 4**8)


def test_cancels_give_tickets_back_to_the_shards_they_came_from(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=4, inventory_shards=4)
    who = new_account()
    booking = book(who, event_id, 4).body
    first = booking["tickets"][0]["ticket_number"]
    one = Api().call("cancel_ticket", token=who.token, path={"booking_id": booking["id"], "ticket_number": first})
    assert one.status == 200, one.body
    assert sorted(shard_items(db, event_id).values()) == [0, 0, 0, 1]
    rest = Api().call("cancel_booking", token=who.token, path={"booking_id": booking["id"]})
    assert rest.status == 200, rest.body
    assert shard_items(db, event_id) == {0: 1, 1: 1, 2: 1, 3: 1}
    assert stock_now(db, event_id).balanced


def test_the_event_shows_its_shards_and_the_sum_of_their_stock_and_stats_sum_them(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=50, inventory_shards=5, price="10.00")
    buyers = [new_account() for _ in range(3)]
    for who in buyers:
        assert book(who, event_id, 3).status == 201
    shown = Api().call("get_event", path={"event_id": event_id}).body
    assert (shown["inventory_shards"], shown["available_tickets"], shown["total_tickets"]) == (5, 41, 50)
    admin = new_account("admin")
    stats = Api().call("event_stats", token=admin.token, path={"event_id": event_id}).body
    assert (stats["sold"], stats["available"], stats["revenue"]) == (9, 41, {"EUR": "90.00"})


def test_a_big_event_gets_up_to_ninety_shards_by_default_and_an_admin_may_choose_one_to_sixty_four(
    db: EmbeddedDynamoDB,
) -> None:
    assert Api().call("get_event", path={"event_id": new_event(total=20_000)}).body["inventory_shards"] == 90
    assert Api().call("get_event", path={"event_id": new_event(total=100)}).body["inventory_shards"] == 1
    admin = new_account("admin")
    body = {"name": "Rush", "venue": "Arena", "starts_at": "2031-01-01T20:00:00Z", "total_tickets": 100}
    made = Api().call("create_event", token=admin.token, body={**body, "ticket_price": "5.00", "inventory_shards": 64})
    assert made.status == 201, made.body
    assert made.body["inventory_shards"] == 64
    for beyond in (65, 90):  # the contract's range: only a big event's default goes past it
        refused = Api().call(
            "create_event", token=admin.token, body={**body, "ticket_price": "5.00", "inventory_shards": beyond}
        )
        assert (refused.status, refused.body["code"]) == (422, "VALIDATION_FAILED"), refused.body
        path = {"event_id": made.body["id"]}
        patched = Api().call("update_event", token=admin.token, path=path, body={"inventory_shards": beyond})
        assert patched.status == 422, patched.body


def test_an_event_of_more_than_sixty_four_shards_sells_exactly_every_ticket_joining_fragments(
    db: EmbeddedDynamoDB,
) -> None:
    event_id = new_event(total=72, inventory_shards=70)  # 2 in shards 0 and 1, 1 in each of the others
    admin = new_account("admin")
    cut = Api().call("update_event", token=admin.token, path={"event_id": event_id}, body={"total_tickets": 8})
    assert cut.status == 200, cut.body  # from the fullest shards first: one ticket left in each of 62-69
    assert {k for k, left in shard_items(db, event_id).items() if left} == set(range(62, 70))
    results = race([lambda who=who: book(who, event_id, 4) for who in [new_account() for _ in range(4)]])
    assert set(codes(results)) <= ALLOWED, codes(results)
    left = 8 - sold(results)  # two bookings of 4, each joined from four shards, unless one lost every round
    assert [book(new_account(), event_id, 1).status for _ in range(left)] == [201] * left
    assert book(new_account(), event_id, 1).body["code"] == "SOLD_OUT"
    stock = shard_items(db, event_id)
    assert (sorted(stock), sum(stock.values())) == (list(range(70)), 0)
    state = stock_now(db, event_id)
    assert (state.sold, state.available, state.valid_tickets, state.balanced) == (8, 0, 8, True)


def event_items_of(event_id: str) -> list[dict[str, Any]]:
    """Every item of the event in the events table (its own partition and its shards'), as stored."""
    own = f"EVENT#{event_id}"
    found = [i for i in _scan(settings().events_table) if i["pk"] == own or i["pk"].startswith(f"{own}#")]
    return sorted(found, key=lambda i: (i["pk"], i["sk"]))


def test_an_edit_of_a_ninety_shard_event_too_big_for_one_transaction_is_refused_and_changes_nothing(
    db: EmbeddedDynamoDB,
) -> None:
    event_id = new_event(total=900, inventory_shards=90)
    admin = new_account("admin")
    before = event_items_of(event_id)
    # A new price for its one type and a new limit: every shard's quota and type counter, 181 writes.
    body = {"ticket_price": "30.00", "max_tickets_per_booking": 4}
    refused = Api().call("update_event", token=admin.token, path={"event_id": event_id}, body=body)
    assert (refused.status, refused.body["code"]) == (409, "EDIT_TOO_LARGE"), refused.body
    assert "one at a time" in refused.body["detail"]
    assert event_items_of(event_id) == before
    for one in ({"ticket_price": "30.00"}, {"max_tickets_per_booking": 4}):  # each on its own fits
        result = Api().call("update_event", token=admin.token, path={"event_id": event_id}, body=one)
        assert result.status == 200, result.body
    booked = book(new_account(), event_id, 4).body
    assert (booked["unit_price"], booked["quantity"]) == ("30.00", 4)


def test_the_largest_edits_of_a_ninety_shard_event_fit_in_one_transaction(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=900, inventory_shards=90)
    admin = new_account("admin")
    assert book(new_account(), event_id, 2).status == 201
    path = {"event_id": event_id}
    later = Api().call("update_event", token=admin.token, path=path, body={"starts_at": "2031-06-01T20:00:00Z"})
    assert later.status == 200, later.body  # the event, its 90 quotas and its 8 check-in shards: 99 actions
    added = type_call(admin, "create_ticket_type", event_id, name="Balcony", price="30.00", total_tickets=180)
    assert added.status == 201, added.body
    cut = type_call(admin, "update_ticket_type", event_id, added.body["id"], total_tickets=90, name="Gallery")
    assert cut.status == 200, cut.body
    assert type_call(admin, "delete_ticket_type", event_id, added.body["id"]).status == 204
    assert reshard(admin, event_id, 60)["available_tickets"] == 898  # down across 64
    assert reshard(admin, event_id, 64)["available_tickets"] == 898  # and up again, as far as an admin may
    assert stock_now(db, event_id).balanced
    assert Api().call("delete_event", token=admin.token, path=path).status == 204  # 99 actions too
    sweep()  # which reads the deleted event's every shard to close its line


def test_holds_expiries_cancels_and_bookings_racing_on_a_sharded_event_keep_every_ticket_in_one_place(
    db: EmbeddedDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    moment = Clock(monkeypatch)
    event_id = new_event(total=40, inventory_shards=8)
    holders = [new_account() for _ in range(6)]
    for who in holders:
        assert place(Api(), who, event_id, 2).status == 201
    moment.advance(settings().hold_seconds)  # 12 held, every hold expired, none swept yet
    buyers = [new_account() for _ in range(8)]
    early = [book(who, event_id, 2).body for who in buyers[:4]]

    def cancel(who: Account, booking: dict[str, Any]) -> Result:
        return Api().call("cancel_booking", token=who.token, path={"booking_id": booking["id"]})

    rng = random.Random(8)
    calls: list[Callable[[], Any]] = [lambda who=rng.choice(buyers): book(who, event_id, 1) for _ in range(12)]
    calls += [lambda who=who, b=b: cancel(who, b) for who, b in zip(buyers, early, strict=False)]
    calls += [lambda who=rng.choice(buyers): place(Api(), who, event_id, 1) for _ in range(8)]
    calls += [sweep] * 2
    rng.shuffle(calls)
    with Sampler(db, event_id) as sampler:
        race(calls)
    assert len(sampler.samples) > 5
    assert all(s.balanced for s in sampler.samples), next(s for s in sampler.samples if not s.balanced)
    final = stock_now(db, event_id)
    assert final.balanced
    assert final.total == 40


def test_changing_the_shard_count_while_bookings_race_loses_and_invents_no_ticket(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=40, inventory_shards=2)
    admin = auth.read_token(f"Bearer {new_account('admin').token}")
    buyers = [new_account() for _ in range(10)]
    changed: list[int] = []

    def reshard(count: int) -> None:
        for _ in range(10):  # lost every round to the bookings: a 409 BUSY the admin retries
            try:
                events.update_event(admin, event_id, UpdateEvent(inventory_shards=count))
            except Busy:
                continue
            changed.append(count)
            return

    calls: list[Callable[[], Any]] = [lambda who=who: book(who, event_id, 1) for who in buyers * 2]
    calls[3:3] = [lambda: reshard(8)]
    calls[12:12] = [lambda: reshard(3)]
    with Sampler(db, event_id) as sampler:
        results = race(calls)
    assert changed, "no change of the shard count committed"
    assert all(s.balanced for s in sampler.samples), next(s for s in sampler.samples if not s.balanced)
    final = stock_now(db, event_id)
    assert final.balanced
    assert final.sold == sold([r for r in results if isinstance(r, Result)])
    assert final.sold + final.available == 40
    rest = Api().call("get_event", path={"event_id": event_id}).body
    assert rest["available_tickets"] == 40 - final.sold


def reshard(admin: Account, event_id: str, count: int) -> dict[str, Any]:
    body = {"inventory_shards": count}
    result = Api().call("update_event", token=admin.token, path={"event_id": event_id}, body=body)
    assert result.status == 200, result.body
    shown: dict[str, Any] = result.body
    return shown


def test_a_lower_shard_count_drains_the_shards_beyond_it_and_they_still_count(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=30, inventory_shards=6)
    who = new_account()
    assert book(who, event_id, 3).status == 201
    admin = new_account("admin")
    shown = reshard(admin, event_id, 2)
    assert (shown["inventory_shards"], shown["available_tickets"]) == (2, 27)
    stock = shard_items(db, event_id)
    assert sorted(stock) == [0, 1, 2, 3, 4, 5]
    assert sum(stock.values()) == 27
    assert all(stock[k] == 0 for k in range(2, 6))
    assert stock_now(db, event_id).balanced
    grown = reshard(admin, event_id, 8)
    assert (grown["inventory_shards"], grown["available_tickets"]) == (8, 27)
    assert sorted(shard_items(db, event_id).values()) == [3, 3, 3, 3, 3, 4, 4, 4]


def test_an_event_stored_in_one_shard_moves_to_several_and_its_earlier_bookings_still_cancel(
    db: EmbeddedDynamoDB,
) -> None:
    event_id = new_event(total=100)  # one shard, as every event stored before shards
    who = new_account()
    before = book(who, event_id, 3).body
    assert reshard(new_account("admin"), event_id, 4)["available_tickets"] == 97
    assert shard_items(db, event_id) == {0: 25, 1: 24, 2: 24, 3: 24}
    assert book(new_account(), event_id, 2).status == 201
    cancelled = Api().call("cancel_booking", token=who.token, path={"booking_id": before["id"]})
    assert cancelled.status == 200, cancelled.body
    state = stock_now(db, event_id)
    assert (state.sold, state.available, state.balanced) == (2, 98, True)


def test_a_capacity_cut_racing_bookings_on_a_sharded_event_never_goes_below_sold(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=60, inventory_shards=6)
    admin = auth.read_token(f"Bearer {new_account('admin').token}")
    buyers = [new_account() for _ in range(10)]
    outcomes: Counter[str] = Counter()

    def cut(total: int) -> None:
        for _ in range(10):  # BUSY: lost every round to the bookings; the admin retries
            try:
                events.update_event(admin, event_id, UpdateEvent(total_tickets=total))
            except Busy:
                continue
            except CapacityBelowSold as refused:
                outcomes[refused.code] += 1
            else:
                outcomes["cut"] += 1
            return

    calls: list[Callable[[], Any]] = [lambda who=who: book(who, event_id, 2) for who in (buyers * 2)[:15]]
    calls[2:2] = [lambda t=t: cut(t) for t in (50, 44, 38)]
    with Sampler(db, event_id) as sampler:
        race(calls)
    assert outcomes["cut"] > 0, outcomes
    assert all(s.balanced and s.available >= 0 for s in sampler.samples)
    final = stock_now(db, event_id)
    assert final.balanced
    assert final.total >= final.sold


def test_a_shard_count_changed_with_the_capacity_at_once_is_refused(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=10, inventory_shards=2)
    admin = new_account("admin")
    result = Api().call(
        "update_event",
        token=admin.token,
        path={"event_id": event_id},
        body={"inventory_shards": 4, "total_tickets": 12},
    )
    assert result.status == 422
    assert result.body["errors"][0]["field"] == "inventory_shards"


def one_in_each(event_id: str, make: Callable[[Account], Result]) -> list[tuple[Account, dict[str, Any]]]:
    """One ticket taken by each of four accounts from an event of four tickets in four shards: one per shard."""
    made = []
    for _ in range(4):
        who = new_account()
        result = make(who)
        assert result.status == 201, result.body
        made.append((who, result.body))
    return made


def test_released_and_cancelled_tickets_go_back_to_open_sale_in_their_own_shards(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=4, inventory_shards=4)
    holds = one_in_each(event_id, lambda who: place(Api(), who, event_id, 1))
    assert shard_items(db, event_id) == {0: 0, 1: 0, 2: 0, 3: 0}
    for who, hold in holds:
        released = Api().call("release_hold", token=who.token, path={"hold_id": hold["id"]})
        assert released.status == 200, released.body
    assert shard_items(db, event_id) == {0: 1, 1: 1, 2: 1, 3: 1}
    bookings = one_in_each(event_id, lambda who: book(who, event_id, 1))
    for who, booking in bookings:
        cancelled = Api().call("cancel_booking", token=who.token, path={"booking_id": booking["id"]})
        assert cancelled.status == 200, cancelled.body
    assert shard_items(db, event_id) == {0: 1, 1: 1, 2: 1, 3: 1}
    assert stock_now(db, event_id).balanced


@pytest.mark.parametrize("route", ["create_booking", "create_hold", "sweep"])
def test_expired_holds_in_every_shard_go_back_to_their_shards_by_the_sweeper_or_a_request_they_block(
    db: EmbeddedDynamoDB, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    moment = Clock(monkeypatch)
    event_id = new_event(total=4, inventory_shards=4)
    one_in_each(event_id, lambda who: place(Api(), who, event_id, 1))
    moment.advance(settings().hold_seconds)  # all four expired, none swept
    if route == "sweep":
        sweep()
        assert shard_items(db, event_id) == {0: 1, 1: 1, 2: 1, 3: 1}
        return
    result = Api().call(route, token=new_account().token, path={"event_id": event_id}, body={"quantity": 4})
    assert result.status == 201, result.body
    state = stock_now(db, event_id)
    assert (state.available, state.held + state.sold, state.balanced) == (0, 4, True)


def join(who: Account, event_id: str, quantity: int, **body: Any) -> Result:
    return Api().call(
        "join_waiting_list", token=who.token, path={"event_id": event_id}, body={"quantity": quantity, **body}
    )


def test_a_join_waits_only_while_all_the_shards_together_have_fewer_than_it_wants(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=8, inventory_shards=4)  # 2 in each shard: more than shard 0 alone
    assert join(new_account(), event_id, 3).body["code"] == "TICKETS_AVAILABLE"
    assert book(new_account(), event_id, 7).status == 201
    waiting = join(new_account(), event_id, 2)
    assert waiting.status == 201, waiting.body
    assert waiting.body["status"] == "WAITING"


def test_a_join_that_stays_reads_the_shards_plainly_before_and_after_its_commit(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=8, inventory_shards=4)
    assert book(new_account(), event_id, 7).status == 201  # from several shards in one take: nothing moved
    who = new_account()
    with count_calls() as calls:
        waiting = join(who, event_id, 2)
    assert (waiting.status, waiting.body["status"]) == (201, "WAITING"), waiting.body
    # Plain BatchGetItems of the shards: a snapshot only to take a join back or after a move between shards.
    assert calls.operations["TransactGetItems"] == 0, calls.describe()


def test_a_join_refused_as_tickets_available_rests_on_one_atomic_snapshot(db: EmbeddedDynamoDB) -> None:
    event_id, who = new_event(total=8, inventory_shards=4), new_account()
    with count_calls() as calls:
        refused = join(who, event_id, 3)
    assert (refused.status, refused.body["code"]) == (409, "TICKETS_AVAILABLE")
    assert (calls.operations["TransactGetItems"], calls.operations["TransactWriteItems"]) == (1, 0)


def test_joins_racing_shard_count_changes_are_never_told_tickets_are_available_when_too_few_are(
    db: EmbeddedDynamoDB,
) -> None:
    event_id = new_event(total=12, inventory_shards=4)
    assert book(new_account(), event_id, 10).status == 201  # 2 left, spread as the shards had them
    admin = auth.read_token(f"Bearer {new_account('admin').token}")

    def reshard(count: int) -> str:
        for _ in range(10):  # lost every round to the joins' reads: a 409 BUSY the admin retries
            try:
                events.update_event(admin, event_id, UpdateEvent(inventory_shards=count))
            except Busy:
                continue
            return "moved"
        return "busy"

    calls: list[Callable[[], Any]] = [
        lambda who=who: join(who, event_id, 3) for who in (new_account() for _ in range(6))
    ]
    calls[1:1] = [lambda n=n: reshard(n) for n in (6, 3, 8)]
    results = race(calls, workers=9)
    joined = [r for r in results if isinstance(r, Result)]
    assert set(codes(joined)) <= {(201, ""), (409, "BUSY")}, codes(joined)
    assert [r for r in results if isinstance(r, str)].count("moved") > 0
    state = stock_now(db, event_id)
    assert (state.available, state.sold, state.balanced) == (2, 10, True)


def test_a_join_for_a_sub_quota_spread_over_shards_counts_every_shard(db: EmbeddedDynamoDB) -> None:
    types = [{"name": "Floor", "price": "10.00", "total_tickets": 8}, {"name": "Seats", "price": "5.00"}]
    event_id = new_event(total=40, inventory_shards=4, types=types)
    floor = next(
        t["id"]
        for t in Api().call("get_event", path={"event_id": event_id}).body["ticket_types"]
        if t["name"] == "Floor"
    )
    assert join(new_account(), event_id, 3, ticket_type_id=floor).body["code"] == "TICKETS_AVAILABLE"
    assert book_type(new_account(), event_id, 7, floor).status == 201
    waiting = join(new_account(), event_id, 2, ticket_type_id=floor)
    assert waiting.status == 201, waiting.body


def book_type(who: Account, event_id: str, quantity: int, type_id: str) -> Result:
    body = {"quantity": quantity, "ticket_type_id": type_id}
    return Api().call("create_booking", token=who.token, path={"event_id": event_id}, body=body)


def type_call(admin: Account, route: str, event_id: str, type_id: str | None = None, **body: Any) -> Result:
    path = {"event_id": event_id, **({"ticket_type_id": type_id} if type_id else {})}
    return Api().call(route, token=admin.token, path=path, body=body or None)


def test_ticket_types_are_added_resized_repriced_and_deleted_in_every_shard(db: EmbeddedDynamoDB) -> None:
    event_id = new_event(total=40, inventory_shards=4)
    admin = new_account("admin")
    added = type_call(admin, "create_ticket_type", event_id, name="Balcony", price="30.00", total_tickets=8)
    assert added.status == 201, added.body
    balcony = added.body["id"]
    assert book_type(new_account(), event_id, 6, balcony).status == 201  # from two shards or more
    cut = type_call(admin, "update_ticket_type", event_id, balcony, total_tickets=7)
    assert (cut.status, cut.body["available_tickets"]) == (200, 1), cut.body
    below = type_call(admin, "update_ticket_type", event_id, balcony, total_tickets=5)
    assert (below.status, below.body["code"]) == (409, "CAPACITY_BELOW_SOLD")
    repriced = type_call(admin, "update_ticket_type", event_id, balcony, price="35.00", total_tickets=None)
    assert (repriced.status, repriced.body["available_tickets"]) == (200, None), repriced.body
    booked = book_type(new_account(), event_id, 4, balcony).body
    assert booked["unit_price"] == "35.00"
    capped = type_call(admin, "update_ticket_type", event_id, balcony, total_tickets=12)
    assert (capped.status, capped.body["available_tickets"]) == (200, 2), capped.body
    spare = type_call(admin, "create_ticket_type", event_id, name="Spare", price="1.00").body["id"]
    assert type_call(admin, "delete_ticket_type", event_id, spare).status == 204
    assert type_call(admin, "delete_ticket_type", event_id, balcony).body["code"] == "TICKET_TYPE_HAS_SALES"
    assert stock_now(db, event_id).balanced


def test_a_returned_sub_quota_ticket_is_offered_from_the_shard_that_has_its_share(db: EmbeddedDynamoDB) -> None:
    types = [{"name": "Floor", "price": "10.00", "total_tickets": 4}, {"name": "Seats", "price": "5.00"}]
    event_id = new_event(total=8, inventory_shards=4, types=types)  # one Floor ticket in each shard
    shown = Api().call("get_event", path={"event_id": event_id}).body
    floor = next(t["id"] for t in shown["ticket_types"] if t["name"] == "Floor")
    buyer, waiter = new_account(), new_account()
    booking = book_type(buyer, event_id, 4, floor).body
    assert join(waiter, event_id, 1, ticket_type_id=floor).status == 201
    ticket = {"booking_id": booking["id"], "ticket_number": booking["tickets"][0]["ticket_number"]}
    assert Api().call("cancel_ticket", token=buyer.token, path=ticket).status == 200
    [entry] = Api().call("list_waiting_list", token=waiter.token).body["items"]
    assert entry["status"] == "OFFERED", entry
    confirmed = Api().call("confirm_hold", token=waiter.token, path={"hold_id": entry["hold_id"]})
    assert confirmed.status == 201, confirmed.body
    state = stock_now(db, event_id)
    assert (state.sold, state.reserved, state.balanced) == (4, 0, True)
