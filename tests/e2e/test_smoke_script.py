"""scripts/smoke.py (what `make smoke` runs) against the local runtime, as it would run against a stage."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from devserver import template
from tests.support.live import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer


def smoke(base_url: str, admin_password: str, *, timeout: str = "20") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ADMIN_EMAIL": ADMIN_EMAIL, "ADMIN_PASSWORD": admin_password}
    return subprocess.run(
        [sys.executable, "scripts/smoke.py", base_url, "--timeout", timeout],
        cwd=template.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_smoke_flow_passes_against_the_local_runtime(live: LiveServer) -> None:
    done = smoke(live.url, ADMIN_PASSWORD)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "All steps passed." in done.stdout
    assert done.stdout.count("  ok   ") == 23
    assert ADMIN_PASSWORD not in done.stdout + done.stderr


def test_the_smoke_flow_fails_and_says_where_when_a_step_is_wrong(live: LiveServer) -> None:
    done = smoke(live.url, "not-the-admin-password")

    assert done.returncode == 1
    assert "FAIL log in and read the profile" in done.stdout
    assert "POST /auth/login (admin): expected 200, got 401" in done.stderr
    assert "not-the-admin-password" not in done.stdout + done.stderr


def test_an_unreachable_base_url_is_a_failure_not_a_traceback() -> None:
    done = smoke("http://127.0.0.1:9", ADMIN_PASSWORD)

    assert done.returncode == 1
    assert "cannot reach http://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_request_that_times_out_says_how_to_allow_longer() -> None:
    with socket.socket() as silent:  # accepts connections and never answers, as a cold container can
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        done = smoke(f"http://127.0.0.1:{port}", ADMIN_PASSWORD, timeout="0.5")

    assert done.returncode == 1
    assert "timed out after 0.5 s" in done.stderr
    assert "SMOKE_TIMEOUT" in done.stderr
    assert "Traceback" not in done.stderr
