"""Shared building blocks for request and response models."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from boxoffice import errors

T = TypeVar("T")

# C0/C1 controls (tab/newline allowed only where a field says so) and lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")


class RequestModel(BaseModel):
    """Bodies reject unknown fields: nobody sets `role` or `available_tickets` by sending them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    # Every field is always sent (null when empty), so the document marks each one required.
    model_config = ConfigDict(from_attributes=True, json_schema_serialization_defaults_required=True)


def reject_control(value: str, *, line_breaks: bool = False) -> str:
    """Refuse control characters and lone surrogates (and line breaks unless the field allows them)."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    if not line_breaks and _LINE_BREAKS.search(value):
        raise ValueError("must not contain tabs or line breaks")
    return value


def reject_format(value: str) -> str:
    """Refuse format characters (Unicode category Cf: zero-width spaces and joiners, bidi controls, soft
    hyphens): invisible, they make look-alikes ("VIP" and "VIP\u200b") or reorder what is shown."""
    if any(unicodedata.category(c) == "Cf" for c in value):
        raise ValueError("must not contain invisible formatting characters")
    return value


def _single_line(value: str) -> str:
    return unicodedata.normalize("NFC", reject_control(value))


def _multi_line(value: str) -> str:
    return unicodedata.normalize("NFC", reject_control(value, line_breaks=True))


# Text is stored and returned as data, never interpreted: markup and SQL are inert by construction.
SingleLine = Annotated[str, AfterValidator(_single_line)]
# A name that is matched or shown as a label (events, venues, ticket types): no invisible characters either.
Label = Annotated[SingleLine, AfterValidator(reject_format)]
MultiLine = Annotated[str, AfterValidator(_multi_line)]


CURRENCY_PATTERN = r"^[A-Z]{3}$"
CurrencyOut = Annotated[str, Field(pattern=CURRENCY_PATTERN, examples=["EUR"])]
# Prices leave as strings with exactly their currency's places ("25.00", "8500", "1.250"): JSON numbers
# would invite float rounding. The domain hands them over already written in the currency's minor unit.
PriceOut = Annotated[
    Decimal,
    PlainSerializer(lambda d: f"{d:f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]{2,3})?$", "examples": ["25.00", "8500"]}),
]


# Every list pages the same way: `limit` 1-100 items, 20 when not given.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


# A field an update may leave out (then it is None in Python and keeps its value). Null on the wire
# is refused by the field itself (422 naming it), so the schema does not offer it.
if TYPE_CHECKING:
    Omittable = Annotated[T | None, "left out"]
else:
    Omittable = Annotated[T, BeforeValidator(_not_null)]


class Page(ResponseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class FieldError(BaseModel):
    field: str = Field(description="The bad field, dotted when nested; `body` for the body as a whole.")
    message: str


# A member that only some problems carry: absent otherwise, never null.
Extra = SkipJsonSchema[None]


# Only the documentation uses this model (http.problem writes the body): it declares every member
# any problem carries, and the codes of boxoffice.errors.
class Problem(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    type: str = Field(description="A URN naming the problem type: `urn:boxoffice:problem:` and the code.")
    title: str = Field(description="The problem type's summary: the same for every problem with this code.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    code: str = Field(
        description="A stable, machine-readable code; the HTTP status alone does not tell problems apart.",
        json_schema_extra={"enum": [kind.code for kind in errors.kinds()]},
    )
    errors: list[FieldError] | Extra = Field(None, description="VALIDATION_FAILED: each bad field, in order.")
    retry_after: int | Extra = Field(
        None,
        description="TOO_MANY_ATTEMPTS, TOO_MANY_WRONG_CODES, BUSY, THROTTLED and HOLD_COOLDOWN: seconds to wait, as in"
        " the Retry-After header.",
    )
    available_tickets: int | Extra = Field(None, description="NOT_ENOUGH_TICKETS: how many tickets are left.")
    available: int | Extra = Field(
        None,
        description="NOT_ENOUGH_TICKETS and TICKETS_AVAILABLE: how many are left in the quota that binds (the "
        "event's or the type's).",
    )
    remaining: int | Extra = Field(
        None,
        description="USER_LIMIT_REACHED: how many more tickets the user may book; HOLD_LIMIT_REACHED: how many "
        "more they may hold.",
    )
    limit: int | Extra = Field(
        None,
        description="USER_LIMIT_REACHED: the event's max_tickets_per_user; HOLD_LIMIT_REACHED: its "
        "max_held_tickets_per_user.",
    )
    sales_start: dt.datetime | Extra = Field(None, description="SALES_NOT_STARTED: when sales start.")
    sales_end: dt.datetime | Extra = Field(None, description="SALES_ENDED: when sales ended.")
    tickets_sold: int | Extra = Field(None, description="CAPACITY_BELOW_SOLD: the lowest capacity allowed.")
    checked_in_at: dt.datetime | Extra = Field(
        None, description="ALREADY_CHECKED_IN: when the ticket was first let in."
    )
    doors_open_at: dt.datetime | Extra = Field(None, description="CHECK_IN_CLOSED: when the event's check-in opens.")
    doors_close_at: dt.datetime | Extra = Field(
        None, description="CHECK_IN_CLOSED: when the event's check-in closes (closed from this instant on)."
    )
    ticket_event_id: str | Extra = Field(None, description="WRONG_EVENT: the event the scanned ticket is for.")
    entry_status: str | Extra = Field(None, description="NOT_WAITING: the waiting-list entry's status.")
    line: int | Extra = Field(None, description="A booking of several lines: the line refused (0 is the first).")
    pointer: str | Extra = Field(None, description="A booking of several lines: the line refused, `/items/<line>`.")


# A promo code (models/promocodes.py), as an admin writes it and a buyer sends it: matched ignoring case,
# so stored and shown upper-case. Only ASCII letters, digits and '-': what can be read out, typed on any
# keyboard and printed on a flyer without look-alikes from other scripts.
CODE_PATTERN = r"^[A-Za-z0-9-]{4,32}$"
Code = Annotated[
    str,
    Field(pattern=CODE_PATTERN, description="4-32 of A-Z, 0-9 and '-', any case.", examples=["EARLY10"]),
    AfterValidator(str.upper),
]
