"""Generate many realistic events and bulk-load them (benchmarks, trying search by hand).

    PYTHONPATH=layers/shared:. .venv/bin/python -m scripts.seed_events --endpoint http://127.0.0.1:PORT
    ... -m scripts.seed_events --count 500 --endpoint http://127.0.0.1:8001 --table-prefix local
    ... -m scripts.seed_events --events-table <EventsTableName output>   # AWS, your usual credentials

`make run` prints its DynamoDB endpoint; its tables are named local-<LogicalId>.

The events go through the same validation and item shapes as POST /events, written 25 items per
BatchWriteItem. Start times spread over the next `--days` days, venues are `--venues` names, and
names combine a vocabulary so that words and prefixes ("jazz", "beeth") have many matches.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boxoffice.models.events import CreateEvent, Event

COMPOSERS = ["Beethoven", "Mozart", "Bach", "Brahms", "Chopin", "Dvořák", "Fauré", "Mahler", "Schubert", "Verdi"]
GENRES = ["Jazz", "Opera", "Symphony", "Quartet", "Ballet", "Blues", "Rock", "Comedy", "Folk", "Choir"]
MOODS = ["Midnight", "Summer", "Grand", "Late", "Acoustic", "Festive", "Candlelight", "Open-Air", "Winter", "Gala"]
FORMS = ["Night", "Session", "Evening", "Matinee", "Festival", "Showcase", "Marathon", "Premiere", "Revue", "Concert"]
PLACES = [
    "Riverside", "Harbour", "Old Town", "Kings", "Victoria", "Northern", "Grand Park", "Union", "Lakeside", "Market",
    "Cathedral", "Castle", "Meadow", "Station", "Garden", "Bridge", "Mill", "Abbey", "Quay", "Observatory",
]  # fmt: skip
KINDS = ["Hall", "Theatre", "Arena", "Opera House", "Club", "Church", "Pavilion", "Studio", "Ballroom", "Amphitheatre"]
CURRENCIES = ["EUR", "EUR", "EUR", "GBP", "USD", "CHF"]


def venues(count: int) -> list[str]:
    names = [f"{place} {kind}" for kind in KINDS for place in PLACES]
    if count > len(names):
        raise ValueError(f"at most {len(names)} venues")
    return names[:count]


def generate(count: int, *, days: int = 365, venue_count: int = 200, seed: int = 1) -> Iterator[dict[str, object]]:
    """`count` POST /events bodies, deterministic for a seed, starting within the next `days` days."""
    rng = random.Random(seed)
    places = venues(venue_count)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(count):
        start = today + timedelta(days=rng.randint(1, days), minutes=rng.choice(range(17 * 60, 22 * 60, 15)))
        if rng.random() < 0.4:
            name = f"{rng.choice(COMPOSERS)} {rng.choice(FORMS)}"
        else:
            name = f"{rng.choice(MOODS)} {rng.choice(GENRES)} {rng.choice(FORMS)}"
        yield {
            "name": name,
            "description": f"{name} at {start:%A %d %B}.",
            "venue": rng.choice(places),
            "starts_at": start.isoformat(),
            "total_tickets": rng.choice([50, 100, 250, 500, 1000, 2500, 10_000]),
            "ticket_price": f"{rng.randint(5, 150)}.{rng.choice(['00', '50', '99'])}",
            "currency": rng.choice(CURRENCIES),
            "max_tickets_per_booking": rng.choice([4, 6, 10]),
        }


def import_events(requests: Iterable[CreateEvent]) -> list[Event]:
    """Bulk load on behalf of the operator (this script, benchmarks, big test sets): the events POST
    /events would make, written 25 items per BatchWriteItem without conditions."""
    from boxoffice.logic import events
    from boxoffice.store import events as store

    records = [events.new_event(r) for r in requests]
    store.put_many(records)
    return [events.public(r) for r in records]


def load(count: int, *, days: int = 365, venue_count: int = 200, seed: int = 1) -> int:
    """Bulk-load generated events into the configured events table; returns how many."""
    from boxoffice.models.events import CreateEvent

    chunk: list[CreateEvent] = []
    loaded = 0
    for body in generate(count, days=days, venue_count=venue_count, seed=seed):
        chunk.append(CreateEvent.model_validate(body))
        if len(chunk) == 500:
            loaded += len(import_events(chunk))
            chunk = []
    return loaded + len(import_events(chunk))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--venues", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--endpoint", default=os.environ.get("DYNAMODB_ENDPOINT_URL", ""), help="omit for AWS")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--table-prefix", default="local", help="tables named <prefix>-EventsTable (make run: local)")
    target.add_argument("--events-table", help="the events table's exact name (e.g. from the stack outputs)")
    args = parser.parse_args(argv)
    os.environ["DYNAMODB_ENDPOINT_URL"] = args.endpoint
    if args.endpoint:  # moto and DynamoDB Local take any credentials; never reach for real ones
        os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_SESSION_TOKEN="local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["EVENTS_TABLE"] = args.events_table or f"{args.table_prefix}-EventsTable"
    loaded = load(args.count, days=args.days, venue_count=args.venues, seed=args.seed)
    print(f"Loaded {loaded} events into {os.environ['EVENTS_TABLE']} at {args.endpoint or 'AWS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
