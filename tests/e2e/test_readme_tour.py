"""The README's quick tour, run as a newcomer pastes it into bash against `make run`: it cannot rot."""

from __future__ import annotations

import os
import subprocess

from tests.support import readme
from tests.support.live import ADMIN_PASSWORD, start_live_server


def test_the_quick_tour_runs_as_written_against_the_local_runtime_and_again() -> None:
    (tour,) = readme.code_blocks(readme.section("## A quick tour"), "bash")
    server = start_live_server()
    try:
        port = server.url.rsplit(":", 1)[1]
        env = {**os.environ, "PORT": port, "ADMIN_PASSWORD": ADMIN_PASSWORD}
        for _ in range(2):  # a second run works as well as the first
            # -e and pipefail: a step that fails (an answer without the field it picks) stops the tour.
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", tour], env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stdout + done.stderr
            shown = done.stdout.splitlines()
            assert "CANCELLED" in shown
            assert shown[-3:-1] == ["CHECKED_IN", "ALREADY_CHECKED_IN"]
            assert '"checked_in":' in shown[-1]
    finally:
        server.stop()
