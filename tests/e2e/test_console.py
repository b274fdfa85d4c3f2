"""What `make run` prints: the banner last at start, quiet logs by default, each log under its own function."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from devserver import template
from tests.support.live import LiveServer, start_live_server

BANNER_END = "Ctrl-C to stop."


def log_records(server: LiveServer) -> list[dict[str, Any]]:
    """The JSON log lines printed so far (metrics' EMF lines carry no message)."""
    records = []
    for text in list(server.output):
        if text.startswith("{"):
            record = json.loads(text)
            if "message" in record:
                records.append(record)
    return records


def book_one(server: LiveServer) -> None:
    token = server.admin_token()
    event_id = server.request("GET", "/events?q=jazz").json()["items"][0]["id"]
    booked = server.request("POST", f"/events/{event_id}/bookings", token=token, json={"quantity": 1})
    assert booked.status_code == 201, booked.text


def test_the_banner_is_the_last_thing_printed_at_start_and_no_log_lines_by_default() -> None:
    server = start_live_server({"LOG_LEVEL": ""})  # what `make run` gives it without LOG_LEVEL set
    try:
        time.sleep(1.5)  # the sample data's domain events have had ample time to be printed
        assert server.output[-1] == BANNER_END, server.output[-5:]
        assert "Handler logs     WARNING and above (LOG_LEVEL=INFO shows more)" in server.output
        assert not [line for line in server.output if line.startswith("{")], "JSON lines at the default level"
        book_one(server)
        assert not [line for line in server.output if line.startswith("{")]
    finally:
        server.stop()


def test_every_log_line_names_the_function_that_wrote_it_or_none_outside_a_function() -> None:
    server = start_live_server({"LOG_LEVEL": "INFO"})
    try:
        book_one(server)
        deadline = time.monotonic() + 30  # printed at once; a loaded machine may take its time
        while not any(r.get("function_name") == "CreateBookingFunction" for r in log_records(server)):
            assert time.monotonic() < deadline, "the booking's log line was not printed"
            time.sleep(0.1)
        written_by = {"Booking created": "CreateBookingFunction", "Ticket checked in": "CheckInFunction"}
        named = [(r["message"], r.get("function_name")) for r in log_records(server) if r["message"] in written_by]
        # The sample data is made at start by the domain code itself, outside any function.
        assert {name for message, name in named} == {None, "CreateBookingFunction"}, named
        assert all(name in (None, written_by[message]) for message, name in named), named
    finally:
        server.stop()


def test_the_data_line_says_plainly_whether_the_start_was_fresh() -> None:
    fresh = start_live_server({"FRESH": "1"})
    try:
        data = next(line for line in fresh.output if line.startswith("Data"))
        assert data.endswith("(started empty: FRESH=1)"), data
    finally:
        fresh.stop()


def test_an_unknown_log_level_stops_the_start_with_the_levels_there_are() -> None:
    started = subprocess.run(
        [sys.executable, "-m", "devserver"],
        cwd=template.ROOT,
        env={**os.environ, "LOG_LEVEL": "verbose", "PORT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 1
    assert "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, not 'VERBOSE'" in started.stderr
    assert "Traceback" not in started.stderr
