"""`python -m devserver` (what `make run` starts): the API on http://localhost:$PORT with no Docker and no AWS.

The embedded DynamoDB's tables and the signing keys are kept in $LOCAL_DATA_DIR (default .local-data/)
across restarts; FRESH=1 starts with empty tables and new keys (the old snapshot is replaced at the
first save).
DYNAMODB_PORT pins the embedded DynamoDB's port (default: any free one).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from devserver import template
from devserver.console import say
from devserver.persistence import CorruptSnapshot
from devserver.runtime import LocalRuntime
from devserver.seed import AdminLogin, ensure_admin, ensure_staff


def login_line(role: str, login: AdminLogin, password_variable: str) -> str:
    if not login.created:
        return f"{role + ' login':<17}{login.email} (already existed; its password is the one it was created with)"
    shown = login.password if login.generated else f"(from {password_variable})"
    return f"{role + ' login':<17}{login.email} / {shown}"


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
    data_dir = Path(os.environ.get("LOCAL_DATA_DIR") or template.ROOT / ".local-data")
    fresh = os.environ.get("FRESH", "").lower() in ("1", "true", "yes")
    runtime = LocalRuntime(
        port,
        dynamodb_endpoint=endpoint,
        dynamodb_port=int(os.environ.get("DYNAMODB_PORT") or 0),
        data_dir=None if endpoint else data_dir,
        fresh=fresh,
        keys_dir=data_dir,  # kept with the data: a restart voids no ticket code or login
        # Template parameters a developer may shorten for a try by hand (HOLD_SECONDS=20 make run).
        extra_env={name: os.environ[name] for name in ("BCRYPT_ROUNDS", "HOLD_SECONDS") if os.environ.get(name)},
        cors_origins=os.environ.get("CORS_ALLOWED_ORIGINS", ""),
    )
    try:
        runtime.start()
    except OSError as exc:
        print(f"Cannot start: {exc}. Set PORT (and DYNAMODB_PORT, if set) to free ports.", file=sys.stderr)
        return 1
    except CorruptSnapshot as exc:
        print(f"Cannot load the saved data: {exc}. Move it away, or start empty with FRESH=1.", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    admin = ensure_admin(os.environ.get("ADMIN_EMAIL"), os.environ.get("ADMIN_PASSWORD"))
    staff = ensure_staff(os.environ.get("STAFF_EMAIL"), os.environ.get("STAFF_PASSWORD"))
    from devserver.seed import ensure_sample_check_ins, ensure_sample_events

    samples = ensure_sample_events()
    checked_in = ensure_sample_check_ins(staff.email)
    # PORT=0 takes any free port: print the one bound (parallel test workers start one each).
    base = f"http://localhost:{runtime.server.server_port if runtime.server else port}"
    banner = [
        f"Box office API   {base}",
        f"Swagger UI       {base}/docs",
        f"OpenAPI          {base}/openapi.json",
        f"DynamoDB         {runtime.endpoint} ({'external' if endpoint else 'embedded moto'})",
    ]
    if runtime.snapshots is not None:
        state = "started empty (FRESH)" if fresh else f"{runtime.loaded_items} items loaded"
        banner.append(f"Data             {runtime.snapshots.path} ({state}; FRESH=1 starts empty)")
    if runtime.domain_events is not None:
        banner.append("Domain events    each printed as the bus accepts it (docs/events.md)")
    banner += [
        login_line("Admin", admin, "ADMIN_PASSWORD"),
        login_line("Staff", staff, "STAFF_PASSWORD"),
        f"Sample events    {samples} created",
        f"Sample check-ins {checked_in} tickets checked in",
        "Ctrl-C to stop.",
    ]
    say(*banner)
    stop.wait()
    runtime.stop()
    say("Stopped.")
    return 0


if __name__ == "__main__":
    status = main()
    # Everything worth keeping is saved and every socket closed: skip tearing down a heap of handler
    # modules and tables object by object, which takes seconds (the stop must take under two).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
