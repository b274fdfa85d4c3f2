"""Soak test of the local runtime: a front end's mixed load for a while, one line per window.

    make soak                                  # 16 threads until 10,000 bookings or 20 minutes
    .venv/bin/python -m scripts.soak --bookings 2000 --duration 120 --window 10

It starts `python -m devserver` afresh on a free loopback port (empty data in a temporary folder,
cheap password hashing: accounts are not what is measured; no e-mail, which the API never renders),
creates the accounts and events the load needs, then runs `--threads` clients, each looping over 45%
searches, 40% bookings, 10% booking history and 5% event detail, until `--bookings` bookings are made
or `--duration` seconds pass. Every `--window` seconds it prints requests/s, p95 latency, the server's
resident memory and the bookings so far. At the end it checks that the events sold exactly what the
bookings hold, and exits 1 when a request failed, the ledger is off, or (after all `--bookings`) the
server grew by more than `--max-growth-mb` or the last window's throughput fell below 0.8x the first's.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"email": "soak-admin@example.com", "password": "soak-admin-password"}
SEARCHES = ["/events", "/events?q=jazz", "/events?q=night&limit=10", "/events?venue=Soak%20Hall", "/events?q=beeth"]
MIX = [("search", 45), ("book", 40), ("history", 10), ("detail", 5)]
MIN_RATIO = 0.8


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    failures: int = 0


class Recorder:
    """Latencies per window, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.window = Window()
        self.bookings = 0
        self.failures: list[str] = []

    def record(self, seconds: float, *, booked: bool, failure: str | None) -> None:
        with self.lock:
            self.window.latencies.append(seconds)
            self.bookings += booked
            if failure:
                self.window.failures += 1
                self.failures.append(failure)

    def take(self) -> Window:
        with self.lock:
            window, self.window = self.window, Window()
            return window


class Client:
    """One keep-alive connection to the runtime, as a browser tab holds."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.token = token
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        sent = {"content-type": "application/json", **(headers or {})}
        if self.token:
            sent["authorization"] = f"Bearer {self.token}"
        payload = json.dumps(body) if body is not None else None
        try:
            self.connection.request(method, path, body=payload, headers=sent)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # reconnects on the next request
            raise
        return response.status, json.loads(raw) if raw else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_runtime(port: int, data_dir: str) -> subprocess.Popen[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DYNAMODB_ENDPOINT_URL", "DYNAMODB_PORT")},
        "PORT": str(port),
        "FRESH": "1",
        "LOCAL_DATA_DIR": data_dir,
        "ADMIN_EMAIL": ADMIN["email"],
        "ADMIN_PASSWORD": ADMIN["password"],
        "BCRYPT_ROUNDS": "4",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # Deployed, e-mails are rendered by a function of their own, not by the API's: the soak measures the API.
        "MAIL_ENABLED": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "devserver"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if "Ctrl-C to stop" in line:
            # Keep reading its output (metrics lines): a full pipe would stall it.
            threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
            return process
        if time.monotonic() > deadline:
            break
    process.kill()
    raise SystemExit("the local runtime did not start")


def _drain(stream: Any) -> None:
    for _ in stream:
        pass


def rss_mb(pid: int) -> float:
    """The process's resident set size in MB (Linux /proc, else ps)."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    out = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True, check=True).stdout
    return int(out.strip()) / 1024


def login(port: int, email: str, password: str) -> str:
    status, body = Client(port).call("POST", "/auth/login", {"email": email, "password": password})
    if status != 200:
        raise SystemExit(f"login failed: {status} {body}")
    return str(body["access_token"])


def prepare(port: int, events: int, users: int) -> tuple[list[str], list[str]]:
    """Events with room for every booking, and logged-in users; returns (event ids, tokens)."""
    admin = Client(port, login(port, ADMIN["email"], ADMIN["password"]))
    starts = (datetime.now(UTC) + timedelta(days=60)).replace(microsecond=0)
    event_ids = []
    for i in range(events):
        name = ["Jazz Night", "Beethoven Evening", "Late Night Session", "Folk Matinee"][i % 4] + f" {i}"
        body = {
            "name": name,
            "venue": "Soak Hall" if i % 2 else f"Venue {i}",
            "starts_at": (starts + timedelta(hours=i)).isoformat(),
            "total_tickets": 1_000_000,
            "ticket_price": "20.00",
            "currency": "EUR",
            "max_tickets_per_booking": 4,
        }
        status, created = admin.call("POST", "/events", body)
        if status != 201:
            raise SystemExit(f"creating an event failed: {status} {created}")
        event_ids.append(str(created["id"]))
    tokens = []
    for i in range(users):
        email, password = f"soak-{i}-{uuid.uuid4().hex[:6]}@example.com", "soak-password-1"
        status, body = Client(port).call(
            "POST", "/auth/register", {"name": f"Soak {i}", "email": email, "password": password}
        )
        if status != 201:
            raise SystemExit(f"registering failed: {status} {body}")
        tokens.append(login(port, email, password))
    return event_ids, tokens


def client_loop(
    port: int, tokens: list[str], event_ids: list[str], recorder: Recorder, stop: threading.Event, seed: int
) -> None:
    rng = random.Random(seed)
    clients = {token: Client(port, token) for token in rng.sample(tokens, min(8, len(tokens)))}
    anonymous = Client(port)
    kinds, weights = zip(*MIX, strict=True)
    while not stop.is_set():
        kind = rng.choices(kinds, weights)[0]
        client = rng.choice(list(clients.values()))
        request: tuple[str, str, Any, dict[str, str] | None]
        if kind == "search":
            client, request = anonymous, ("GET", rng.choice(SEARCHES), None, None)
        elif kind == "detail":
            client, request = anonymous, ("GET", f"/events/{rng.choice(event_ids)}", None, None)
        elif kind == "history":
            request = ("GET", "/bookings?limit=20", None, None)
        else:
            body = {"quantity": rng.randint(1, 4)}
            request = ("POST", f"/events/{rng.choice(event_ids)}/bookings", body, {"Idempotency-Key": uuid.uuid4().hex})
        began = time.perf_counter()
        try:
            status, _ = client.call(*request)
            failure = None if status < 300 else f"{request[0]} {request[1]} -> {status}"
        except (OSError, http.client.HTTPException) as exc:
            status, failure = 0, f"{request[0]} {request[1]} -> {exc!r}"
        recorder.record(time.perf_counter() - began, booked=kind == "book" and status == 201, failure=failure)


def p95(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else 0.0


def ledger(port: int, event_ids: list[str], tokens: list[str]) -> tuple[int, int]:
    """(tickets the events sold, tickets in confirmed bookings), read through the API."""
    anonymous = Client(port)
    sold = 0
    for event_id in event_ids:
        _, event = anonymous.call("GET", f"/events/{event_id}")
        sold += event["total_tickets"] - event["available_tickets"]
    held = 0
    for token in tokens:
        client, cursor = Client(port, token), ""
        while True:
            status, page = client.call("GET", "/bookings?limit=100" + (f"&cursor={cursor}" if cursor else ""))
            if status != 200:
                raise SystemExit(f"reading the booking history failed: {status} {page}")
            held += sum(b["quantity"] for b in page["items"] if b["status"] == "CONFIRMED")
            cursor = page["next_cursor"]
            if not cursor:
                break
    return sold, held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--bookings", type=int, default=10_000, help="stop after this many bookings")
    parser.add_argument("--duration", type=float, default=1200, help="stop after this many seconds of load")
    parser.add_argument("--window", type=float, default=30, help="seconds per printed line")
    parser.add_argument("--events", type=int, default=16)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--max-growth-mb", type=float, default=300)
    args = parser.parse_args(argv)

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="soak-") as data_dir:
        server = start_runtime(port, data_dir)
        try:
            return soak(args, server, port)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a runtime that ignores SIGTERM (as before issue 14) must not outlive us
                server.kill()
                server.wait()


def soak(args: argparse.Namespace, server: subprocess.Popen[str], port: int) -> int:
    event_ids, tokens = prepare(port, args.events, args.users)
    recorder, stop = Recorder(), threading.Event()
    start_rss = rss_mb(server.pid)
    print(f"{args.threads} threads on 127.0.0.1:{port}; server RSS at start {start_rss:.0f} MB")
    print(
        f"{'window':>6} {'seconds':>8} {'req/s':>7} {'p95 ms':>7} {'RSS MB':>7} {'bookings':>9} {'failed':>6}",
        flush=True,
    )
    threads = [
        threading.Thread(target=client_loop, args=(port, tokens, event_ids, recorder, stop, seed), daemon=True)
        for seed in range(args.threads)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    rates: list[float] = []
    end_rss = start_rss
    for number in itertools.count(1):
        if time.monotonic() - began >= args.duration or recorder.bookings >= args.bookings:
            break
        window_start = time.monotonic()
        while time.monotonic() - window_start < args.window and recorder.bookings < args.bookings:
            time.sleep(0.2)
        window, seconds = recorder.take(), time.monotonic() - window_start
        end_rss = rss_mb(server.pid)
        if seconds >= args.window / 2:  # a short last window says little about throughput
            rates.append(len(window.latencies) / seconds)
        print(
            f"{number:>6} {time.monotonic() - began:>8.0f} {len(window.latencies) / seconds:>7.1f} "
            f"{p95(window.latencies) * 1000:>7.0f} {end_rss:>7.0f} {recorder.bookings:>9} {window.failures:>6}",
            flush=True,
        )
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    sold, held = ledger(port, event_ids, tokens)
    growth, ratio = end_rss - start_rss, (rates[-1] / rates[0] if len(rates) > 1 else 1.0)
    print(f"bookings {recorder.bookings}, tickets sold {sold}, in confirmed bookings {held}")
    print(f"RSS {start_rss:.0f} -> {end_rss:.0f} MB (+{growth:.0f}); last window {ratio:.2f}x the first's throughput")
    problems = [f"{len(recorder.failures)} requests failed, e.g. {recorder.failures[0]}"] if recorder.failures else []
    if sold != held:
        problems.append("the events' counters disagree with the bookings")
    if recorder.bookings >= args.bookings:
        if growth > args.max_growth_mb:
            problems.append(f"RSS grew by more than {args.max_growth_mb:.0f} MB")
        if ratio < MIN_RATIO:
            problems.append(f"throughput fell below {MIN_RATIO}x")
    else:
        problems.append(f"only {recorder.bookings} of {args.bookings} bookings in {args.duration:.0f} s")
    print("; ".join(problems) or "targets met")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
