"""What a buyer receives, rendered: the tickets PDF (fpdf2 + segno) for 1 and 50 tickets, its size and
render time, and one ticket's QR code as SVG and the calendar entry, in this process (the local stack only
signs the codes, with its local key ring)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scripts.bench.common import local_stack, median_ms, table

RUNS = 5


def _timed(render: Callable[[], bytes]) -> tuple[float, int]:
    """Median render time (ms) and size (bytes); a first run, which imports the renderer, is not timed."""
    render()
    times, size = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        size = len(render())
        times.append(time.perf_counter() - started)
    return median_ms(times), size


def run() -> str:
    with local_stack():
        return _run()


def _run() -> str:
    from boxoffice import ticket_codes
    from boxoffice.ids import new_ticket_number
    from boxoffice.render import CalendarEntry, TicketPage
    from boxoffice.render.calendar import ics
    from boxoffice.render.qr import svg
    from boxoffice.render.tickets_pdf import tickets_pdf

    event_id = "6f1c2f0e-1d2b-4c3a-9e8f-7a6b5c4d3e2f"
    starts = (datetime.now(UTC) + timedelta(days=30)).astimezone(ZoneInfo("Europe/Berlin"))
    pages = []
    for _ in range(50):
        number = new_ticket_number()
        code = ticket_codes.sign(event_id, number)
        page = TicketPage("Bench Night", starts, "Europe/Berlin", "Hall", "General admission", number, "Ada", code)
        pages.append(page)
    entry = CalendarEntry(event_id, "Bench Night", "An evening of benchmarks.", "Hall", starts)
    rows = []
    renders: list[tuple[str, Callable[[], bytes]]] = [
        ("tickets PDF, 1 ticket", lambda: tickets_pdf(pages[:1], booking_id="B", notice="")),
        ("tickets PDF, 50 tickets", lambda: tickets_pdf(pages, booking_id="B", notice="")),
        ("QR code SVG", lambda: svg(pages[0].code).encode()),
        ("calendar entry (.ics)", lambda: ics(entry, stamp=datetime.now(UTC))),
    ]
    for label, render in renders:
        ms, size = _timed(render)
        rows.append([label, f"{ms:.1f}", f"{size / 1024:.1f}"])
    header = f"Rendering what buyers receive, median of {RUNS} in this process (each after an untimed first run)"
    return header + "\n" + table(["document", "ms", "KiB"], rows)


if __name__ == "__main__":
    print(run())
