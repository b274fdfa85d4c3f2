"""End-to-end smoke test against any base URL: the local runtime, `sam local`, or a deployed stage.

    python3 scripts/smoke.py https://abc123.execute-api.eu-west-1.amazonaws.com
    make smoke BASE_URL=http://127.0.0.1:8000 ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=...
    make smoke BASE_URL=http://127.0.0.1:3000 ADMIN_PASSWORD=... SMOKE_TIMEOUT=60   # sam local, emulated

It registers a throwaway user, logs in, has the admin create an event, finds it by search, books
(twice with one Idempotency-Key: one booking), reads the history, cancels, checks that the tickets
came back, holds tickets, confirms the hold into one booking and cancels that; then at the door: the
admin creates an event with two ticket types, the user books the VIP one, the admin (who may do what
door staff do) checks that ticket in by its code, once, and the stats count it under VIP; then the admin
makes a family event with a promo code for children (what it needs, so it runs against any stage), the
user books two adult and two child tickets in one order with the code and cancels one child ticket alone;
and it deletes the events. The admin login comes from ADMIN_EMAIL / ADMIN_PASSWORD. Only the standard
library, so it runs wherever Python 3.11+ does. It never prints a password or a token.
Exit status 0 when every step passed, 1 at the first failed step.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

# A deployed search index (a GSI) is eventually consistent: give a new event this long to show up.
INDEX_WAIT_SECONDS = 15.0


class SmokeFailure(Exception):
    """A step's answer was not what the contract says."""


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: Any  # parsed JSON, or the text when it is not JSON


class Client:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {"accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["content-type"] = "application/json"
        if token:
            sent["authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _reply(response.status, response.headers.get("content-type", ""), response.read())
        except urllib.error.HTTPError as error:
            return _reply(error.code, error.headers.get("content-type", ""), error.read())


def _reply(status: int, content_type: str, raw: bytes) -> Reply:
    text = raw.decode(errors="replace")
    try:
        body: Any = json.loads(text) if text else None
    except json.JSONDecodeError:
        body = text
    return Reply(status, content_type, body)


def expect(reply: Reply, status: int | tuple[int, ...], what: str) -> Any:
    wanted = (status,) if isinstance(status, int) else status
    if reply.status not in wanted:
        detail = json.dumps(reply.body)[:300] if reply.body is not None else "(empty)"
        raise SmokeFailure(f"{what}: expected {' or '.join(map(str, wanted))}, got {reply.status}: {detail}")
    return reply.body


def ensure(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def eventually(probe: Callable[[], bool], what: str, wait: float = INDEX_WAIT_SECONDS) -> None:
    deadline = time.monotonic() + wait
    delay = 0.2
    while not probe():
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{what}: not seen within {wait:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def login(api: Client, email: str, password: str, what: str) -> str:
    body = expect(api.request("POST", "/auth/login", body={"email": email, "password": password}), 200, what)
    ensure(body.get("token_type") == "Bearer" and bool(body.get("access_token")), f"{what}: no bearer token")
    token: str = body["access_token"]
    return token


class Flow:
    """The steps in order; each one reads what the earlier ones left in `self`."""

    def __init__(self, api: Client, admin_email: str, admin_password: str) -> None:
        self.api = api
        self.admin_email = admin_email
        self.admin_password = admin_password
        self.tag = secrets.token_hex(4)
        self.email = f"smoke-{self.tag}@example.com"
        self.password = secrets.token_urlsafe(16)
        self.idempotency_key = f"smoke-{self.tag}"
        self.user_token = self.admin_token = self.event_id = self.booking_id = self.hold_id = ""
        self.door_event_id = self.vip_id = ""
        self.vip_ticket: dict[str, Any] = {}
        self.family_event_id = self.order_id = self.child_ticket = ""
        self.family_types: dict[str, str] = {}
        self.code = f"SMOKE-{self.tag.upper()}"

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("docs and OpenAPI document are served", self.docs),
            ("unknown route answers 404 problem+json", self.unknown_route),
            ("register a new user", self.register),
            ("log in and read the profile", self.login),
            ("a user may not create events", self.user_cannot_create_event),
            ("admin creates an event", self.create_event),
            ("search finds the event", self.search),
            ("book 2 tickets", self.book),
            ("the same Idempotency-Key gives the same booking", self.book_again),
            ("history lists the booking", self.history),
            ("cancel the booking; the tickets come back", self.cancel),
            ("cancelling twice is a conflict", self.cancel_again),
            ("hold 2 tickets; they leave sale", self.hold),
            ("confirm the hold: one booking, at the hold's price", self.confirm_hold),
            ("cancel the hold's booking; the tickets come back", self.cancel),
            ("admin creates an event with two ticket types", self.create_typed_event),
            ("book a VIP ticket; the ticket names its type", self.book_vip),
            ("check the VIP ticket in by its code, once", self.check_in),
            ("stats count the ticket under its type", self.stats),
            ("admin creates a family event and a promo code for children", self.create_family_event),
            ("book adults and children in one order with the code", self.book_order),
            ("cancel one child ticket; its price and the code's use come back", self.cancel_one_ticket),
            ("admin deletes the events; the booking stays in history", self.delete_event),
        ]

    def docs(self) -> None:
        document = expect(self.api.request("GET", "/openapi.json"), 200, "GET /openapi.json")
        ensure(str(document.get("openapi", "")).startswith("3."), "GET /openapi.json: not an OpenAPI 3 document")
        page = self.api.request("GET", "/docs", headers={"accept": "text/html"})
        expect(page, 200, "GET /docs")
        ensure(page.content_type.startswith("text/html"), f"GET /docs: content-type {page.content_type}")

    def unknown_route(self) -> None:
        reply = self.api.request("GET", f"/no-such-route-{self.tag}")
        body = expect(reply, 404, "GET /no-such-route")
        ensure(reply.content_type.startswith("application/problem+json"), f"404 content-type {reply.content_type}")
        ensure(body.get("status") == 404 and bool(body.get("code")), "404 body is not a problem")

    def register(self) -> None:
        body = {"name": f"Smoke {self.tag}", "email": self.email, "password": self.password}
        user = expect(self.api.request("POST", "/auth/register", body=body), 201, "POST /auth/register")
        ensure(user.get("email") == self.email and user.get("role") == "user", "register: wrong user")
        ensure(not any("password" in key or "hash" in key for key in user), "register: the answer leaks the hash")

    def login(self) -> None:
        self.user_token = login(self.api, self.email, self.password, "POST /auth/login")
        me = expect(self.api.request("GET", "/users/me", token=self.user_token), 200, "GET /users/me")
        ensure(me.get("email") == self.email, "GET /users/me: another user")
        self.admin_token = login(self.api, self.admin_email, self.admin_password, "POST /auth/login (admin)")

    def _event(self, starts_in: timedelta = timedelta(days=30)) -> dict[str, Any]:
        starts = (datetime.now(UTC) + starts_in).replace(microsecond=0)
        return {
            "name": f"Smoke test {self.tag}",
            "description": "Created by scripts/smoke.py; deleted at the end of the run.",
            "venue": f"Smoke Hall {self.tag}",
            "starts_at": starts.isoformat(),
            "total_tickets": 10,
            "ticket_price": "12.50",
            "currency": "EUR",
            "max_tickets_per_booking": 4,
        }

    def user_cannot_create_event(self) -> None:
        expect(
            self.api.request("POST", "/events", token=self.user_token, body=self._event()), 403, "POST /events (user)"
        )

    def create_event(self) -> None:
        event = expect(
            self.api.request("POST", "/events", token=self.admin_token, body=self._event()), 201, "POST /events"
        )
        ensure(
            event.get("available_tickets") == 10 and event.get("ticket_price") == "12.50", "POST /events: wrong event"
        )
        self.event_id = event["id"]

    def search(self) -> None:
        def found() -> bool:
            page = expect(self.api.request("GET", f"/events?q={self.tag}&limit=10"), 200, "GET /events?q=")
            return any(item.get("id") == self.event_id for item in page.get("items", []))

        eventually(found, "GET /events?q= (the new event)")

    def _book(self, key: str) -> dict[str, Any]:
        reply = self.api.request(
            "POST",
            f"/events/{self.event_id}/bookings",
            token=self.user_token,
            body={"quantity": 2},
            headers={"idempotency-key": key},
        )
        booking: dict[str, Any] = expect(reply, (200, 201), "POST /events/{id}/bookings")
        return booking

    def _available(self) -> int:
        event = expect(self.api.request("GET", f"/events/{self.event_id}"), 200, "GET /events/{id}")
        return int(event["available_tickets"])

    def book(self) -> None:
        booking = self._book(self.idempotency_key)
        ensure(booking.get("status") == "CONFIRMED" and len(booking.get("tickets", [])) == 2, "booking: not 2 tickets")
        ensure(booking.get("total_price") == "25.00", f"booking: total {booking.get('total_price')}, expected 25.00")
        self.booking_id = booking["id"]
        ensure(self._available() == 8, "booking: the event does not show 8 tickets left")

    def book_again(self) -> None:
        again = self._book(self.idempotency_key)
        ensure(again.get("id") == self.booking_id, "idempotent retry: a second booking was made")
        ensure(self._available() == 8, "idempotent retry: more tickets were taken")

    def _history(self) -> list[dict[str, Any]]:
        page = expect(self.api.request("GET", "/bookings?limit=50", token=self.user_token), 200, "GET /bookings")
        items: list[dict[str, Any]] = page.get("items", [])
        return items

    def history(self) -> None:
        eventually(lambda: any(b.get("id") == self.booking_id for b in self._history()), "GET /bookings (the booking)")
        one = expect(
            self.api.request("GET", f"/bookings/{self.booking_id}", token=self.user_token), 200, "GET /bookings/{id}"
        )
        ensure(one.get("event_id") == self.event_id, "GET /bookings/{id}: another event")

    def cancel(self) -> None:
        path = f"/bookings/{self.booking_id}"
        cancelled = expect(self.api.request("DELETE", path, token=self.user_token), 200, "DELETE /bookings/{id}")
        ensure(cancelled.get("status") == "CANCELLED", "DELETE /bookings/{id}: not CANCELLED")
        ensure(self._available() == 10, "cancel: the tickets did not come back")

    def cancel_again(self) -> None:
        expect(self.api.request("DELETE", f"/bookings/{self.booking_id}", token=self.user_token), 409, "second cancel")

    def create_typed_event(self) -> None:
        types = [
            {"name": "Standard", "price": "12.50"},
            {"name": "VIP", "price": "40.00", "total_tickets": 2, "description": "Front rows"},
        ]
        # Tonight: its doors (6 h before the start by default) are open for the check-in below.
        body = {**self._event(starts_in=timedelta(hours=2)), "name": f"Smoke door {self.tag}", "ticket_types": types}
        del body["ticket_price"]
        event = expect(self.api.request("POST", "/events", token=self.admin_token, body=body), 201, "POST /events")
        names = {t.get("name"): t for t in event.get("ticket_types", [])}
        ensure(set(names) == {"Standard", "VIP"}, f"POST /events: ticket types {sorted(map(str, names))}")
        ensure(event.get("ticket_price") == "12.50", "POST /events: ticket_price is not the lowest type price")
        self.door_event_id, self.vip_id = event["id"], names["VIP"]["id"]

    def book_vip(self) -> None:
        path = f"/events/{self.door_event_id}/bookings"
        body = {"quantity": 1, "ticket_type_id": self.vip_id}
        booking = expect(self.api.request("POST", path, token=self.user_token, body=body), 201, f"POST {path}")
        vip = {"id": self.vip_id, "name": "VIP"}
        ensure(booking.get("total_price") == "40.00", f"VIP booking: total {booking.get('total_price')}")
        ensure(booking.get("ticket_type") == vip, f"VIP booking: type {booking.get('ticket_type')}")
        tickets = booking.get("tickets") or []
        ensure(len(tickets) == 1, f"VIP booking: {len(tickets)} tickets, expected 1")
        self.vip_ticket = tickets[0]
        ensure(self.vip_ticket.get("ticket_type") == vip, "VIP booking: the ticket does not name its type")
        ensure(bool(self.vip_ticket.get("code")), "VIP booking: the ticket has no code")

    def check_in(self) -> None:
        path = f"/events/{self.door_event_id}/check-ins"
        body = {"code": self.vip_ticket["code"]}
        ticket = expect(self.api.request("POST", path, token=self.admin_token, body=body), 200, f"POST {path}")
        ensure(ticket.get("status") == "CHECKED_IN", f"check-in: status {ticket.get('status')}")
        ensure(ticket.get("ticket_type", {}).get("name") == "VIP", "check-in: the door does not see VIP")
        again = expect(self.api.request("POST", path, token=self.admin_token, body=body), 409, "second scan")
        ensure(again.get("code") == "ALREADY_CHECKED_IN", f"second scan: {again.get('code')}")

    def stats(self) -> None:
        path = f"/events/{self.door_event_id}/stats"
        stats = expect(self.api.request("GET", path, token=self.admin_token), 200, f"GET {path}")
        counted = {t.get("name"): (t.get("sold"), t.get("checked_in"), t.get("available"), t.get("revenue"))
                   for t in stats.get("ticket_types", [])}  # fmt: skip
        wanted = {"Standard": (0, 0, None, {}), "VIP": (1, 1, 1, {"EUR": "40.00"})}
        ensure(counted == wanted, f"stats per type: {counted}")
        ensure((stats.get("sold"), stats.get("checked_in")) == (1, 1), "stats: the event's totals are off")

    def hold(self) -> None:
        reply = self.api.request("POST", f"/events/{self.event_id}/holds", token=self.user_token, body={"quantity": 2})
        hold = expect(reply, 201, "POST /events/{id}/holds")
        ensure(hold.get("status") == "HELD" and bool(hold.get("expires_at")), "hold: not HELD with an expiry")
        self.hold_id = hold["id"]
        ensure(self._available() == 8, "hold: the event does not show 8 tickets left")

    def confirm_hold(self) -> None:
        path = f"/holds/{self.hold_id}"
        headers = {"idempotency-key": f"{self.idempotency_key}-hold"}
        reply = self.api.request("POST", f"{path}/confirm", token=self.user_token, headers=headers)
        booking = expect(reply, 201, "POST /holds/{id}/confirm")
        ensure(booking.get("status") == "CONFIRMED" and booking.get("total_price") == "25.00", "confirm: wrong booking")
        self.booking_id = booking["id"]
        hold = expect(self.api.request("GET", path, token=self.user_token), 200, "GET /holds/{id}")
        ensure(hold.get("status") == "CONFIRMED" and hold.get("booking_id") == self.booking_id, "hold: not CONFIRMED")
        ensure(self._available() == 8, "confirm: tickets were taken twice")

    def create_family_event(self) -> None:
        types = [{"name": "Adult", "price": "30.00"}, {"name": "Child", "price": "15.00", "total_tickets": 4}]
        body = {**self._event(), "name": f"Smoke family {self.tag}", "ticket_types": types}
        del body["ticket_price"]
        event = expect(self.api.request("POST", "/events", token=self.admin_token, body=body), 201, "POST /events")
        self.family_event_id = event["id"]
        self.family_types = {t["name"]: t["id"] for t in event.get("ticket_types", [])}
        path = f"/events/{self.family_event_id}/promo-codes"
        code = {"code": self.code, "percent": 10, "ticket_type_ids": [self.family_types["Child"]], "max_uses": 10}
        expect(self.api.request("POST", path, token=self.admin_token, body=code), 201, f"POST {path}")

    def _code_uses(self) -> tuple[Any, Any]:
        path = f"/events/{self.family_event_id}/promo-codes"
        listed = expect(self.api.request("GET", path, token=self.admin_token), 200, f"GET {path}")
        found = [c for c in listed.get("items", []) if c.get("code") == self.code]
        ensure(len(found) == 1, f"GET {path}: the code is not listed")
        return found[0].get("uses"), found[0].get("discount_given")

    def book_order(self) -> None:
        path = f"/events/{self.family_event_id}/bookings"
        items = [
            {"ticket_type_id": self.family_types["Adult"], "quantity": 2},
            {"ticket_type_id": self.family_types["Child"], "quantity": 2},
        ]
        body = {"items": items, "promo_code": self.code.lower()}  # any case
        order = expect(self.api.request("POST", path, token=self.user_token, body=body), 201, f"POST {path} (items)")
        lines = [(x.get("ticket_type", {}).get("name"), x.get("quantity"), x.get("total")) for x in order["lines"]]
        ensure(lines == [("Adult", 2, "60.00"), ("Child", 2, "27.00")], f"order: lines {lines}")
        prices = (order.get("subtotal"), order.get("discount"), order.get("total_price"))
        ensure(prices == ("90.00", "3.00", "87.00"), f"order: subtotal, discount, total {prices}")
        ensure(self._code_uses() == (2, "3.00"), "order: the code does not count the two child tickets")
        self.order_id = order["id"]
        child = next(t for t in order["tickets"] if t.get("ticket_type", {}).get("name") == "Child")
        self.child_ticket = child["ticket_number"]

    def cancel_one_ticket(self) -> None:
        path = f"/bookings/{self.order_id}/tickets/{self.child_ticket}"
        order = expect(
            self.api.request("DELETE", path, token=self.user_token), 200, "DELETE /bookings/{id}/tickets/{n}"
        )
        ensure(order.get("status") == "CONFIRMED" and order.get("quantity") == 3, "cancel one: not 3 tickets left")
        ensure(order.get("total_price") == "73.50", f"cancel one: total {order.get('total_price')}, expected 73.50")
        ensure(self._code_uses() == (1, "1.50"), "cancel one: the code's use did not come back")

    def delete_event(self) -> None:
        family = f"/events/{self.family_event_id}"
        expect(self.api.request("DELETE", family, token=self.admin_token), 204, "DELETE /events/{id} (an order)")
        door = f"/events/{self.door_event_id}"
        expect(self.api.request("DELETE", door, token=self.admin_token), 204, "DELETE /events/{id} (ticket types)")
        path = f"/events/{self.event_id}"
        expect(self.api.request("DELETE", path, token=self.admin_token), 204, "DELETE /events/{id}")
        expect(self.api.request("GET", path), 404, "GET /events/{id} after delete")
        kept = [b for b in self._history() if b.get("id") == self.booking_id]
        ensure(len(kept) == 1, "history lost the booking of the deleted event")
        ensure(kept[0].get("event", {}).get("status") == "DELETED", "history does not mark the event as deleted")


def run(
    base_url: str, admin_email: str, admin_password: str, *, timeout: float = 30.0, out: TextIO | None = None
) -> None:
    """Every step in order; raises SmokeFailure at the first that fails."""
    stream = out or sys.stdout
    flow = Flow(Client(base_url, timeout), admin_email, admin_password)
    print(f"Smoke test of {base_url}", file=stream)
    for title, step in flow.steps():
        started = time.perf_counter()
        try:
            step()
        except SmokeFailure:
            print(f"  FAIL {title}", file=stream)
            raise
        print(f"  ok   {title} ({(time.perf_counter() - started) * 1000:.0f} ms)", file=stream)
    print("All steps passed.", file=stream)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("base_url", nargs="?", default=os.environ.get("BASE_URL"), help="default: $BASE_URL")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    args = parser.parse_args(argv)
    admin_email = os.environ.get("ADMIN_EMAIL") or "admin@example.com"
    admin_password = os.environ.get("ADMIN_PASSWORD")
    if not args.base_url or not admin_password:
        parser.error("give BASE_URL (argument or environment) and the admin's password in ADMIN_PASSWORD")
    try:
        run(args.base_url, admin_email, admin_password, timeout=args.timeout)
    except SmokeFailure as failure:
        print(f"Smoke test failed: {failure}", file=sys.stderr)
        return 1
    except OSError as error:  # connection refused, DNS, TLS, timeout (urllib wraps one while connecting)
        if isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError):
            # A cold sam local container under emulation (arm64 on x86) takes 31-47 s to answer.
            print(
                f"Smoke test failed: a request to {args.base_url} timed out after {args.timeout:g} s"
                " (cold emulated sam local calls take up to ~50 s: make smoke SMOKE_TIMEOUT=60)",
                file=sys.stderr,
            )
        else:
            print(f"Smoke test failed: cannot reach {args.base_url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
