"""Password-check throttle counters (login and password change), in the users table. The item:
docs/data-model.md, "users" (password-check throttle).

A window opens with its first counted check and lasts `window` seconds. Whether it is over is
decided by a condition on window_start inside each write: moto never expires TTL items and
DynamoDB deletes them lazily (up to days late), so expires_at only keeps the table tidy.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from boxoffice import retry
from boxoffice.errors import TooManyAttempts
from boxoffice.store.dynamo import aws_errors, client, dump, load, users_table, values


@dataclass(frozen=True, slots=True)
class Limits:
    window: int  # seconds
    per_address: int
    per_account: int


@dataclass(frozen=True, slots=True)
class Claim:
    """One password check, counted before it runs in the window that opened at window_start."""

    email: str
    address: str
    window_start: int


def _key(email: str) -> dict[str, str]:
    return {"pk": f"THROTTLE#{email}"}


def _address_names(address: str) -> dict[str, str]:
    # A 40-bit digest names the address's count, not the address itself: at most per_account
    # addresses are counted in a window, so the item stays near 1 KB under a distributed attack
    # (IPv6 text would make it 5), and the table keeps no readable addresses.
    digest = base64.b32encode(hashlib.sha256(address.encode()).digest()[:5]).decode().lower()
    return {"#address": f"ip_{digest}"}


def claim(email: str, address: str, now: int, limits: Limits) -> Claim:
    """Count one check of `email`'s password from `address`, or raise TooManyAttempts.

    The count is taken before the password is checked, by one conditional UpdateItem: however many
    checks race, no more than per_address from one address and per_account in all are counted in a
    window. A window that is over is replaced by a new one (a conditional Put; of racing checks one
    opens it and the others count in it).
    """
    table = users_table()
    names = _address_names(address)
    end = now + limits.window
    failed = client().exceptions.ConditionalCheckFailedException

    def attempt() -> Claim:
        with aws_errors():
            try:
                raw = client().update_item(
                    TableName=table,
                    Key=dump(_key(email)),
                    UpdateExpression="ADD failures :one, #address :one SET window_start = "
                    "if_not_exists(window_start, :now), expires_at = if_not_exists(expires_at, :end)",
                    ConditionExpression="attribute_not_exists(pk) OR (window_start > :cutoff AND "
                    "failures < :per_account AND (attribute_not_exists(#address) OR #address < :per_address))",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values(
                        one=1,
                        now=now,
                        end=end,
                        cutoff=now - limits.window,
                        per_account=limits.per_account,
                        per_address=limits.per_address,
                    ),
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return Claim(email, address, int(load(raw["Attributes"])["window_start"]))
            except failed as exc:
                # Only an existing item fails the condition, and ALL_OLD hands it back.
                current = int(load(exc.response["Item"])["window_start"])  # type: ignore[typeddict-item]
            if current > now - limits.window:
                raise TooManyAttempts(current + limits.window - now)
            fresh = {**_key(email), "window_start": now, "failures": 1, names["#address"]: 1, "expires_at": end}
            try:
                client().put_item(
                    TableName=table,
                    Item=dump(fresh),
                    ConditionExpression="window_start = :seen",
                    ExpressionAttributeValues=values(seen=current),
                )
            except failed:
                raise retry.Again() from None  # another check opened the new window first: count in that one
            return Claim(email, address, now)

    return retry.retried(attempt)


def release(claim: Claim) -> None:
    """The password was right: give the claim's count back and forget the address's failures.

    The account-wide count gives back this check only, so the owner's logins never lift a ceiling
    that a distributed attack has reached.
    """
    with aws_errors():
        try:
            client().update_item(
                TableName=users_table(),
                Key=dump(_key(claim.email)),
                UpdateExpression="ADD failures :minus_one REMOVE #address",
                ConditionExpression="window_start = :start",
                ExpressionAttributeNames=_address_names(claim.address),
                ExpressionAttributeValues=values(minus_one=-1, start=claim.window_start),
            )
        except client().exceptions.ConditionalCheckFailedException:
            pass  # a newer window has opened, and it never counted this check
