"""The users table: accounts and email claims (its password-check counters are store/throttle.py's).

Items (partition key `pk`, no sort key):
  USER#<id>      the account: id, full_name ("name" is a reserved word), email, role, password_hash,
                 token_version, created_at, updated_at
  EMAIL#<email>  claims a normalised email for one user id (unique by a conditional put)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from boxoffice import clock
from boxoffice.config import settings
from boxoffice.errors import EmailTaken, NotAuthenticated
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


def _table() -> str:
    return settings().users_table


def user_key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}"}


def _email_key(email: str) -> dict[str, str]:
    return {"pk": f"EMAIL#{email}"}


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


def find_id(email: str) -> str | None:
    """The id of the account that claimed `email` (one GetItem)."""
    claim = dynamo.get(_table(), _email_key(email))
    return str(claim["user_id"]) if claim else None


def find_by_email(email: str) -> UserRecord | None:
    user_id = find_id(email)
    return get(user_id) if user_id else None


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


def set_role(user_id: str, role: str) -> bool:
    """Give the account `role`. A change bumps token_version: tokens carry the role, and every older one
    must stop working at once. False (and nothing written) when it has that role or does not exist."""
    with aws_errors():
        try:
            client().update_item(
                TableName=_table(),
                Key=dump(user_key(user_id)),
                UpdateExpression="SET #role = :role, updated_at = :now, token_version = token_version + :one",
                ConditionExpression="attribute_exists(pk) AND #role <> :role",
                ExpressionAttributeNames={"#role": "role"},  # a reserved word
                ExpressionAttributeValues=values(role=role, now=clock.now().isoformat(), one=1),
            )
        except client().exceptions.ConditionalCheckFailedException:
            return False
    return True


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
