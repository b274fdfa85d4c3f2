"""The OpenAPI catalogue of problems: what each error looks like in the documentation's examples.

Only scripts/openapi.py (and the tests) import it: no function builds these samples at cold start.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response

from boxoffice import errors
from boxoffice.http import PROBLEM_JSON, STATUS, domain_error

# What problems look like in the documentation's examples: errors whose members need values.
_SAMPLES: dict[type[errors.DomainError], errors.DomainError] = {
    errors.InvalidInput: errors.InvalidInput("must be in the future", field="starts_at"),
    errors.TooManyAttempts: errors.TooManyAttempts(600),
    errors.NotEnoughTickets: errors.NotEnoughTickets(2),
    errors.OrderTooLarge: errors.OrderTooLarge(104, 100),
    errors.CapacityBelowSold: errors.CapacityBelowSold(120),
    errors.EditTooLarge: errors.EditTooLarge(181, 100),
    errors.AlreadyCheckedIn: errors.AlreadyCheckedIn(datetime(2026, 12, 24, 19, 5, 42, 123456, UTC)),
    errors.CheckInClosed: errors.CheckInClosed(
        datetime(2026, 12, 24, 13, 0, tzinfo=UTC), datetime(2026, 12, 25, 7, 0, tzinfo=UTC)
    ),
    errors.WrongEvent: errors.WrongEvent("0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50"),
    errors.TicketTypeHasSales: errors.TicketTypeHasSales(12),
    errors.SalesNotStarted: errors.SalesNotStarted(datetime(2026, 11, 1, 9, tzinfo=UTC)),
    errors.SalesEnded: errors.SalesEnded(datetime(2026, 11, 15, tzinfo=UTC)),
    errors.UserLimitReached: errors.UserLimitReached(1, 4),
    errors.HoldLimitReached: errors.HoldLimitReached(2, 10, 2),
    errors.HoldCooldown: errors.HoldCooldown(540),
    errors.TooManyWrongCodes: errors.TooManyWrongCodes(780),
    errors.TicketsAvailable: errors.TicketsAvailable(3),
    errors.NotWaiting: errors.NotWaiting("BOOKED"),
}
# Every header problem() can send, as the documentation describes it.
_PROBLEM_HEADERS = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer", "minimum": 0}},
    "WWW-Authenticate": {"description": "How to authenticate", "schema": {"type": "string"}},
}


def sample(kind: type[errors.DomainError]) -> Response[str]:
    """The response a typical error of this kind gets, exactly as problem() builds it."""
    return domain_error(_SAMPLES.get(kind) or kind())


def problems(kinds: Iterable[type[errors.DomainError]], schema: Mapping[str, Any]) -> dict[int, Any]:
    """The OpenAPI responses for these errors: one per status, with an example of each code and the
    headers that go with them. `schema` is the content's schema entry (a model for Powertools, or a $ref)."""
    by_status: dict[int, dict[str, Response[str]]] = {}
    for kind in kinds:
        by_status.setdefault(int(STATUS[kind]), {})[kind.code] = sample(kind)
    documented: dict[int, Any] = {}
    for status, answers in sorted(by_status.items()):
        bodies = {code: json.loads(answer.body or "{}") for code, answer in answers.items()}
        headers: dict[str, Any] = {}
        for name, header in _PROBLEM_HEADERS.items():
            sent = [code for code, answer in answers.items() if name in answer.headers]
            if sent:
                headers[name] = {**header, "description": f"{header['description']} ({', '.join(sent)})."}
                headers[name]["required"] = len(sent) == len(answers)
        documented[status] = {
            "description": "; ".join(f"`{code}`: {body['title']}" for code, body in bodies.items()),
            "content": {
                PROBLEM_JSON: {
                    **schema,
                    "examples": {code: {"summary": body["title"], "value": body} for code, body in bodies.items()},
                }
            },
            **({"headers": headers} if headers else {}),
        }
    return documented
