"""Cold start of every function: init (import and module setup, Lambda's INIT phase) and the first
request (the validating resolver builds its per-route state then, and the DynamoDB client is made),
each in a fresh interpreter against the embedded DynamoDB, beside two baselines run the same way:

- floor: boto3 and a DynamoDB client, one GetItem per request;
- bare framework: the floor plus the mandated stack with nothing of ours (Powertools' validating
  APIGatewayHttpResolver, a pydantic body model, Logger and Metrics decorators, one trivial route).

"over framework" is our share: what each function costs beyond the bare framework (target <= 10%).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from devserver import template
from devserver.gateway import build_event
from devserver.invoke import EVENTS
from scripts.bench.common import local_stack, median_ms, table

RUNS = 11
LAYER = template.ROOT / "layers" / "shared"
# What Lambda has: the layer's requirements plus boto3, nothing from the dev tools (moto pulls in
# cryptography, which PyJWT would then import). `make bench` builds it; override with BENCH_PYTHON.
PYTHON = os.environ.get("BENCH_PYTHON") or str(template.ROOT / ".venv-bench" / "bin" / "python")
# Layers beyond the shared one are installed (by `make bench`) under .venv-bench/<their ContentUri> and
# put on the path only of the functions that carry them, as Lambda does.
LAYERS = Path(os.environ.get("BENCH_LAYERS") or template.ROOT / ".venv-bench")
FLOOR, FRAMEWORK = "floor: boto3 + DynamoDB client", "bare framework"
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "bench-password"

# Lambda imports the handler module as a top-level module from the code directory, the layer on sys.path.
_PROBE = """
import json, sys, time, importlib.util
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module  # as Lambda's runtime imports it
spec.loader.exec_module(module)
initialised = time.perf_counter()


class Context:
    function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "bench", 512, "", "bench"

    def get_remaining_time_in_millis(self):
        return 30_000  # as the local runtime gives: the embedded DynamoDB may queue a call for seconds


response = module.handler(json.loads(open(sys.argv[2]).read()), Context())
answered = time.perf_counter()
print("BENCH", initialised - start, answered - initialised, response.get("statusCode", 200))
"""

_FLOOR = """import os

import boto3

client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT_URL"])


def handler(event, context):
    client.get_item(TableName=os.environ["USERS_TABLE"], Key={"pk": {"S": "USER#bench"}})
    return {"statusCode": 200}
"""

_FRAMEWORK = """import os

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel

client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT_URL"])
logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)


class Body(BaseModel):
    name: str


@app.post("/echo")
def echo(body: Body) -> Body:
    client.get_item(TableName=os.environ["USERS_TABLE"], Key={"pk": {"S": "USER#bench"}})
    return body


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event, context):
    return app.resolve(event, context)
"""


@dataclass(frozen=True)
class Target:
    module: Path
    request: Callable[[], dict[str, Any]]  # a fresh API Gateway event for each run
    layers: tuple[str, ...] = ()  # the function's own layers, beyond the shared one
    env: tuple[tuple[str, str], ...] = ()  # its own variables, beyond the runtime's


@dataclass(frozen=True)
class Sample:
    init: float
    first_request: float
    status: int


def _admin_token() -> str:
    from boxoffice import auth
    from boxoffice.logic import accounts
    from boxoffice.vocabulary import Role

    user = accounts.create_account("Bench", ADMIN_EMAIL, ADMIN_PASSWORD, role=Role.ADMIN)
    return auth.issue_token(user.id, Role.ADMIN, 0)[0]


def _fresh_ids(token: str) -> dict[str, str]:
    """An event, a booking and a hold of it, new for each run (a DELETE finds something to delete every
    time), and the other ids a route's path may name."""
    from boxoffice import auth, clock
    from boxoffice.logic import bookings, holds
    from boxoffice.models.bookings import BookingRequest
    from boxoffice.models.events import CreateEvent
    from scripts.seed_events import import_events

    starts = (clock.now() + timedelta(days=30)).replace(microsecond=0).isoformat()
    # The bulk loader: unconditional writes, so a call that moto answers late and botocore retries
    # (moto ignores ClientRequestToken) cannot fail on the first attempt's own write.
    (event,) = import_events(
        [
            CreateEvent.model_validate(
                {
                    "name": "Bench Night",
                    "venue": "Hall",
                    "starts_at": starts,
                    "total_tickets": 100,
                    "ticket_price": "25",
                }
            )
        ]
    )
    admin = auth.read_token(f"Bearer {token}")
    booking = bookings.book(admin, event.id, BookingRequest(quantity=1)).booking
    return {
        "event_id": event.id,
        "booking_id": booking.id,
        "ticket_number": booking.tickets[0].ticket_number,
        "ticket_type_id": event.ticket_types[0].id,
        "hold_id": holds.place_hold(admin, event.id, BookingRequest(quantity=1)).hold.id,
        "user_id": admin.user_id,
        # Nobody waits for a new event: leaving reads the entry's key and answers 404.
        "entry_id": f"{event.id}.{'0' * 26}",
    }


def _request_for(route: template.Route, token: str) -> Callable[[], dict[str, Any]]:
    """The route's events/ sample body (any email and password made the bench admin's), with real ids."""
    sample = EVENTS / f"{route.code_dir.name}.json"
    body: Any = json.loads(json.loads(sample.read_text()).get("body") or "null") if sample.exists() else None
    if isinstance(body, dict) and "email" in body:
        body.update(email=ADMIN_EMAIL, password=ADMIN_PASSWORD)

    def request() -> dict[str, Any]:
        ids = _fresh_ids(token)
        if isinstance(body, dict):  # the sample's ticket type and number are another event's: use this one's
            body.update({name: ids[name] for name in ("ticket_type_id", "ticket_number") if name in body})
        raw = json.dumps(body).encode() if body is not None else b""
        path = "/no/such/route" if route.path == "$default" else route.path.format(**ids)
        params = {name: value for name, value in ids.items() if "{" + name + "}" in route.path}
        method = "GET" if route.method == "ANY" else route.method
        headers = [("authorization", f"Bearer {token}"), ("content-type", "application/json")]
        return build_event(method, path, headers, raw, route, params, "203.0.113.10")

    return request


def _mail_request(token: str) -> Callable[[], dict[str, Any]]:
    """A fresh booking's BookingConfirmed, as the bus's rule hands it to the mailer (the runtime's outbox:
    the mail is rendered, PDF and all, and written as an .eml instead of going to SES). Its id is its own,
    so that no earlier delivery's sent-marker makes it a repeat that sends nothing."""

    def request() -> dict[str, Any]:
        ids = _fresh_ids(token)
        detail = {"id": f"BookingConfirmed:{ids['booking_id']}:bench", "version": 1, "event_id": ids["event_id"]}
        detail |= {"user_id": ids["user_id"], "booking_id": ids["booking_id"], "quantity": 1}
        return {"source": "boxoffice", "detail-type": "BookingConfirmed", "detail": detail}

    return request


def _echo_request() -> dict[str, Any]:
    route = template.Route("POST", "/echo", "Framework", EVENTS, "app.handler")
    return build_event("POST", "/echo", [("content-type", "application/json")], b'{"name": "x"}', route, {}, "::1")


def _layer_paths(function: str) -> tuple[str, ...]:
    """Where the function's own layers (beyond the shared one, already on the path) are installed."""
    layers = template.resources("AWS::Serverless::LayerVersion")
    refs = template.resources("AWS::Serverless::Function")[function]["Properties"].get("Layers", [])
    return tuple(str(LAYERS / layers[ref["Ref"]]["Properties"]["ContentUri"]) for ref in refs if "Ref" in ref)


def _once(target: Target, env: dict[str, str], scratch: Path) -> Sample:
    event_file = scratch / "event.json"
    event_file.write_text(json.dumps(target.request()))
    path = os.pathsep.join([str(LAYER), *target.layers])
    out = subprocess.run(
        [PYTHON, "-c", _PROBE, str(target.module), str(event_file)],
        env={**env, **dict(target.env), "PYTHONPATH": path},
        capture_output=True,
        text=True,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if out.returncode or line is None or int(line.split()[3]) >= 500:  # a failed request is no cold start
        raise RuntimeError(f"{target.module} failed:\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
    _, init, first, status = line.split()
    return Sample(float(init), float(first), int(status))


def _over(value: float, base: float) -> str:
    return f"{(value / base - 1) * 100:+.0f}%"


def run() -> str:
    with local_stack() as runtime, tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        (scratch / "floor.py").write_text(_FLOOR)
        (scratch / "framework.py").write_text(_FRAMEWORK)
        env = {
            **os.environ,
            **runtime.environment(),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        token = _admin_token()
        targets = {
            FLOOR: Target(scratch / "floor.py", _echo_request),
            FRAMEWORK: Target(scratch / "framework.py", _echo_request),
        }
        for route in sorted(template.routes(), key=lambda r: r.code_dir.name):
            module = route.code_dir / f"{route.handler.rsplit('.', 1)[0].replace('.', '/')}.py"
            targets.setdefault(
                route.code_dir.name, Target(module, _request_for(route, token), _layer_paths(route.function))
            )
        mailer = template.functions()["SendMailFunction"]
        targets["send_mail (BookingConfirmed)"] = Target(
            mailer.code_dir / "app.py", _mail_request(token), _layer_paths(mailer.function), (("MAIL_ENABLED", "true"),)
        )
        samples: dict[str, list[Sample]] = {name: [] for name in targets}
        started = time.perf_counter()
        # Round-robin, so that the machine's drift over the run falls on every target alike; the
        # first round warms the filesystem and bytecode caches and is dropped.
        for round_number in range(RUNS + 1):
            for name, target in targets.items():
                sample = _once(target, env, scratch)
                if round_number:
                    samples[name].append(sample)
        elapsed = time.perf_counter() - started

    def medians(name: str) -> tuple[float, float, float]:
        measured = samples[name]
        return (
            median_ms([s.init for s in measured]),
            median_ms([s.first_request for s in measured]),
            median_ms([s.init + s.first_request for s in measured]),
        )

    floor_cold = medians(FLOOR)[2]
    base_init, _, base_cold = medians(FRAMEWORK)
    rows = []
    for name in samples:
        init, first, cold = medians(name)
        status = str(samples[name][-1].status)
        rows.append(
            [name, status, f"{init:.0f}", f"{first:.0f}", f"{cold:.0f}", f"{cold / floor_cold:.2f}"]
            + ([_over(init, base_init), _over(cold, base_cold)] if name not in (FLOOR, FRAMEWORK) else ["", ""])
        )
    version = subprocess.run([PYTHON, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    header = (
        f"Cold start, median of {RUNS} fresh interpreters ({version}, layer requirements + boto3 only; "
        f"embedded DynamoDB; {elapsed:.0f} s), ms. cold = init + first request; target: over framework <= +10%"
    )
    columns = ["function", "status", "init", "1st request", "cold", "x floor", "init over fw", "cold over fw"]
    return header + "\n" + table(columns, rows)


if __name__ == "__main__":
    print(run())
