"""The Makefile as a newcomer meets it: `make help` reads plainly, and the operations pass their knobs on."""

from __future__ import annotations

import subprocess

from devserver import template


def make(*args: str) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=template.ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_help_shows_no_unexpanded_make_or_shell_syntax() -> None:
    shown = make("help")
    assert "make run" in shown
    assert "$" not in shown, shown


def test_make_smoke_passes_a_request_timeout_default_30_seconds() -> None:
    assert "--timeout 30" in make("-n", "smoke", "BASE_URL=http://127.0.0.1:3000")
    assert "--timeout 60" in make("-n", "smoke", "BASE_URL=http://127.0.0.1:3000", "SMOKE_TIMEOUT=60")


def test_make_sam_local_passes_sam_local_args_to_start_api() -> None:
    # -o: the virtualenv and the build count as made, so -n prints this target's own command alone.
    shown = make("-n", "-o", ".venv/bin/.installed", "-o", "build", "sam-local", "SAM_LOCAL_ARGS=--skip-pull-image")
    assert "scripts.sam_local" in shown
    assert "--skip-pull-image" in shown
