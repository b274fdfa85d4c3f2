"""Sent-markers: each domain event is mailed once. The item: docs/data-model.md, "users" (mail markers).

A marker is claimed by a conditional Put before anything is sent: of two deliveries of one domain event
(EventBridge and Lambda deliver at least once) one claims it, the other finds it taken and sends nothing.
The claimant then marks it SENT (or REFUSED) or, when sending failed in a way worth retrying, deletes it
so that the retry can claim it again. A claim that was neither (the function died mid-send) is taken over
once its lease is over, decided by a condition on claimed_at inside the Put, never by TTL; expires_at,
past the bus archive's 90 days, only keeps the table tidy.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from typing import Final

from boxoffice.store.dynamo import aws_errors, client, dump, users_table, values

SENDING: Final = "SENDING"
SENT: Final = "SENT"
REFUSED: Final = "REFUSED"  # SES refused it for good (a suppressed or rejected address): not retried
SKIPPED: Final = "SKIPPED"  # nothing to tell any more (the account is gone, the offer already taken up)
LEASE = timedelta(minutes=15)  # longer than the mailer's timeout: a live claim is never taken over
KEEP = timedelta(days=120)  # longer than the bus archive keeps events, so a replay never mails again


def _key(reference: str) -> dict[str, str]:
    return {"pk": f"MAIL#{reference}"}


def claim(reference: str, now: datetime) -> str | None:
    """A claim token on the marker of domain event `reference`; None when it was sent already (or is being
    sent now, under a live claim)."""
    token = str(uuid.uuid4())
    item = {
        **_key(reference),
        "status": SENDING,
        "token": token,
        "claimed_at": now.isoformat(),
        "expires_at": int((now + KEEP).timestamp()),
    }
    failed = client().exceptions.ConditionalCheckFailedException
    with aws_errors():
        try:
            client().put_item(
                TableName=users_table(),
                Item=dump(item),
                ConditionExpression="attribute_not_exists(pk) OR (#s = :sending AND claimed_at < :stale)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values(sending=SENDING, stale=(now - LEASE).isoformat()),
            )
        except failed:
            return None
    return token


def settle(reference: str, token: str, status: str, now: datetime) -> None:
    """Mark the claimed marker SENT, REFUSED or SKIPPED (a claim taken over meanwhile is left to its new owner)."""
    failed = client().exceptions.ConditionalCheckFailedException
    with aws_errors(), contextlib.suppress(failed):
        client().update_item(
            TableName=users_table(),
            Key=dump(_key(reference)),
            UpdateExpression="SET #s = :status, settled_at = :now",
            ConditionExpression="#t = :token",
            ExpressionAttributeNames={"#s": "status", "#t": "token"},
            ExpressionAttributeValues=values(status=status, now=now.isoformat(), token=token),
        )


def release(reference: str, token: str) -> None:
    """Give the claim up (sending failed and will be retried): the retry claims it again."""
    failed = client().exceptions.ConditionalCheckFailedException
    with aws_errors(), contextlib.suppress(failed):
        client().delete_item(
            TableName=users_table(),
            Key=dump(_key(reference)),
            ConditionExpression="#t = :token",
            ExpressionAttributeNames={"#t": "token"},
            ExpressionAttributeValues=values(token=token),
        )
