"""Request parameters that several routes share, apart from the edge (boxoffice.http) so that only the
routes that take them import the models they are checked against."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from boxoffice.models.bookings import IDEMPOTENCY_KEY_PATTERN
from boxoffice.models.common import MAX_PAGE_SIZE

# A list's page size: `limit: PageLimit = DEFAULT_PAGE_SIZE`.
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
# An optional Idempotency-Key header (bookings, holds, hold confirms).
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="1-255 printable characters. The same key and body within 24 h answer with the same booking "
        "(or hold) and `Idempotent-Replayed: true` instead of booking (or holding) again; the same key with "
        "another body (or for another route) is 422 IDEMPOTENCY_KEY_REUSED.",
    ),
]
