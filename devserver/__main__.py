"""`python -m devserver` (what `make run` starts): the API on http://localhost:$PORT with no Docker and no AWS."""

from __future__ import annotations

import os
import signal
import sys
import threading

from devserver.runtime import LocalRuntime
from devserver.seed import ensure_admin, ensure_staff


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
    runtime = LocalRuntime(
        port,
        dynamodb_endpoint=endpoint,
        jwt_secret=os.environ.get("JWT_SECRET") or None,
        extra_env={"BCRYPT_ROUNDS": os.environ["BCRYPT_ROUNDS"]} if os.environ.get("BCRYPT_ROUNDS") else None,
        cors_origins=os.environ.get("CORS_ALLOWED_ORIGINS", ""),
    )
    try:
        runtime.start()
    except OSError as exc:
        print(f"Cannot start on port {port}: {exc}. Set PORT to another port.", file=sys.stderr)
        return 1
    admin = ensure_admin(os.environ.get("ADMIN_EMAIL"), os.environ.get("ADMIN_PASSWORD"))
    staff = ensure_staff(os.environ.get("STAFF_EMAIL"), os.environ.get("STAFF_PASSWORD"))
    from devserver.seed import ensure_sample_check_ins, ensure_sample_events

    samples = ensure_sample_events()
    checked_in = ensure_sample_check_ins(staff.email)
    base = f"http://localhost:{port}"
    print(f"Box office API   {base}")
    print(f"Swagger UI       {base}/docs")
    print(f"OpenAPI          {base}/openapi.json")
    print(f"DynamoDB         {runtime.endpoint} ({'external' if endpoint else 'embedded moto'})")
    if admin.created:
        shown = admin.password if admin.generated else "(from ADMIN_PASSWORD)"
        print(f"Admin login      {admin.email} / {shown}")
    else:
        print(f"Admin login      {admin.email} (already existed)")
    if staff.created:
        shown = staff.password if staff.generated else "(from STAFF_PASSWORD)"
        print(f"Staff login      {staff.email} / {shown}")
    else:
        print(f"Staff login      {staff.email} (already existed)")
    print(f"Sample events    {samples} created; {checked_in} sample tickets checked in")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("Ctrl-C to stop.", flush=True)
    stop.wait()
    runtime.stop()
    print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
