"""One exception type per domain error.

Each carries a stable machine-readable `code` and a human `title`; http.py maps every type to
its status and problem+json body in one place. Nothing here knows about HTTP.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from boxoffice import clock


class DomainError(Exception):
    code: ClassVar[str] = "ERROR"
    title: ClassVar[str] = "Error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)


class InvalidInput(DomainError):
    """A rule a schema cannot express (e.g. a start time in the past)."""

    code = "VALIDATION_FAILED"
    title = "The request is not valid"

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail, errors=[{"field": field, "message": detail}])


class MalformedBody(DomainError):
    code = "MALFORMED_BODY"
    title = "The request body is not valid JSON"


class UnsupportedMediaType(DomainError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    title = "The request body must be application/json"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    title = "The request body is too large"


class RouteNotFound(DomainError):
    code = "NOT_FOUND"
    title = "No such resource"


class NotAuthenticated(DomainError):
    code = "UNAUTHENTICATED"
    title = "A valid bearer token is required"

    @classmethod
    def revoked(cls) -> NotAuthenticated:
        """A token that was current once, revoked since by a password or role change."""
        return cls("The token was revoked.")


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    title = "The email or password is wrong"


class WrongPassword(DomainError):
    code = "WRONG_PASSWORD"
    title = "The current password is wrong"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    title = "You may not do this"


class TooManyAttempts(DomainError):
    code = "TOO_MANY_ATTEMPTS"
    title = "Too many wrong passwords; try again later"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Try again in {retry_after} seconds.")
        self.retry_after = retry_after


class EmailTaken(DomainError):
    code = "EMAIL_TAKEN"
    title = "An account with this email already exists"


class UserNotFound(DomainError):
    code = "USER_NOT_FOUND"
    title = "No such user"


class LastAdmin(DomainError):
    code = "LAST_ADMIN"
    title = "The last administrator cannot be demoted"


class InvalidCursor(DomainError):
    code = "INVALID_CURSOR"
    title = "The cursor is not valid for this query"


class EventNotFound(DomainError):
    code = "EVENT_NOT_FOUND"
    title = "No such event"


class CapacityBelowSold(DomainError):
    code = "CAPACITY_BELOW_SOLD"
    title = "Capacity cannot drop below the tickets already sold"

    def __init__(self, sold: int) -> None:
        super().__init__(f"{sold} tickets are sold; capacity cannot be lower.", tickets_sold=sold)


class EditTooLarge(DomainError):
    """An edit whose writes (a copy to each of the event's stock shards, each repriced type's counters, ...)
    would not fit in the one transaction that keeps them together."""

    code = "EDIT_TOO_LARGE"
    title = "The edit writes too many items at once"

    def __init__(self, writes: int, most: int) -> None:
        super().__init__(
            f"This edit writes {writes} items in one transaction, more than the {most} DynamoDB takes: make its"
            " changes one at a time (each ticket type's price, the start, the limits), or lower inventory_shards"
            " first."
        )


class EventStarted(DomainError):
    code = "EVENT_STARTED"
    title = "The event has already started"


class SoldOut(DomainError):
    code = "SOLD_OUT"
    title = "The event is sold out"


class NotEnoughTickets(DomainError):
    code = "NOT_ENOUGH_TICKETS"
    title = "Not enough tickets left"

    def __init__(self, available: int) -> None:
        # `available` of whichever quota binds (the event's or the ticket type's); `available_tickets` for v1 clients.
        super().__init__(f"Only {available} tickets left.", available=available, available_tickets=available)


class OrderTooLarge(DomainError):
    code = "ORDER_TOO_LARGE"
    title = "The order needs more than one transaction can hold"

    def __init__(self, actions: int, limit: int) -> None:
        super().__init__(
            f"Its tickets come from so many stock shards that it needs {actions} writes of at most {limit}: "
            "book fewer tickets or lines at once."
        )


class TicketTypeNotFound(DomainError):
    code = "TICKET_TYPE_NOT_FOUND"
    title = "No such ticket type for this event"


class TicketTypeHasSales(DomainError):
    code = "TICKET_TYPE_HAS_SALES"
    title = "The ticket type has live tickets"

    def __init__(self, sold: int) -> None:
        super().__init__(f"{sold} tickets of this type are live; cancel them first.", tickets_sold=sold)


class LastTicketType(DomainError):
    code = "LAST_TICKET_TYPE"
    title = "An event keeps at least one ticket type"


class SalesNotStarted(DomainError):
    code = "SALES_NOT_STARTED"
    title = "Sales of this ticket type have not started"

    def __init__(self, sales_start: datetime) -> None:
        at = clock.text(sales_start)
        super().__init__(f"Sales start at {at}.", sales_start=at)


class SalesEnded(DomainError):
    code = "SALES_ENDED"
    title = "Sales of this ticket type have ended"

    def __init__(self, sales_end: datetime) -> None:
        at = clock.text(sales_end)
        super().__init__(f"Sales ended at {at}.", sales_end=at)


class UserLimitReached(DomainError):
    code = "USER_LIMIT_REACHED"
    title = "You may not hold more tickets of this event"

    def __init__(self, remaining: int, limit: int) -> None:
        super().__init__(
            f"At most {limit} tickets per person; you may book {remaining} more.", remaining=remaining, limit=limit
        )


class HoldLimitReached(DomainError):
    code = "HOLD_LIMIT_REACHED"
    title = "You already hold as many tickets of this event as one account may"

    def __init__(self, remaining: int, limit: int, holds: int) -> None:
        super().__init__(
            f"At most {limit} tickets in at most {holds} live holds per account; you may hold {remaining} more. "
            "Confirm or release a hold first.",
            remaining=remaining,
            limit=limit,
        )


class HoldCooldown(DomainError):
    code = "HOLD_COOLDOWN"
    title = "A hold of yours expired: you may not hold tickets of this event again yet"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"You may hold again in {retry_after} seconds; booking is open now.", retry_after=retry_after)


class BookingNotFound(DomainError):
    code = "BOOKING_NOT_FOUND"
    title = "No such booking"


class AlreadyCancelled(DomainError):
    code = "ALREADY_CANCELLED"
    title = "The booking is already cancelled"


class TicketUsed(DomainError):
    code = "TICKET_USED"
    title = "A ticket of this booking has been checked in"

    def __init__(self, used: int | None = None) -> None:
        if used is None:
            super().__init__()
        else:
            tickets = "1 ticket of the booking has" if used == 1 else f"{used} tickets of the booking have"
            super().__init__(f"{tickets} been checked in.")


class TicketNotFound(DomainError):
    code = "TICKET_NOT_FOUND"
    title = "No such ticket for this event"


class AlreadyCheckedIn(DomainError):
    code = "ALREADY_CHECKED_IN"
    title = "The ticket has already been checked in"

    def __init__(self, checked_in_at: datetime) -> None:
        at = clock.text(checked_in_at)
        super().__init__(f"Checked in at {at}.", checked_in_at=at)


class TicketCancelled(DomainError):
    code = "TICKET_CANCELLED"
    title = "The ticket was cancelled"


class CheckInClosed(DomainError):
    code = "CHECK_IN_CLOSED"
    title = "Check-in is closed: the doors are not open"

    def __init__(self, doors_open_at: datetime, doors_close_at: datetime) -> None:
        opens, closes = clock.text(doors_open_at), clock.text(doors_close_at)
        super().__init__(f"Doors open at {opens} and close at {closes}.", doors_open_at=opens, doors_close_at=closes)


class WrongEvent(DomainError):
    code = "WRONG_EVENT"
    title = "The ticket is for another event"

    def __init__(self, event_id: str) -> None:
        super().__init__(f"The ticket is for event {event_id}.", ticket_event_id=event_id)


class NotCheckedIn(DomainError):
    code = "NOT_CHECKED_IN"
    title = "The ticket has not been checked in"


class InvalidTicketCode(DomainError):
    code = "INVALID_TICKET_CODE"
    title = "The ticket code is not one we signed"


class HoldNotFound(DomainError):
    code = "HOLD_NOT_FOUND"
    title = "No such hold"


class HoldExpired(DomainError):
    code = "HOLD_EXPIRED"
    title = "The hold has expired; its tickets went back on sale"


class HoldReleased(DomainError):
    code = "HOLD_RELEASED"
    title = "The hold was released"


class HoldConfirmed(DomainError):
    code = "HOLD_CONFIRMED"
    title = "The hold is already confirmed as a booking"


class TicketsAvailable(DomainError):
    code = "TICKETS_AVAILABLE"
    title = "Enough tickets are on sale: book them instead of waiting"

    def __init__(self, available: int) -> None:
        super().__init__(f"{available} tickets are on sale.", available=available)


class AlreadyWaiting(DomainError):
    code = "ALREADY_WAITING"
    title = "You are already on this event's waiting list"


class WaitingEntryNotFound(DomainError):
    code = "WAITING_ENTRY_NOT_FOUND"
    title = "No such waiting-list entry"


class NotWaiting(DomainError):
    code = "NOT_WAITING"
    title = "The waiting-list entry has already ended"

    def __init__(self, status: str) -> None:
        super().__init__(f"The entry is {status}.", entry_status=status)


class PromoCodeNotFound(DomainError):
    code = "PROMO_CODE_NOT_FOUND"
    title = "No such promo code for this event"


class PromoCodeExists(DomainError):
    code = "PROMO_CODE_EXISTS"
    title = "The event already has a promo code with this code"


class InvalidPromoCode(DomainError):
    """Unknown, not yet or no longer valid, or not for this ticket type: one answer for every reason, so
    nobody learns which codes exist (and each counts against the account's wrong-code ceiling)."""

    code = "INVALID_PROMO_CODE"
    title = "This promo code cannot be used for this booking"


class PromoCodeUsedUp(DomainError):
    code = "PROMO_CODE_USED_UP"
    title = "This promo code has been used for as many tickets as it may be"


class TooManyWrongCodes(DomainError):
    """An account sent too many promo codes that were not valid: no code is judged until the window ends."""

    code = "TOO_MANY_WRONG_CODES"
    title = "Too many wrong promo codes; try again later"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Try again in {retry_after} seconds.", retry_after=retry_after)


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    title = "This Idempotency-Key was used with a different request"


class Busy(DomainError):
    code = "BUSY"
    title = "Too much contention on this resource; retry shortly"

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__(f"Retry in {retry_after} second(s).")
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    title = "A backing service failed; retry shortly"


class Throttled(DomainError):
    """DynamoDB throttled the request (a partition, a table or the account over its throughput) beyond the
    retries it fits: nothing was written, and the same request may succeed a moment later."""

    code = "THROTTLED"
    title = "Too many requests at this moment; retry shortly"

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__(f"Retry in {retry_after} second(s).")
        self.retry_after = retry_after


class Internal(DomainError):
    """A bug: never raised on purpose; the answer to any exception nothing else handled."""

    code = "INTERNAL"
    title = "Internal error"


# Why a sale (a booking or a hold, both under the same conditions) is refused: each route that sells
# declares these among its answers.
SALE_REFUSALS: tuple[type[DomainError], ...] = (
    EventNotFound,
    TicketTypeNotFound,
    SoldOut,
    NotEnoughTickets,
    EventStarted,
    SalesNotStarted,
    SalesEnded,
    UserLimitReached,
    OrderTooLarge,
)


# Why a sale's promo code is refused: each route that takes one (bookings, holds) declares these too.
CODE_REFUSALS: tuple[type[DomainError], ...] = (InvalidPromoCode, PromoCodeUsedUp, TooManyWrongCodes)


def kinds() -> list[type[DomainError]]:
    """Every domain error type, in definition order: the one list of codes the API can answer with."""
    found: list[type[DomainError]] = []
    pending = list(DomainError.__subclasses__())
    while pending:
        kind = pending.pop(0)
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return found
