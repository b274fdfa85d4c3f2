"""Orders of several ticket types (issue 22): what they cost, and the race at the issue's size.

1. Round trips and write units of a 3-line booking with a promo code (target: 1 read + 1 transaction, as a
   booking of one type) and of a single-ticket cancel of it, through the real handlers; units by DynamoDB's
   rules on the items as stored (scripts/bench/writes.py).
2. 500 two-line orders (2 adults + 1 child) racing on 16 threads for types whose sub-quotas (200 adults,
   100 children) run out together: exactly 100 orders are booked, each with both lines, and the counters
   balance. The suite runs 60 (tests/integration/test_order_lines.py).
3. 50 bookings racing on a code of 10 uses: exactly 10 discounted, 40 answered 409 PROMO_CODE_USED_UP, the
   code's uses 10. The suite runs it through the handlers (tests/integration/test_promo_bookings.py).
Both races run through the handlers and over HTTP against the same local runtime.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests

from scripts.bench.common import count_calls, local_stack, new_caller, sent_transactions, table
from scripts.bench.writes import _bill, _summary

ORDERS, THREADS = 500, 16
CODE_BOOKINGS, CODE_USES = 50, 10
TYPES = [
    {"name": "Adult", "price": "30.00", "total_tickets": 200},
    {"name": "Child", "price": "15.00", "total_tickets": 100},
    {"name": "Senior", "price": "20.00"},
]


def _event(total: int, shards: int | None = None) -> tuple[str, dict[str, str]]:
    from boxoffice import clock
    from boxoffice.logic import events
    from boxoffice.models.events import CreateEvent

    starts = (clock.now().replace(microsecond=0) + timedelta(days=30)).isoformat()
    request = CreateEvent.model_validate(
        {
            "name": "Bench orders",
            "venue": "Hall",
            "starts_at": starts,
            "total_tickets": total,
            "ticket_types": TYPES,
            **({"inventory_shards": shards} if shards else {}),
        }
    )
    event = events.add_event(request)
    return event.id, {t.name: t.id for t in event.ticket_types}


def _costs(api: Any, label: str, shards: int | None) -> tuple[list[list[str]], str]:
    """The rows of a 3-line booking with a code and of a single-ticket cancel of it, on an event of 300
    tickets in `shards` stock shards (None: its default, two), and the booking's bill."""
    from boxoffice.logic import promocodes
    from boxoffice.models.promocodes import CreatePromoCode

    event_id, types = _event(300, shards)
    promocodes.add_promo_code(event_id, CreatePromoCode(code="EARLY10", percent=10))
    buyer = new_caller()
    path = {"event_id": event_id}
    warm = {"items": [{"ticket_type_id": types["Adult"], "quantity": 1}]}
    assert api.call("create_booking", token=buyer.token, path=path, body=warm).status == 201  # the event is known
    lines = [{"ticket_type_id": types[name], "quantity": n} for name, n in (("Adult", 2), ("Child", 1), ("Senior", 1))]
    rows = []
    with count_calls() as calls, sent_transactions() as sent:
        made = api.call("create_booking", token=buyer.token, path=path, body={"items": lines, "promo_code": "EARLY10"})
    assert made.status == 201, made.body
    bill, _, units = _bill(sent)
    rows.append([f"3-line booking with a code, {label}", calls.describe(), str(len(sent)), str(units)])
    number = made.body["tickets"][-1]["ticket_number"]
    with count_calls() as calls, sent_transactions() as sent:
        one = api.call(
            "cancel_ticket", token=buyer.token, path={"booking_id": made.body["id"], "ticket_number": number}
        )
    assert one.status == 200, one.body
    _, _, units = _bill(sent)
    rows.append([f"single-ticket cancel of it, {label}", calls.describe(), str(len(sent)), str(units)])
    return rows, table(["action", "item", "bytes", "write units"], _summary(bill))


def _cost_tables(api: Any) -> str:
    rows, detail = _costs(api, "1 shard", 1)
    rows += _costs(api, "4 shards", 4)[0]
    heads = ["request", "DynamoDB calls (target: 1 read + 1 transaction)", "actions", "write units"]
    return "\n".join(
        [
            "Orders: round trips and write units",
            table(heads, rows),
            "The 3-line booking's transaction (1 shard), action by action",
            detail,
        ]
    )


Book = Callable[[str, str, dict[str, Any]], tuple[int, dict[str, Any]]]  # (token, event id, body) -> answer


def _admin_token() -> str:
    from boxoffice import auth
    from boxoffice.vocabulary import Role

    return auth.issue_token(new_caller().user_id, Role.ADMIN, 0)[0]


def _fire(
    book: Book, event_id: str, body: dict[str, Any], buyers: int
) -> tuple[list[tuple[int, dict[str, Any]]], Counter[str], float]:
    """`buyers` new accounts each booking `body` at once on THREADS threads: the answers, tallied by status and
    code, and the seconds it took."""
    callers = [new_caller() for _ in range(buyers)]
    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda who: book(who.token, event_id, body), callers))
    seconds = time.perf_counter() - started
    return results, Counter(f"{status} {answer.get('code', '')}".strip() for status, answer in results), seconds


def _race(api: Any, book: Book, through: str) -> list[str]:
    event_id, types = _event(1000)
    body = {
        "items": [{"ticket_type_id": types["Adult"], "quantity": 2}, {"ticket_type_id": types["Child"], "quantity": 1}]
    }
    results, answers, seconds = _fire(book, event_id, body, ORDERS)
    booked = [answer for status, answer in results if status == 201]
    whole = all(
        [(x["ticket_type"]["name"], x["quantity"]) for x in b["lines"]] == [("Adult", 2), ("Child", 1)] for b in booked
    )
    stats = api.call("event_stats", token=_admin_token(), path={"event_id": event_id}).body
    by_name = {t["name"]: t for t in stats["ticket_types"]}
    sold = (by_name["Adult"]["sold"], by_name["Child"]["sold"])
    # available + sold == total on the event and on each sub-quota, and as many tickets as the orders hold
    balanced = stats["available"] + stats["sold"] == stats["total_tickets"] and stats["sold"] == 3 * len(booked)
    balanced = balanced and all(
        t["available"] + t["sold"] == total for t, total in ((by_name["Adult"], 200), (by_name["Child"], 100))
    )
    ok = len(booked) == 100 and whole and balanced and sold == (200, 100)
    return [
        f"{ORDERS} orders (2 adults + 1 child)",
        through,
        ", ".join(f"{k} {n}" for k, n in sorted(answers.items())),
        f"adults {sold[0]}/200, children {sold[1]}/100, both lines: {'yes' if whole else 'NO'}",
        "yes" if balanced else "NO",
        f"{ORDERS / seconds:.0f}",
        "ok" if ok else "FAILED",
    ]


def _code_race(api: Any, book: Book, through: str) -> list[str]:
    event_id, types = _event(1000)
    admin = _admin_token()
    made = api.call(
        "create_promo_code",
        token=admin,
        path={"event_id": event_id},
        body={"code": "RACE10", "percent": 20, "max_uses": CODE_USES},
    )
    assert made.status == 201, made.body
    body = {"quantity": 1, "ticket_type_id": types["Adult"], "promo_code": "race10"}
    results, answers, seconds = _fire(book, event_id, body, CODE_BOOKINGS)
    discounted = [a for status, a in results if status == 201 and a["total_price"] == "24.00"]
    listed = api.call("list_promo_codes", token=admin, path={"event_id": event_id}).body["items"]
    uses = listed[0]["uses"]
    ok = answers == Counter({"201": CODE_USES, "409 PROMO_CODE_USED_UP": CODE_BOOKINGS - CODE_USES})
    ok = ok and len(discounted) == CODE_USES and uses == CODE_USES
    return [
        f"{CODE_BOOKINGS} bookings on a code of {CODE_USES} uses",
        through,
        ", ".join(f"{k} {n}" for k, n in sorted(answers.items())),
        f"discounted {len(discounted)}, code uses {uses}",
        "yes" if ok else "NO",
        f"{CODE_BOOKINGS / seconds:.0f}",
        "ok" if ok else "FAILED",
    ]


def _races(api: Any, url: str) -> str:
    def through_handlers(token: str, event_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        result = api.call("create_booking", token=token, path={"event_id": event_id}, body=body)
        return result.status, result.body

    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=THREADS))

    def over_http(token: str, event_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        answer = session.post(
            f"{url}/events/{event_id}/bookings", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return answer.status_code, answer.json()

    rows = [
        race(api, book, through)
        for race in (_race, _code_race)
        for book, through in ((through_handlers, "handlers"), (over_http, "HTTP"))
    ]
    heads = ["race", "through", "answers", "sold", "balanced", "requests/s", "result"]
    report = "Orders and a code racing, through the handlers and over HTTP\n" + table(heads, rows)
    assert all(row[-1] == "ok" for row in rows), report  # a broken promise fails the bench, not just a row
    return report


def run() -> str:
    from devserver.invoke import Api

    with local_stack() as runtime:
        api = Api()
        return "\n\n".join([_cost_tables(api), _races(api, runtime.url)])
