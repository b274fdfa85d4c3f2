"""The users table: accounts, email claims and login-failure counters.

Items (partition key `pk`, no sort key):
  USER#<id>      the account: id, full_name ("name" is a reserved word), email, role, password_hash,
                 token_version, created_at, updated_at
  EMAIL#<email>  claims a normalised email for one user id (unique by a conditional put)
  LOGIN#<email>  failed logins in the current window: failures, window_start (epoch seconds)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.errors import Busy, EmailTaken, NotAuthenticated
from boxoffice.store import dynamo
from boxoffice.store.dynamo import Cancelled, aws_errors, client, dump, load, values


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    name: str
    email: str
    role: str
    password_hash: str = field(repr=False)  # never in a log line, even one that prints the record
    token_version: int
    created_at: datetime

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> UserRecord:
        return cls(
            id=item["id"],
            name=item["full_name"],
            email=item["email"],
            role=item["role"],
            password_hash=item["password_hash"],
            token_version=int(item["token_version"]),
            created_at=datetime.fromisoformat(item["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class LoginFailures:
    failures: int
    window_start: int


def _table() -> str:
    return settings().users_table


def user_key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}"}


def _email_key(email: str) -> dict[str, str]:
    return {"pk": f"EMAIL#{email}"}


def _login_key(email: str) -> dict[str, str]:
    return {"pk": f"LOGIN#{email}"}


def create(user: UserRecord) -> None:
    """Put the account and claim its email in one transaction: two racing sign-ups, one winner."""
    item = {
        **user_key(user.id),
        "id": user.id,
        "full_name": user.name,
        "email": user.email,
        "role": user.role,
        "password_hash": user.password_hash,
        "token_version": user.token_version,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.created_at.isoformat(),
    }
    new = "attribute_not_exists(pk)"
    try:
        dynamo.transact(
            [
                {"Put": {"TableName": _table(), "Item": dump(item), "ConditionExpression": new}},
                {
                    "Put": {
                        "TableName": _table(),
                        "Item": dump({**_email_key(user.email), "user_id": user.id}),
                        "ConditionExpression": new,
                    }
                },
            ]
        )
    except Cancelled as exc:
        raise EmailTaken() from exc


def get(user_id: str) -> UserRecord | None:
    item = dynamo.get(_table(), user_key(user_id))
    return UserRecord.from_item(item) if item else None


def find_for_login(email: str) -> tuple[str | None, LoginFailures | None]:
    """One BatchGetItem: the user id owning the email and its recent login failures."""
    found = dynamo.batch_get({_table(): [_email_key(email), _login_key(email)]})[_table()]
    by_pk = {item["pk"]: item for item in found}
    claim = by_pk.get(_email_key(email)["pk"])
    counter = by_pk.get(_login_key(email)["pk"])
    failures = LoginFailures(int(counter["failures"]), int(counter["window_start"])) if counter else None
    return (claim["user_id"] if claim else None), failures


def record_login_failure(email: str, now: int) -> int:
    """Count a failure in the current window (or open a new one); returns the count.

    The window's expiry is checked here in code: moto never expires TTL items, and DynamoDB's
    TTL deletes lazily (up to days later), so `expires_at` only keeps the table tidy.
    """
    window = settings().login_window_seconds
    cutoff = values(cutoff=now - window)
    failed = client().exceptions.ConditionalCheckFailedException
    with aws_errors():
        # Racing failures must all count: every write is conditional, and a lost race goes round again.
        for _ in range(3):
            try:
                raw = client().update_item(
                    TableName=_table(),
                    Key=dump(_login_key(email)),
                    UpdateExpression="ADD failures :one SET window_start = if_not_exists(window_start, :now), "
                    "expires_at = if_not_exists(expires_at, :expires)",
                    ConditionExpression="attribute_not_exists(pk) OR window_start > :cutoff",
                    ExpressionAttributeValues={**cutoff, **values(one=1, now=now, expires=now + window)},
                    ReturnValues="ALL_NEW",
                )
                return int(load(raw["Attributes"])["failures"])
            except failed:
                pass  # the window is over: start a new one, unless a racing failure already has
            try:
                client().put_item(
                    TableName=_table(),
                    Item=dump({**_login_key(email), "failures": 1, "window_start": now, "expires_at": now + window}),
                    ConditionExpression="window_start <= :cutoff",
                    ExpressionAttributeValues=cutoff,
                )
                return 1
            except failed:
                continue
    raise Busy()


def clear_login_failures(email: str) -> None:
    with aws_errors():
        client().delete_item(TableName=_table(), Key=dump(_login_key(email)))


def update(user: UserRecord, *, name: str | None, password_hash: str | None) -> UserRecord:
    """Change the profile if the caller's token is still current; a new password bumps the token version."""
    sets = ["updated_at = :now"]
    named: dict[str, Any] = {"now": clock.now().isoformat(), "ver": user.token_version}
    if name is not None:
        sets.append("full_name = :name")
        named["name"] = name
    if password_hash is not None:
        sets += ["password_hash = :hash", "token_version = token_version + :one"]
        named.update(hash=password_hash, one=1)
    with aws_errors():
        try:
            raw = client().update_item(
                TableName=_table(),
                Key=dump(user_key(user.id)),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="token_version = :ver",
                ExpressionAttributeValues=values(**named),
                ReturnValues="ALL_NEW",
            )
        except client().exceptions.ConditionalCheckFailedException as exc:
            raise NotAuthenticated("The token was revoked by a password change.") from exc
    return UserRecord.from_item(load(raw["Attributes"]))


def current_check(user_id: str, token_version: int) -> dict[str, Any]:
    """A transaction action that holds only while the caller's token is current."""
    return {
        "ConditionCheck": {
            "TableName": _table(),
            "Key": dump(user_key(user_id)),
            "ConditionExpression": "token_version = :ver",
            "ExpressionAttributeValues": values(ver=token_version),
        }
    }
