"""Wrong promo codes counted per account, so that codes cannot be guessed (issue 22; docs/promo-codes.md).

One small item per account in the bookings table, on the account's own partition (`USER#<id>`, which its
bookings already write): `CODE-GUESSES` with window_start (epoch s), wrong (codes refused in the window)
and expires_at (TTL, tidy-up only: whether a window is over is decided by a condition on window_start).

A wrong code is counted before it is answered (count_wrong): of any number of racing wrong guesses at most
`wrong` per window are counted and told "invalid", the rest are 429. A right code is judged under the same
ceiling by a ConditionCheck in the booking's own transaction (open_check): while the account is over it, a
right code is refused like a wrong one, so a blocked guesser learns nothing, and a right code costs no
extra round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boxoffice import retry
from boxoffice.errors import TooManyWrongCodes
from boxoffice.store.dynamo import ALL_OLD, Item, aws_errors, bookings_table, client, dump, load, values

SK = "CODE-GUESSES"


@dataclass(frozen=True, slots=True)
class Limits:
    window: int = 15 * 60  # seconds from the window's first wrong code
    wrong: int = 10  # wrong codes an account may send in a window


LIMITS = Limits()


def key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": SK}


def refusal(current: Item | None, now: int, limits: Limits = LIMITS) -> TooManyWrongCodes:
    """The 429 for an account whose item (as a lost condition returned it) holds a full window (a window
    from `now` if the item did not come back)."""
    start = int(current["window_start"]) if current else now
    return TooManyWrongCodes(max(start + limits.window - now, 1))


def count_wrong(user_id: str, now: int, limits: Limits = LIMITS) -> None:
    """Count one wrong code of the account, or raise TooManyWrongCodes when its window already holds
    `limits.wrong` (then nothing is counted). A window that is over is replaced by a new one (a conditional
    Put: of racing guesses one opens it, the others count in it)."""
    failed = client().exceptions.ConditionalCheckFailedException
    end = now + limits.window

    def attempt() -> None:
        with aws_errors():
            try:
                client().update_item(
                    TableName=bookings_table(),
                    Key=dump(key(user_id)),
                    UpdateExpression="ADD wrong :one SET window_start = if_not_exists(window_start, :now), "
                    "expires_at = if_not_exists(expires_at, :end)",
                    ConditionExpression="attribute_not_exists(pk) OR (window_start > :cutoff AND wrong < :most)",
                    ExpressionAttributeValues=values(
                        one=1, now=now, end=end, cutoff=now - limits.window, most=limits.wrong
                    ),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return
            except failed as exc:
                current = load(exc.response["Item"])  # type: ignore[typeddict-item]  # only an existing item fails
            if int(current["window_start"]) > now - limits.window:
                raise refusal(current, now, limits)
            try:
                client().put_item(
                    TableName=bookings_table(),
                    Item=dump({**key(user_id), "window_start": now, "wrong": 1, "expires_at": end}),
                    ConditionExpression="window_start = :seen",
                    ExpressionAttributeValues=values(seen=int(current["window_start"])),
                )
            except failed:
                raise retry.Again() from None  # another guess opened the new window: count in that one

    retry.retried(attempt)


def open_check(user_id: str, now: int, limits: Limits = LIMITS) -> dict[str, Any]:
    """A ConditionCheck for a booking's transaction: the account may use a code now (no full window).
    When it fails, `refusal(failed.old(name), now)` is the answer."""
    return {
        "ConditionCheck": {
            "TableName": bookings_table(),
            "Key": dump(key(user_id)),
            "ConditionExpression": "attribute_not_exists(pk) OR window_start <= :cutoff OR wrong < :most",
            "ExpressionAttributeValues": values(cutoff=now - limits.window, most=limits.wrong),
            **ALL_OLD,
        }
    }
