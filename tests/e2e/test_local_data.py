"""`make run` keeps its data across restarts, stops promptly with it saved, and survives kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import BotoCoreError

from devserver import persistence, template
from devserver.seed import SAMPLE_EVENTS
from tests.support.live import ADMIN_EMAIL, ADMIN_PASSWORD, NO_SAMPLES, LiveServer, free_port, start_live_server

USERS_TABLE = "local-UsersTable"


def register(server: LiveServer) -> tuple[str, str]:
    email, password = f"keep-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
    response = server.request("POST", "/auth/register", json={"name": "Kept", "email": email, "password": password})
    assert response.status_code == 201, response.text
    return email, password


def dynamodb(server: LiveServer) -> Any:
    return boto3.client("dynamodb", endpoint_url=server.dynamodb_endpoint)


def line(server: LiveServer, label: str) -> str:
    return next(text for text in server.output if text.startswith(label))


def test_accounts_and_events_survive_a_restart_and_fresh_starts_empty(tmp_path: Path) -> None:
    kept = {"LOCAL_DATA_DIR": str(tmp_path)}
    port = free_port()
    first = start_live_server({**kept, "DYNAMODB_PORT": str(port)})
    try:
        assert first.dynamodb_endpoint == f"http://127.0.0.1:{port}"
        assert USERS_TABLE in dynamodb(first).list_tables()["TableNames"]
        email, password = register(first)
        event = first.request(
            "POST",
            "/events",
            token=first.admin_token(),
            json={
                "name": "Kept Night",
                "venue": "Hall",
                "starts_at": "2031-01-01T20:00:00+00:00",
                "total_tickets": 9,
                "ticket_price": "5.00",
            },
        )
        assert event.status_code == 201, event.text
        assert line(first, "Sample events").endswith(f" {len(SAMPLE_EVENTS)} created")
    finally:
        first.stop()

    again = start_live_server(kept)
    try:
        assert again.login(email, password)
        assert again.request("GET", f"/events/{event.json()['id']}").json()["name"] == "Kept Night"
        assert line(again, "Sample events").endswith(" 0 created")
        assert line(again, "Admin login").endswith("(from ADMIN_PASSWORD)")
        assert "items loaded" in line(again, "Data")
    finally:
        again.stop()

    fresh = start_live_server({**kept, "FRESH": "1"})
    try:
        response = fresh.request("POST", "/auth/login", json={"email": email, "password": password})
        assert response.status_code == 401
        assert line(fresh, "Sample events").endswith(f" {len(SAMPLE_EVENTS)} created")
    finally:
        fresh.stop()


def test_admin_password_given_at_a_restart_becomes_the_admins_password(tmp_path: Path) -> None:
    kept = {"LOCAL_DATA_DIR": str(tmp_path), **NO_SAMPLES}
    first = start_live_server(kept)
    try:
        assert line(first, "Sample events").endswith(" none (SAMPLE_DATA=0)")
        assert first.request("GET", "/events").json()["items"] == []
        old_token = first.admin_token()
    finally:
        first.stop()

    again = start_live_server({**kept, "ADMIN_PASSWORD": "a new admin password"})
    try:
        assert line(again, "Admin login").endswith("(from ADMIN_PASSWORD; password reset)")
        assert again.login(ADMIN_EMAIL, "a new admin password")
        refused = again.request("POST", "/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert refused.status_code == 401
        assert again.request("GET", "/users/me", token=old_token).status_code == 401  # a reset revokes tokens
    finally:
        again.stop()

    unchanged = start_live_server({**kept, "ADMIN_PASSWORD": "a new admin password"})
    try:
        assert line(unchanged, "Admin login").endswith("(from ADMIN_PASSWORD)")
    finally:
        unchanged.stop()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_ends_the_runtime_within_two_seconds_with_the_last_change_saved(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    server = start_live_server({"LOCAL_DATA_DIR": str(tmp_path), **NO_SAMPLES})
    time.sleep(persistence.SAVE_DELAY + 1)  # the start's own changes are saved: the next save is the stop's
    email, _ = register(server)

    began = time.monotonic()
    server.process.send_signal(stop_signal)
    assert server.process.wait(timeout=10) == 0
    assert time.monotonic() - began < 2
    assert email in (tmp_path / "dynamodb.jsonl").read_text()


def test_kill_9_in_the_middle_of_a_save_leaves_the_last_snapshot_whole(tmp_path: Path) -> None:
    snapshot = tmp_path / "dynamodb.jsonl"
    server = start_live_server({"LOCAL_DATA_DIR": str(tmp_path), **NO_SAMPLES})
    client = dynamodb(server)
    for n in range(60):  # about 20 MB to write: each save takes a while
        client.put_item(TableName=USERS_TABLE, Item={"pk": {"S": f"BIG#{n}"}, "blob": {"S": "x" * 350_000}})
    client.put_item(TableName=USERS_TABLE, Item={"pk": {"S": "MARKER"}})
    written = time.monotonic()
    while not snapshot.exists() or '"MARKER"' not in snapshot.read_text():
        assert time.monotonic() - written < 15, "the change was not saved within seconds"
        time.sleep(0.05)

    busy = threading.Event()

    def keep_changing() -> None:  # so that saves keep coming
        while not busy.is_set():
            try:
                client.put_item(TableName=USERS_TABLE, Item={"pk": {"S": "TICK"}, "at": {"N": str(time.time())}})
            except BotoCoreError:
                return  # the server is gone
            time.sleep(0.02)

    changer = threading.Thread(target=keep_changing)
    changer.start()
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / f".{snapshot.name}.tmp").exists():
            assert time.monotonic() < deadline, "no save seen in progress"
            time.sleep(0.001)
        busy.set()
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        busy.set()
        changer.join()

    saved = persistence.read(snapshot)  # complete, or this raises
    assert sum('"MARKER"' in item for item in saved[USERS_TABLE]) == 1
    again = start_live_server({"LOCAL_DATA_DIR": str(tmp_path), **NO_SAMPLES})
    try:
        assert dynamodb(again).get_item(TableName=USERS_TABLE, Key={"pk": {"S": "MARKER"}})["Item"]
        assert dynamodb(again).get_item(TableName=USERS_TABLE, Key={"pk": {"S": "BIG#59"}})["Item"]
    finally:
        again.stop()


def test_a_snapshot_that_is_not_whole_stops_the_start_with_the_way_out(tmp_path: Path) -> None:
    (tmp_path / "dynamodb.jsonl").write_text('{"format": "boxoffice-local-dynamodb", "version": 1}\n{"table": "lo')
    started = subprocess.run(
        [sys.executable, "-m", "devserver"],
        cwd=template.ROOT,
        env={**os.environ, "LOCAL_DATA_DIR": str(tmp_path), "PORT": str(free_port()), "DYNAMODB_ENDPOINT_URL": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 1
    assert "Cannot load the saved data" in started.stderr
    assert "FRESH=1" in started.stderr


def test_a_restart_keeps_issued_logins_and_ticket_codes_valid_and_fresh_makes_new_keys(tmp_path: Path) -> None:
    # Not the test run's own JWT_SECRET and TICKET_KEYS: the runtime's, kept in the data folder.
    kept = {"LOCAL_DATA_DIR": str(tmp_path), "JWT_SECRET": "", "TICKET_KEYS": "", **NO_SAMPLES}
    first = start_live_server(kept)
    try:
        admin = first.admin_token()
        starts = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0).isoformat()
        event = first.request(
            "POST",
            "/events",
            token=admin,
            json={"name": "Door", "venue": "Hall", "starts_at": starts, "total_tickets": 5, "ticket_price": "5.00"},
        )
        assert event.status_code == 201, event.text
        event_id = event.json()["id"]
        booked = first.request("POST", f"/events/{event_id}/bookings", token=admin, json={"quantity": 1})
        assert booked.status_code == 201, booked.text
        code = booked.json()["tickets"][0]["code"]
        (key,) = first.request("GET", "/.well-known/jwks.json").json()["keys"]
    finally:
        first.stop()

    again = start_live_server(kept)
    try:
        assert again.request("GET", "/users/me", token=admin).status_code == 200
        assert again.request("GET", "/.well-known/jwks.json").json()["keys"] == [key]  # scanners' copy holds
        scanned = again.request("POST", f"/events/{event_id}/check-ins", token=admin, json={"code": code})
        assert scanned.status_code == 200, scanned.text
    finally:
        again.stop()

    fresh = start_live_server({**kept, "FRESH": "1"})
    try:
        (new_key,) = fresh.request("GET", "/.well-known/jwks.json").json()["keys"]
        assert new_key["kid"] != key["kid"]  # a new key never takes the old one's kid
        assert fresh.request("GET", "/users/me", token=admin).status_code == 401
    finally:
        fresh.stop()
    assert oct((tmp_path / "keys.json").stat().st_mode & 0o777) == "0o600"
