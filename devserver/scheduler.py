"""Scheduled functions locally: each `Type: Schedule` event of template.yaml runs its function on its rate.

Read from the template like the routes. Only `rate(N unit)` schedules are understood (what the
template uses); the function gets the event EventBridge sends a scheduled target.
"""

from __future__ import annotations

import re
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devserver import template
from devserver.console import say
from devserver.gateway import LambdaContext, instances

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Schedule:
    function: template.Route
    rule: str  # the event's logical name, as the rule EventBridge would make
    every: float  # seconds


def seconds(expression: str) -> float:
    """`rate(1 minute)` -> 60."""
    found = _RATE.match(expression)
    if not found:
        raise ValueError(f"unsupported schedule {expression!r}: only rate(N unit) runs locally")
    return int(found.group(1)) * _SECONDS[found.group(2).rstrip("s")]


def schedules() -> list[Schedule]:
    functions = template.functions()
    found = []
    for name, resource in template.resources("AWS::Serverless::Function").items():
        for event_name, event in resource["Properties"].get("Events", {}).items():
            if event["Type"] == "Schedule":
                found.append(Schedule(functions[name], f"{name}{event_name}", seconds(event["Properties"]["Schedule"])))
    return found


def scheduled_event(rule: str, at: datetime) -> dict[str, Any]:
    """What EventBridge hands a scheduled Lambda target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule}"],
        "detail": {},
    }


def run(schedule: Schedule, at: datetime) -> Any:
    """One run of a scheduled function, as EventBridge would invoke it at `at`; what it returned."""
    event = scheduled_event(schedule.rule, at)
    context = LambdaContext(function_name=schedule.function.function, aws_request_id=event["id"])
    return instances(schedule.function).invoke(event, context)


class Scheduler:
    """Runs every scheduled function on its rate (first run one period after start) until stopped."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(s,), name=f"schedule-{s.rule}", daemon=True) for s in schedules()
        ]

    def start(self) -> Scheduler:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self, schedule: Schedule) -> None:
        due = time.monotonic() + schedule.every
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            due += schedule.every
            try:
                result = run(schedule, datetime.now(UTC))
            except Exception:  # noqa: BLE001 - a failed run is logged; the next one comes on time, as in AWS
                traceback.print_exc()
                continue
            if not self.quiet:
                say(f"{'scheduled':<17}{schedule.function.function} {result}")
