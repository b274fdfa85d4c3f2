"""The users table: accounts, email claims and the admin count (its password-check counters are
store/throttle.py's). Keys and attributes: docs/data-model.md, "users".

An email is unique by a conditional put of its claim, and every change of the number of admins moves
the count in the same transaction (a demotion only while it stays >= 1), so two admins demoting each
other at once cannot leave none.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from boxoffice import clock, retry
from boxoffice.errors import EmailTaken, LastAdmin, NotAuthenticated, UserNotFound
from boxoffice.store import dynamo
from boxoffice.store.dynamo import (
    ALL_OLD,
    Failed,
    Item,
    Transaction,
    aws_errors,
    client,
    dump,
    load,
    users_table,
    values,
)
from boxoffice.vocabulary import Principal, Role, UserRecord


def user_of(item: dict[str, Any]) -> UserRecord:
    return UserRecord(
        id=item["id"],
        name=item["full_name"],
        email=item["email"],
        role=Role(item["role"]),
        password_hash=item.get("password_hash"),
        token_version=int(item["token_version"]),
        created_at=datetime.fromisoformat(item["created_at"]),
    )


# What every function but login and the password change reads of the users table: an account without
# its password_hash, and an email claim's user_id. Their IAM grants allow these attributes only
# (dynamodb:Attributes in template.yaml; tests/unit/test_template.py keeps the two lists the same).
READABLE = ("pk", "id", "full_name", "email", "role", "token_version", "created_at", "user_id")


def readable() -> dict[str, tuple[str, ...]]:
    """batch_get's `attributes` for reads of the users table that need no password hash."""
    return {users_table(): READABLE}


def user_key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}"}


def _email_key(email: str) -> dict[str, str]:
    return {"pk": f"EMAIL#{email}"}


_ADMINS_KEY = {"pk": "ADMINS"}


def _count_admins(delta: int) -> dict[str, Any]:
    """A transaction action moving the admin count; taking one away needs another to remain."""
    update: dict[str, Any] = {
        "TableName": users_table(),
        "Key": dump(_ADMINS_KEY),
        "UpdateExpression": "ADD admins :delta",
        "ExpressionAttributeValues": values(delta=delta),
    }
    if delta < 0:
        update["ConditionExpression"] = "admins > :one"
        update["ExpressionAttributeValues"] |= values(one=1)
    return {"Update": update}


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
    tx = Transaction().add(
        "account", {"Put": {"TableName": users_table(), "Item": dump(item), "ConditionExpression": new}}
    )
    tx.add(
        "email",
        {
            "Put": {
                "TableName": users_table(),
                "Item": dump({**_email_key(user.email), "user_id": user.id}),
                "ConditionExpression": new,
            }
        },
    )
    if user.role == Role.ADMIN:
        tx.add("admins", _count_admins(+1))
    try:
        tx.commit()
    except Failed as exc:
        raise EmailTaken() from exc


def get(user_id: str, *, with_password: bool = False) -> UserRecord | None:
    item = dynamo.get(users_table(), user_key(user_id), attributes=None if with_password else READABLE)
    return user_of(item) if item else None


def find_id(email: str) -> str | None:
    """The id of the account that claimed `email` (one GetItem)."""
    claim = dynamo.get(users_table(), _email_key(email))
    return str(claim["user_id"]) if claim else None


def find_by_email(email: str) -> UserRecord | None:
    user_id = find_id(email)
    return get(user_id, with_password=True) if user_id else None


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
                TableName=users_table(),
                Key=dump(user_key(user.id)),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="token_version = :ver",
                ExpressionAttributeValues=values(**named),
                ReturnValues="ALL_NEW",
            )
        except client().exceptions.ConditionalCheckFailedException as exc:
            raise NotAuthenticated("The token was revoked by a password change.") from exc
    return user_of(load(raw["Attributes"]))


def set_role(user_id: str, role: Role) -> bool:
    """Give the account `role` with no caller to check (operators: `make create-admin ... PROMOTE=1`).
    False (and nothing written) when it has that role or does not exist; else as change_role."""

    def attempt() -> bool:
        user = get(user_id)
        if user is None or user.role == role:
            return False
        change_role(user, role, caller=None)  # RoleChanged: changed meanwhile, judged again
        return True

    return retry.retried(attempt)


def current_check(user_id: str, token_version: int) -> dict[str, Any]:
    """A transaction action that holds only while the caller's token is current."""
    return {
        "ConditionCheck": {
            "TableName": users_table(),
            "Key": dump(user_key(user_id)),
            "ConditionExpression": "token_version = :ver",
            "ExpressionAttributeValues": values(ver=token_version),
        }
    }


def check_current(tx: Transaction, user_id: str, token_version: int, *, name: str = "account") -> None:
    """Add current_check to `tx`: its failure is the transaction's NotAuthenticated.revoked(), whatever else
    failed, so no caller maps it."""
    tx.add(name, current_check(user_id, token_version), refused=NotAuthenticated.revoked)


def find_for_admin(caller_id: str, email: str) -> tuple[UserRecord | None, UserRecord | None]:
    """The caller's account (for the token check) and the account owning `email`, if any.

    One BatchGetItem (caller, email claim), then one GetItem for the owner when the email is claimed.
    """
    found = dynamo.batch_get({users_table(): [user_key(caller_id), _email_key(email)]}, attributes=readable())[
        users_table()
    ]
    by_pk = {item["pk"]: item for item in found}
    caller = by_pk.get(user_key(caller_id)["pk"])
    claim = by_pk.get(_email_key(email)["pk"])
    owner = get(claim["user_id"]) if claim else None
    return (user_of(caller) if caller else None), owner


def read_pair(caller_id: str, user_id: str) -> tuple[UserRecord | None, UserRecord | None]:
    """The caller's account and another (or the same) account, in one BatchGetItem."""
    keys = [user_key(i) for i in dict.fromkeys([caller_id, user_id])]  # BatchGetItem refuses a key twice
    found = dynamo.batch_get({users_table(): keys}, attributes=readable())[users_table()]
    by_id = {item["id"]: user_of(item) for item in found}
    return by_id.get(caller_id), by_id.get(user_id)


class RoleChanged(retry.Again):
    """The account's role is no longer the one the change was decided from: read it again."""


def admins_moved(old_role: Role, new_role: Role) -> int:
    """How a role change moves the count of admins (which never drops to zero)."""
    return (new_role == Role.ADMIN) - (old_role == Role.ADMIN)


def role_refusal(read_role: Role, seen: Item | None) -> Exception:
    """Why a role change decided on `read_role` lost its condition on the account, as DynamoDB `seen` it
    (None: gone): the account is gone, the role changed meanwhile (read again), or else only the caller's
    own token version can have failed (an admin changing their own role)."""
    if seen is None:
        return UserNotFound()
    if seen["role"] == read_role:
        return NotAuthenticated.revoked()
    return RoleChanged()


def change_role(user: UserRecord, role: Role, *, caller: Principal | None) -> UserRecord:
    """Give `user` the role, if it still has the role we read, bumping its token version: tokens carry
    the role, so every older one stops working at once. The admin count moves in the same transaction
    and never drops to zero.

    The caller's token, if there is a caller, must still be current: a
    ConditionCheck, or, when admins change their own role, a condition on the same update (a
    transaction may touch an item once).
    """
    named: dict[str, Any] = {"role": role, "old": user.role, "now": clock.now().isoformat(), "one": 1}
    condition = "#role = :old"
    own = caller is not None and caller.user_id == user.id
    if own:
        condition += " AND token_version = :ver"
        named["ver"] = caller.token_version if caller else None
    tx = Transaction().add(
        "account",
        {
            "Update": {
                "TableName": users_table(),
                "Key": dump(user_key(user.id)),
                "UpdateExpression": "SET #role = :role, updated_at = :now, token_version = token_version + :one",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#role": "role"},  # a reserved word
                "ExpressionAttributeValues": values(**named),
                **ALL_OLD,
            }
        },
    )
    if caller is not None and not own:
        check_current(tx, caller.user_id, caller.token_version, name="caller")
    moved = admins_moved(user.role, role)
    if moved:
        tx.add("admins", _count_admins(moved))
    try:
        tx.commit()
    except Failed as exc:
        if exc.failed("account"):
            raise role_refusal(user.role, exc.old("account")) from None
        raise LastAdmin() from None
    return replace(user, role=role, token_version=user.token_version + 1)
