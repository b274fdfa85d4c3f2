"""`python -m devserver` (what `make run` starts): the API on http://localhost:$PORT with no Docker and no AWS.

The embedded DynamoDB's tables and the signing keys are kept in $LOCAL_DATA_DIR (default .local-data/)
across restarts; FRESH=1 starts with empty tables and new keys (the old snapshot is replaced at the
first save).
DYNAMODB_PORT pins the embedded DynamoDB's port (default: any free one).
SAMPLE_DATA=0 starts without the sample events and check-ins (the admin and staff logins are made all the same).
LOG_LEVEL sets the handlers' log level (default WARNING: quiet); at INFO or DEBUG the metrics that
Lambda would send to CloudWatch are printed too.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

from devserver import deepstack, template
from devserver.console import keep_lines_whole, say
from devserver.persistence import CorruptSnapshot
from devserver.runtime import LocalRuntime
from devserver.seed import AdminLogin, ensure_admin, ensure_staff


def login_line(role: str, login: AdminLogin, password_variable: str) -> str:
    if login.generated and not login.created:
        kept = f"already existed, password unchanged: {password_variable}=... sets it"
        return f"{role + ' login':<17}{login.email} ({kept})"
    shown = (
        login.password if login.generated else f"(from {password_variable}{'; password reset' if login.reset else ''})"
    )
    return f"{role + ' login':<17}{login.email} / {shown}"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")  # the template's LogLevel values


def log_settings(level: str) -> dict[str, str]:
    """The handlers' Powertools settings for LOG_LEVEL: quiet unless asked, metrics only with the logs."""
    level = level.upper() or "WARNING"
    if level not in LOG_LEVELS:
        raise ValueError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    return {
        "POWERTOOLS_LOG_LEVEL": level,
        "POWERTOOLS_METRICS_DISABLED": "false" if level in ("DEBUG", "INFO") else "true",
    }


def mail_line(env: dict[str, str]) -> str:
    """Where the mailer's messages go (an SMTP URL's server only: never its password)."""
    if env.get("MAIL_ENABLED") != "true":
        return "off (MAIL_ENABLED=false)"
    if env.get("MAIL_SMTP_URL"):
        smtp = urlsplit(env["MAIL_SMTP_URL"])
        return f"sent through {smtp.scheme}://{smtp.hostname}:{smtp.port or ''}".rstrip(":")
    return f"saved to {env['MAIL_OUTBOX_DIR']}/, one .eml each (MAIL_SMTP_URL=smtp://host:port sends them)"


def main() -> int:
    deepstack.install()  # the requests' threads
    keep_lines_whole()  # the handlers' threads print logs and metrics at once
    port = int(os.environ.get("PORT", "8000"))
    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
    data_dir = Path(os.environ.get("LOCAL_DATA_DIR") or template.ROOT / ".local-data")
    fresh = os.environ.get("FRESH", "").lower() in ("1", "true", "yes")
    try:
        logs = log_settings(os.environ.get("LOG_LEVEL", ""))
    except ValueError as exc:
        print(f"Cannot start: {exc}.", file=sys.stderr)
        return 1
    runtime = LocalRuntime(
        port,
        dynamodb_endpoint=endpoint,
        dynamodb_port=int(os.environ.get("DYNAMODB_PORT") or 0),
        data_dir=None if endpoint else data_dir,
        fresh=fresh,
        keys_dir=data_dir,  # kept with the data: a restart voids no ticket code or login
        # Template parameters a developer may shorten for a try by hand (HOLD_SECONDS=20 make run).
        extra_env={name: os.environ[name] for name in ("BCRYPT_ROUNDS", "HOLD_SECONDS") if os.environ.get(name)} | logs,
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
    # A password given for an account that exists already becomes its password (the data outlives restarts).
    admin = ensure_admin(os.environ.get("ADMIN_EMAIL"), os.environ.get("ADMIN_PASSWORD") or None, reset=True)
    staff = ensure_staff(os.environ.get("STAFF_EMAIL"), os.environ.get("STAFF_PASSWORD") or None, reset=True)
    from devserver.seed import ensure_sample_check_ins, ensure_sample_events

    seeded = os.environ.get("SAMPLE_DATA", "").lower() not in ("0", "false", "no")
    samples = ensure_sample_events() if seeded else 0
    checked_in = ensure_sample_check_ins(staff.email) if seeded else 0
    # PORT=0 takes any free port: print the one bound (parallel test workers start one each).
    base = f"http://localhost:{runtime.server.server_port if runtime.server else port}"
    banner = [
        f"Box office API   {base}",
        f"Swagger UI       {base}/docs",
        f"Door app         {base}/door/",
        f"OpenAPI          {base}/openapi.json",
        f"DynamoDB         {runtime.endpoint} ({'external' if endpoint else 'embedded moto'})",
    ]
    if runtime.snapshots is not None:
        state = "started empty: FRESH=1" if fresh else f"{runtime.loaded_items} items loaded; FRESH=1 starts empty"
        banner.append(f"Data             {runtime.snapshots.path} ({state})")
    if runtime.domain_events is not None:
        runtime.domain_events.settle()  # the sample data's events print before the banner, not into it
        banner.append("Domain events    each printed as the bus accepts it (docs/events.md)")
        banner.append(f"E-mails          {mail_line(runtime.environment())}")
    level = logs["POWERTOOLS_LOG_LEVEL"]
    more = " (LOG_LEVEL=INFO shows more)" if level in ("WARNING", "ERROR") else ""
    banner.append(f"Handler logs     {level} and above{more}")
    banner += [
        login_line("Admin", admin, "ADMIN_PASSWORD"),
        login_line("Staff", staff, "STAFF_PASSWORD"),
        f"Sample events    {samples} created" if seeded else "Sample events    none (SAMPLE_DATA=0)",
        *([f"Sample check-ins {checked_in} tickets checked in"] if seeded else []),
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
