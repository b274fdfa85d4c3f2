"""`make bench`: every benchmark section in one run, printed as tables (never a timed test)."""

from __future__ import annotations

import importlib
import sys
import time

SECTIONS = [
    "cold",
    "accounts",
    "search",
    "bookings",
    "holds",
    "waitlist",
    "line",
    "door",
    "tickets",
    "writes",
    "partitions",
    "partition_model",
    "races",
    "orders",
    "cost",
]


def main() -> int:
    chosen = sys.argv[1:] or SECTIONS
    for name in chosen:
        started = time.perf_counter()
        section = importlib.import_module(f"scripts.bench.{name}")
        print(section.run())
        print(f"({name}: {time.perf_counter() - started:.0f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
