"""Domain events locally: table streams -> their function -> EventBridge, all inside the embedded moto.

As in AWS, and read from template.yaml like the routes: each AWS::Lambda::EventSourceMapping on a
table's stream gets its function invoked in-process with the stream's records that its
FilterCriteria let through, batch by batch, in the Lambda event format, resuming at the first
record the function reports as failed; each AWS::Events::EventBus is created in moto, where the
function publishes to it. A local-only rule on every bus copies what it accepts to a queue, so each
domain event is printed as it is published and the last ones can be read back (`recent()`, and the
printed lines for a runtime in a subprocess).

Each AWS::Events::Rule of the template that targets a function (the mailer) is made in moto too, with
its own event pattern, delivering to a queue of its own; the queue is pumped into the function in-process,
and a message whose invocation failed stays to be retried, as EventBridge and Lambda's async retries do.
What the function reports having sent (`{"sent": [{"to", "subject", ...}]}`) is printed, one line each.

The records are read from moto's stream shard under the lock every moto request holds, so a read
never sees half a transaction, and a cancelled transaction's records are gone by then
(devserver.flatmoto takes them back). Records handed on are dropped from the shard: moto keeps
every record for good (DynamoDB keeps them 24 hours), and going through its Streams API would also
keep every shard iterator it ever made, so `make run`'s memory would only grow.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from devserver import template
from devserver.console import say
from devserver.dynamodb import EmbeddedDynamoDB
from devserver.gateway import LambdaContext, instances

if TYPE_CHECKING:
    from moto.dynamodb.models.table import StreamShard
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

PRINTED = "domain event"  # the prefix of each published event's line
MAILED = "mail"  # the prefix of each e-mail's line
RETRY_SECONDS = 2  # a failed delivery to a rule's function is tried again this long after
_TAP = "local-domain-events-tap"
_EVERYTHING = json.dumps({"detail-type": [{"exists": True}]})


@dataclass(frozen=True)
class StreamMapping:
    table: str  # logical id of the table whose stream feeds the function
    function: template.Route  # only its function, code_dir and handler matter: it has no HTTP route
    batch_size: int
    filters: tuple[dict[str, Any], ...] = ()  # FilterCriteria patterns: a record matching none is never handed on

    def accepts(self, record: dict[str, Any]) -> bool:
        return not self.filters or any(matches(pattern, record) for pattern in self.filters)


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering, for the part of its pattern language the template uses: nested fields,
    each a list of exact values or `{"prefix": ...}`. Anything else is refused, never guessed at."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(key in value and matches(p, value[key]) for key, p in pattern.items())
    if not isinstance(pattern, list):
        raise ValueError(f"unsupported filter pattern {pattern!r}")
    for alternative in pattern:
        if isinstance(alternative, dict):
            if set(alternative) != {"prefix"}:
                raise ValueError(f"unsupported filter pattern {alternative!r}")
            if isinstance(value, str) and value.startswith(alternative["prefix"]):
                return True
        elif alternative == value:
            return True
    return False


def stream_mappings() -> list[StreamMapping]:
    found = []
    for mapping in template.resources("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        table, attribute = props["EventSourceArn"]["Fn::GetAtt"]
        if attribute == "StreamArn":
            # `Function.Alias` in AWS (the published `live` version); locally the function itself.
            function = template.functions()[props["FunctionName"]["Ref"].split(".")[0]]
            filters = tuple(json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", []))
            found.append(StreamMapping(table, function, int(props.get("BatchSize", 100)), filters))
    return found


@dataclass(frozen=True)
class RuleTarget:
    rule: str  # logical id of the AWS::Events::Rule
    bus: str  # logical id of the bus it listens on
    pattern: dict[str, Any]
    function: template.Route


def rule_targets() -> list[RuleTarget]:
    """The functions that rules on the template's buses invoke (the `live` alias in AWS)."""
    found = []
    for name, rule in template.resources("AWS::Events::Rule").items():
        props = rule["Properties"]
        bus = (props.get("EventBusName") or {}).get("Ref")
        for target in props.get("Targets", []):
            ref = target["Arn"].get("Ref", "") if isinstance(target["Arn"], dict) else ""
            if bus and ref.endswith(".Alias"):
                found.append(RuleTarget(name, bus, props["EventPattern"], template.functions()[ref.split(".")[0]]))
    return found


def bus_names(prefix: str) -> dict[str, str]:
    """Logical id -> local name of each EventBridge bus (a `Ref` to a bus is its name)."""
    return {logical: f"{prefix}-{logical}" for logical in template.resources("AWS::Events::EventBus")}


def environment(prefix: str, endpoint: str) -> dict[str, str]:
    """The stream and rule functions' own variables, resolved locally (parameters at their defaults, so
    mail off until the runtime turns it on; no SES configuration set), and moto as their EventBridge."""
    refs = {
        **template.parameters(),
        **dict.fromkeys(template.resources("AWS::SES::ConfigurationSet"), ""),
        **bus_names(prefix),
    }
    env = {"AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint}
    for function in [m.function for m in stream_mappings()] + [t.function for t in rule_targets()]:
        resource = template.load()["Resources"][function.function]
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        env.update({name: template.resolve(value, refs) for name, value in variables.items()})
    return env


class DomainEvents:
    """Pumps every mapped stream into its function and prints what reaches the buses, until stopped."""

    def __init__(
        self, db: EmbeddedDynamoDB, prefix: str, *, interval: float = 0.1, quiet: bool = False, keep: int = 200
    ) -> None:
        self.endpoint = db.endpoint
        self.prefix = prefix
        self.interval = interval
        self.quiet = quiet
        self._lock = db.lock
        self._recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="domain-events", daemon=True)
        self._events: EventBridgeClient = boto3.client("events", endpoint_url=self.endpoint)
        self._sqs: SQSClient = boto3.client("sqs", endpoint_url=self.endpoint)
        self._tap = ""
        self._idle_ticks = 0  # ticks that found nothing to hand on or print
        self._ticked = threading.Condition()
        self._mappings: list[tuple[StreamMapping, str]] = []  # with the ARN of the table's stream
        self._targets: list[tuple[RuleTarget, str]] = []  # with the URL of the rule's queue

    def start(self) -> DomainEvents:
        self._mappings = [(m, self._enable_stream(m.table)) for m in stream_mappings()]
        self._tap = self._sqs.create_queue(QueueName=f"{self.prefix}-{_TAP}")["QueueUrl"]
        attributes = self._sqs.get_queue_attributes(QueueUrl=self._tap, AttributeNames=["QueueArn"])["Attributes"]
        for bus in bus_names(self.prefix).values():
            if bus not in {b["Name"] for b in self._events.list_event_buses(NamePrefix=bus).get("EventBuses", [])}:
                self._events.create_event_bus(Name=bus)
            self._events.put_rule(Name=_TAP, EventBusName=bus, EventPattern=_EVERYTHING)
            targets = [{"Id": "tap", "Arn": attributes["QueueArn"]}]
            self._events.put_targets(Rule=_TAP, EventBusName=bus, Targets=targets)  # type: ignore[arg-type]
        self._targets = [(target, self._rule_queue(target)) for target in rule_targets()]
        self._thread.start()
        return self

    def _rule_queue(self, target: RuleTarget) -> str:
        """The rule, made on its bus in moto, delivering to a queue of its own; the queue's URL."""
        queue = f"{self.prefix}-rule-{target.rule}"
        url = self._sqs.create_queue(QueueName=queue, Attributes={"VisibilityTimeout": str(RETRY_SECONDS)})["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = bus_names(self.prefix)[target.bus]
        name = f"local-{target.rule}"
        self._events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(target.pattern))
        self._events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "function", "Arn": arn}])
        return url

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def settle(self, timeout: float = 10) -> None:
        """Wait until everything written so far has been handed on and printed: two idle ticks, so that
        one began after this call (or `timeout` seconds, when writes keep coming)."""
        with self._ticked:
            goal = self._idle_ticks + 2
            self._ticked.wait_for(lambda: self._idle_ticks >= goal or self._stop.is_set(), timeout)

    def recent(self) -> list[dict[str, Any]]:
        """The last domain events the buses accepted, oldest first, as EventBridge delivers them."""
        return list(self._recent)

    def _enable_stream(self, logical: str) -> str:
        """The table's stream ARN, turning its stream on as the template declares it (CreateTable is
        given the key schema only, so the same tables work on any local DynamoDB)."""
        dynamodb = boto3.client("dynamodb", endpoint_url=self.endpoint)
        name = f"{self.prefix}-{logical}"
        table = dynamodb.describe_table(TableName=name)["Table"]
        if table.get("StreamSpecification", {}).get("StreamEnabled"):
            return table["LatestStreamArn"]
        view = template.tables()[logical]["StreamSpecification"]["StreamViewType"]
        answer = dynamodb.update_table(
            TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view}
        )
        return answer["TableDescription"]["LatestStreamArn"]

    def _run(self) -> None:
        drain = True  # the tap may hold what an earlier runtime's bus delivered
        while not self._stop.wait(self.interval):
            idle = True
            for mapping, arn in self._mappings:
                if self._guarded(self._pump, mapping, arn) is not False:
                    drain, idle = True, False  # the bus delivers to the tap as it accepts an event
            if drain:  # until the tap is empty (it gives up to 10 at a time); an idle tick calls nothing
                drain = self._guarded(self._drain_tap) is not False
            for target, url in self._targets:
                if self._guarded(self._deliver, target, url) is not False:
                    idle = False
            with self._ticked:
                self._idle_ticks += not drain and idle
                self._ticked.notify_all()

    def _guarded(self, step: Callable[..., bool], *args: Any) -> bool | None:
        """The step's answer; None when it failed (it is retried on the next tick, as Lambda would)."""
        try:
            return step(*args)
        except Exception:  # noqa: BLE001 - a failing step is retried on the next tick, as Lambda would
            if not self._stop.is_set():
                traceback.print_exc()
            return None

    def _shard(self, logical: str) -> StreamShard | None:
        """The table's stream shard as moto holds it now (call under the lock: moto may swap the table)."""
        from moto.dynamodb.models import dynamodb_backends

        shard: StreamShard | None = _in_process(dynamodb_backends).tables[f"{self.prefix}-{logical}"].stream_shard
        return shard

    def _pump(self, mapping: StreamMapping, arn: str) -> bool:
        """Hand the next batch of the stream to its function; whether there was one."""
        with self._lock:
            shard = self._shard(mapping.table)
            pending = shard.items[: mapping.batch_size] if shard is not None else []
            batch = [_lambda_record(record.to_json(), arn) for record in pending]
        if not batch:
            return False
        # As Lambda does: records no filter matches are passed over without an invocation.
        wanted = [record for record in batch if mapping.accepts(record)]
        answer = self._invoke(mapping.function, {"Records": wanted}) if wanted else {}
        done = _resume_after(batch, answer)
        if done is not None:
            self._forget(mapping.table, int(done))
        return True

    def _forget(self, logical: str, done: int) -> None:
        """Drop the records up to sequence number `done` from the shard; the numbers of the records
        that stay and of those to come do not change."""
        with self._lock:
            shard = self._shard(logical)
            handed = done - shard.starting_sequence_number + 1 if shard is not None else 0
            if shard is not None and handed > 0:
                del shard.items[:handed]
                shard.starting_sequence_number += handed

    def _invoke(self, function: template.Route, event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(function_name=function.function, aws_request_id=f"stream-{time.time_ns()}")
        return instances(function).invoke(event, context) or {}

    def _deliver(self, target: RuleTarget, url: str) -> bool:
        """Hand what the rule's queue holds to its function, one event per invocation; whether it held any.
        A message is deleted once its invocation returned: a failed one is delivered again."""
        if not self._visible(url):
            return False
        messages = self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            try:
                answer = self._invoke(target.function, json.loads(message["Body"]))
            except Exception:  # noqa: BLE001 - retried after RETRY_SECONDS, as EventBridge would
                if not self._stop.is_set():
                    traceback.print_exc()
                continue
            self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            for sent in answer.get("sent", []):
                if not self.quiet:
                    say(f"{MAILED:<17}to {sent['to']}: {sent['subject']}")
        return bool(messages)

    @staticmethod
    def _visible(url: str) -> bool:
        """Whether the queue holds a message to receive now, asked of moto in this process: an idle tick
        then sends no request (each was ~2 ms of CPU, ten ticks a second for every rule)."""
        from moto.sqs.models import sqs_backends

        queue = _in_process(sqs_backends).queues.get(url.rsplit("/", 1)[-1])
        return queue is None or bool(queue.messages)

    def _drain_tap(self) -> bool:
        """Print and keep what the tap holds; whether it held anything."""
        messages = self._sqs.receive_message(QueueUrl=self._tap, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            published = json.loads(message["Body"])
            self._recent.append(published)
            if not self.quiet:
                say(f"{PRINTED:<17}{published['detail-type']} {json.dumps(published['detail'])}")
        if messages:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            self._sqs.delete_message_batch(QueueUrl=self._tap, Entries=entries)  # type: ignore[arg-type]
        return bool(messages)


def _in_process(backends: Any) -> Any:
    """The embedded moto's backend of a service (its server runs in this process)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID

    return backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION", "us-east-1")]


def _lambda_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A stream record as Lambda hands it to a function (creation time in epoch seconds), copied out of moto."""
    copied = copy.deepcopy(record)
    change = copied["dynamodb"]
    change["ApproximateCreationDateTime"] = int(change["ApproximateCreationDateTime"].timestamp())
    return {**copied, "eventSourceARN": arn}


def _resume_after(batch: list[dict[str, Any]], answer: dict[str, Any]) -> str | None:
    """The last sequence number done: before the first reported failure, or the whole batch."""
    failures = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
    done = None
    for record in batch:
        sequence: str = record["dynamodb"]["SequenceNumber"]
        if sequence in failures:
            return done
        done = sequence
    return done
