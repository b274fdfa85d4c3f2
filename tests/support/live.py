"""The local runtime as a subprocess (exactly what `make run` starts), for end-to-end tests over HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from devserver import template
from tests.support.conformance import check_response

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-e2e"
# For a runtime whose test needs no sample event: a start a second quicker (no seeding, no domain events of it).
NO_SAMPLES = {"SAMPLE_DATA": "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[str]
    url: str
    dynamodb_endpoint: str
    output: list[str] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)
    scratch_dir: str = ""  # its data folder, when made for it alone

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)
        check_response(response)
        return response

    def login(self, email: str, password: str) -> str:
        response = self.request("POST", "/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def fan(self) -> str:
        """The token of a new account."""
        email = f"fan-{uuid.uuid4().hex[:10]}@example.com"
        body = {"name": "Fan", "email": email, "password": "fan password"}
        assert self.request("POST", "/auth/register", json=body).ok
        return self.login(email, "fan password")

    def admin_token(self) -> str:
        return self.login(ADMIN_EMAIL, ADMIN_PASSWORD)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.scratch_dir:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)


def start_live_server(extra_env: dict[str, str] | None = None, timeout: float = 60) -> LiveServer:
    # Port 0: the runtime binds a free port itself and prints it, so parallel workers never collide.
    port = (extra_env or {}).get("PORT") or "0"
    inherited = {k: v for k, v in os.environ.items() if k != "DYNAMODB_ENDPOINT_URL"}
    scratch = "" if "LOCAL_DATA_DIR" in (extra_env or {}) else tempfile.mkdtemp(prefix="devserver-data-")
    env = {
        **inherited,
        "LOCAL_DATA_DIR": scratch,  # never the developer's own data (unless extra_env names a folder)
        "PORT": port,
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "BCRYPT_ROUNDS": "4",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "devserver"],
        cwd=template.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    endpoint = url = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("Box office API"):
            url = line.split()[-1].replace("localhost", "127.0.0.1")
        if line.startswith("DynamoDB"):
            endpoint = line.split()[1]
        if "Ctrl-C to stop" in line:
            server = LiveServer(process, url, endpoint, lines, scratch_dir=scratch)
            # Keep draining its output: a full pipe would block the server mid-request.
            threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True).start()
            return server
    process.kill()
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    raise RuntimeError("devserver did not start:\n" + "\n".join(lines))


def _drain(stream: Any, lines: list[str], keep: int = 1000) -> None:
    for line in stream:
        lines.append(line.rstrip())
        del lines[:-keep]
