"""The DynamoDB client, item (de)serialisation, the table names, and transactions (their conflicts retried
by boxoffice.retry, and what their actions share, ALL_OLD)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache, partial
from hashlib import blake2b
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from boxoffice import aws, retry
from boxoffice.config import settings
from boxoffice.errors import EditTooLarge
from boxoffice.observability import metrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
MAX_BATCH_GET = 100  # keys per BatchGetItem call
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@cache
def client() -> DynamoDBClient:
    # Timeouts, botocore's retries and the request's budget: one policy for every client (boxoffice.aws).
    return aws.budgeted(boto3.client("dynamodb", endpoint_url=settings().dynamodb_endpoint_url, config=aws.config()))


def dump(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def load(raw: Mapping[str, Any]) -> Item:
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


def spread(text: str, over: int) -> int:
    """Which of `over` partition keys `text` (an id) goes to: a hash of the whole text, so the same for every
    write of it and even over the keys (a ULID's first symbols are its millisecond, shared by a rush)."""
    return int.from_bytes(blake2b(text.encode(), digest_size=4).digest(), "big") % over


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(now=x) -> {':now': {...}}."""
    return {f":{k}": _serializer.serialize(v) for k, v in named.items()}


@contextmanager
def aws_errors() -> Iterator[None]:
    """Anything DynamoDB fails with that the caller did not handle is a 503, logged once: THROTTLED when it
    throttled the call past botocore's retries, else SERVICE_UNAVAILABLE."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise _failure(exc, "DynamoDB call failed") from exc


def _failure(exc: ClientError | BotoCoreError, message: str) -> Exception:
    return aws.throttled(f"{message}: throttled") if aws.throttling(exc) else aws.unavailable(message)


def projection(attributes: Sequence[str] | None) -> dict[str, Any]:
    """A read's parameters that fetch `attributes` only (None: every attribute). Names go through
    placeholders: some (role, ...) are reserved words."""
    if attributes is None:
        return {}
    names = {f"#p{n}": name for n, name in enumerate(attributes)}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def get(
    table: str, key: Mapping[str, Any], *, consistent: bool = True, attributes: Sequence[str] | None = None
) -> Item | None:
    with aws_errors():
        raw = client().get_item(TableName=table, Key=dump(key), ConsistentRead=consistent, **projection(attributes))
    return load(raw["Item"]) if "Item" in raw else None


def batch_get(
    requests: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    attributes: Mapping[str, Sequence[str]] | None = None,
    consistent: bool = True,
) -> dict[str, list[Item]]:
    """BatchGetItem over several tables (strongly consistent unless not `consistent`), 100 keys a call, asking
    unprocessed keys again (throttled: retry.once); `attributes` names what to read of a table's items (the
    others: every attribute)."""
    waiting = [(table, dump(key)) for table, keys in requests.items() for key in keys]
    found: dict[str, list[Item]] = {table: [] for table in requests}

    def read() -> dict[str, list[Item]]:
        nonlocal waiting
        while waiting:
            chunk, rest = waiting[:MAX_BATCH_GET], waiting[MAX_BATCH_GET:]
            pending: dict[str, Any] = {}
            for table, key in chunk:
                read = projection((attributes or {}).get(table))
                pending.setdefault(table, {"Keys": [], "ConsistentRead": consistent, **read})["Keys"].append(key)
            with aws_errors():
                raw = client().batch_get_item(RequestItems=pending)
            for table, items in raw.get("Responses", {}).items():
                found[table].extend(load(i) for i in items)
            unprocessed = [(t, k) for t, left in (raw.get("UnprocessedKeys") or {}).items() for k in left["Keys"]]
            waiting = unprocessed + rest
            if unprocessed:
                raise retry.Throttled()  # asked again (what was read is kept) after a pause
        return found

    return retry.once(read)


MAX_TRANSACT_GET = 100  # items per TransactGetItems call


def transact_get(table: str, keys: Sequence[Mapping[str, Any]]) -> list[Item]:
    """The items of `keys` that exist, by TransactGetItems: each call a serialisable snapshot (100 keys a
    call). A conflict with a write in flight is a retry.Conflict (retry.once), as for a transaction."""

    def read() -> list[Item]:
        found: list[Item] = []
        for start in range(0, len(keys), MAX_TRANSACT_GET):
            chunk = [{"Get": {"TableName": table, "Key": dump(k)}} for k in keys[start : start + MAX_TRANSACT_GET]]
            try:
                raw = client().transact_get_items(TransactItems=chunk)  # type: ignore[arg-type]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                    raise retry.Conflict() from None
                raise aws.unavailable("TransactGetItems failed") from exc
            except BotoCoreError as exc:
                raise aws.unavailable("TransactGetItems failed") from exc
            found += [load(r["Item"]) for r in raw.get("Responses", []) if r.get("Item")]
        return found

    return retry.once(read)


class Cancelled(Exception):
    """A transaction lost a condition. reasons[i] is (code, old item or None) for action i; Transaction
    reads them by its actions' names (Failed)."""

    # A plain class, not a frozen dataclass: Python sets __traceback__ on an exception as it
    # leaves a `with` block, which a frozen (slotted) dataclass refuses with a TypeError.
    def __init__(self, reasons: list[tuple[str, Item | None]]) -> None:
        super().__init__("transaction cancelled by a condition")
        self.reasons = reasons


def transact(actions: Sequence[Mapping[str, Any]]) -> None:
    """Run one TransactWriteItems; a conflict or throttling is a retry.Conflict (retry.once: the running
    retry's step goes round again, else the transaction alone is sent again), and outlasting them 409 BUSY
    (503 THROTTLED when the last was throttled: nothing was written).

    A lost condition raises Cancelled with each action's reason (and old item, when the action
    asked for ALL_OLD), so the caller can tell which rule failed without a second, racy read.
    """
    retry.once(partial(_transact_once, actions))


def _transact_once(actions: Sequence[Mapping[str, Any]]) -> None:
    try:
        # botocore resends the same request after a timeout or a 5xx; had the first one committed,
        # the resend would lose its own conditions (a cancel "already cancelled", a booking's ids
        # "taken"). With a token DynamoDB answers the resend as the first. A new token per attempt
        # of ours: a conflict-cancelled transaction is a new request when it is retried.
        client().transact_write_items(
            TransactItems=list(actions),  # type: ignore[arg-type]
            ClientRequestToken=str(uuid.uuid4()),
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") != "TransactionCanceledException":
            raise _failure(exc, "TransactWriteItems failed") from exc
        reasons = [
            (r.get("Code", "None"), load(r["Item"]) if "Item" in r else None)
            for r in exc.response.get("CancellationReasons", [])
        ]
        codes = {code for code, _ in reasons}
        if "ConditionalCheckFailed" in codes:
            raise Cancelled(reasons) from None
        if "TransactionConflict" in codes:
            metrics.add_metric(name="TransactionConflictRetries", unit="Count", value=1)
            raise retry.Conflict() from None
        if codes & {"ThrottlingError", "ProvisionedThroughputExceeded"}:  # an item's partition or its table
            metrics.add_metric(name="TransactionThrottledRetries", unit="Count", value=1)
            raise retry.Throttled() from None
        raise aws.unavailable("Transaction cancelled", reasons=sorted(codes)) from exc
    except BotoCoreError as exc:
        raise aws.unavailable("TransactWriteItems failed") from exc


class Failed(Exception):
    """A named transaction lost a condition: which actions failed, and their items as DynamoDB saw them."""

    def __init__(self, reasons: dict[str, tuple[str, Item | None]]) -> None:  # plain, as Cancelled
        super().__init__("transaction cancelled by a condition")
        self.reasons = reasons

    def failed(self, name: str) -> bool:
        return self.reasons.get(name, ("None", None))[0] == "ConditionalCheckFailed"

    def old(self, name: str) -> Item | None:
        return self.reasons.get(name, ("None", None))[1]


# An action's parameters that make a lost condition hand back the item as DynamoDB saw it (Failed.old).
ALL_OLD: Final[Mapping[str, str]] = MappingProxyType({"ReturnValuesOnConditionCheckFailure": "ALL_OLD"})


# The tables by role, named by the environment (template.yaml); read at call time, settings being cached.
def users_table() -> str:
    return settings().users_table


def events_table() -> str:
    return settings().events_table


def bookings_table() -> str:
    return settings().bookings_table


def tickets_table() -> str:
    return settings().tickets_table


MAX_ACTIONS: Final = 100  # per TransactWriteItems


class Transaction:
    """One TransactWriteItems built from named actions, so that a failure is read by name, never by
    position: adding an action never changes what another's failure means."""

    def __init__(self) -> None:
        self._actions: dict[str, Mapping[str, Any]] = {}
        self._refusals: dict[str, Callable[[], Exception]] = {}

    def add(
        self, name: str, action: Mapping[str, Any], *, refused: Callable[[], Exception] | None = None
    ) -> Transaction:
        """Add a named action; with `refused`, its failure is that error, whatever else failed (a check that
        says why the whole request is refused, such as the caller's token: its callers need not map it)."""
        if name in self._actions:
            raise ValueError(f"two actions named {name!r}")
        self._actions[name] = action
        if refused is not None:
            self._refusals[name] = refused
        return self

    def __len__(self) -> int:
        return len(self._actions)

    def check_size(self) -> None:
        """EditTooLarge (nothing written) if it has more actions than DynamoDB takes in one transaction: for an
        admin's edit, which copies a change to each of an event's stock shards; called before any write that
        goes beside the transaction (search.write)."""
        if len(self._actions) > MAX_ACTIONS:
            raise EditTooLarge(len(self._actions), MAX_ACTIONS)

    def commit(self) -> None:
        """Run it (see transact); a lost condition raises the refusal of a failed action that has one, else Failed."""
        try:
            transact(list(self._actions.values()))
        except Cancelled as exc:
            failed = Failed(dict(zip(self._actions, exc.reasons, strict=False)))
            for name, refusal in self._refusals.items():
                if failed.failed(name):
                    raise refusal() from None
            raise failed from None
