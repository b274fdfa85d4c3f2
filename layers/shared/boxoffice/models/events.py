"""Events: what an admin sends, what anyone reads, and how names and venues are matched in search."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    model_validator,
)
from pydantic.config import JsonDict

from boxoffice.models.common import (
    CURRENCY_PATTERN,
    CurrencyOut,
    Label,
    MultiLine,
    Omittable,
    PriceOut,
    RequestModel,
    ResponseModel,
)
from boxoffice.money import MAX_PLACES
from boxoffice.records import (
    DEFAULT_HOLD_COOLDOWN_SECONDS,
    DEFAULT_MAX_HOLDS_PER_USER,
    DEFAULT_TIMEZONE,
    DEFAULT_TYPE_NAME,
    DOORS_CLOSE_MINUTES,
    DOORS_OPEN_MINUTES,
    MAX_TICKET_TYPES,
)
from boxoffice.shards import BOOKINGS_PER_SHARD_SECOND, MAX_CHOSEN, MAX_SHARDS, TICKETS_PER_SHARD
from boxoffice.text import MAX_NAME_KEY_BYTES, fold, venue_key
from boxoffice.vocabulary import EventStatus

MAX_TICKETS = 1_000_000
MAX_PRICE = Decimal("1000000")
MAX_PER_BOOKING = 50
DEFAULT_PER_BOOKING = 10

# Active ISO 4217 currencies that a ticket can be priced in (no funds, metals or test codes).
_CURRENCY_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
    GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
    STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD
    XCG XOF XPF YER ZAR ZMW ZWG
"""
CURRENCIES = frozenset(_CURRENCY_CODES.split())

# --- text checks: what folding (boxoffice.text) can store ---


def _indexable(venue: str) -> str:
    venue_key(venue)
    return venue


def _claimable(name: str) -> str:
    # Ticket type names are unique by their folded form (venue_key's), which their claim's sort key holds.
    if len(" ".join(fold(name).split()).encode()) > MAX_NAME_KEY_BYTES:
        raise ValueError(f"is too long once folded (over {MAX_NAME_KEY_BYTES} bytes)")
    return name


# --- field types ---


# Decimal() also reads "1_000", "1E+3", "+5" and digits of any script: a price string is plainer.
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# The start of an ISO 8601 date-time: a string of digits alone would be read as epoch seconds.
_ISO_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")


def _price(value: Any) -> Any:
    # The edge's JSON parser hands numbers with a fraction over as Decimal; a Python float (a caller
    # in code) goes by its repr, the shortest exact decimal ("19.99"), exact for any two-place price.
    if isinstance(value, bool):
        raise ValueError("must be a decimal number")
    if isinstance(value, float | int):
        return Decimal(repr(value))
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            raise ValueError('must be a decimal number such as "25.00"')
        return Decimal(value.strip())
    return value


def _places(value: Decimal) -> Decimal:
    # The currency's own minor unit (0 for JPY, 3 for KWD) is checked where the currency is known.
    if value != value.quantize(Decimal(1).scaleb(-MAX_PLACES)):
        raise ValueError(f"must have at most {MAX_PLACES} decimal places")
    return value


# IANA names: letters, digits, _ + - in /-separated parts. Nothing that could walk a path ("../etc").
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)*$")


@cache
def _zones() -> frozenset[str]:
    """The IANA database's zone names, as the tzdata package lists them (a dependency, so the same on
    every host): not the host's zoneinfo files like localtime or posixrules, nor its posix/ and right/
    trees, nor "Factory" (a placeholder zone, "-00", for hosts with none configured)."""
    from importlib.resources import files

    return frozenset(files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()) - {"Factory"}


def _timezone(value: str) -> str:
    if len(value) > 64 or not _ZONE.match(value) or value not in _zones():
        raise ValueError("must be an IANA time zone name such as Europe/Paris or UTC")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone name such as Europe/Paris or UTC") from exc
    return value


def _currency(value: Any) -> Any:
    if isinstance(value, str):
        code = value.strip().upper()
        if code not in CURRENCIES:
            raise ValueError("must be an ISO 4217 currency code such as EUR or USD")
        return code
    return value


def _iso_string(value: Any) -> Any:
    # Refuse epoch numbers, also in a string: a start time is an ISO 8601 string with its UTC offset.
    if not isinstance(value, str) or not _ISO_DATE_TIME.match(value):
        raise ValueError("must be an ISO 8601 date-time string with an offset, e.g. 2026-12-01T19:30:00+01:00")
    return value


def _utc(value: dt.datetime) -> dt.datetime:
    # Whole seconds in UTC: stored start times then have one fixed-width ISO form that sorts as text.
    try:
        return value.astimezone(dt.UTC).replace(microsecond=0)
    except OverflowError as exc:
        raise ValueError("is out of range") from exc


Name = Annotated[Label, Field(min_length=1, max_length=200)]
Venue = Annotated[Label, Field(min_length=1, max_length=200), AfterValidator(_indexable)]
Description = Annotated[MultiLine, Field(max_length=5000)]
StartsAt = Annotated[AwareDatetime, BeforeValidator(_iso_string), AfterValidator(_utc)]
TotalTickets = Annotated[StrictInt, Field(ge=1, le=MAX_TICKETS)]
PerBooking = Annotated[StrictInt, Field(ge=1, le=MAX_PER_BOOKING)]
# Money is documented as a decimal string, never a JSON number (clients would send floats): 0 to
# MAX_PRICE with at most three places, and no more than its currency's minor unit (checked with the
# currency). JSON numbers are still read, exactly, for older clients.
PRICE_PATTERN = r"^(?:(?:0|[1-9][0-9]{0,5})(?:\.[0-9]{1,3})?|1000000(?:\.0{1,3})?)$"
Price = Annotated[
    Decimal,
    BeforeValidator(_price),
    Field(ge=0, le=MAX_PRICE),
    AfterValidator(_places),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": PRICE_PATTERN,
            "description": f"A decimal string, 0 to {MAX_PRICE}, with no more places than the currency's minor "
            "unit (ISO 4217: JPY 0, EUR 2, KWD 3).",
            "examples": ["25.00"],
        }
    ),
]
Currency = Annotated[
    str,
    Field(pattern=CURRENCY_PATTERN, description="An active ISO 4217 currency code.", examples=["EUR"]),
    BeforeValidator(_currency),  # runs first: "eur" is read as "EUR"
]
# Serialised as "19:30:00": a time of day without an offset, so not JSON Schema's format "time" (it needs one).
TimeOfDay = Annotated[
    dt.time,
    WithJsonSchema({"type": "string", "pattern": r"^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$", "examples": ["19:30:00"]}),
]
Timezone = Annotated[
    str, AfterValidator(_timezone), Field(description="An IANA time zone name.", examples=["Europe/London"])
]
PerUser = Annotated[StrictInt, Field(ge=1, le=MAX_TICKETS)]
MAX_DOOR_MINUTES = 7 * 24 * 60  # a week either side of the start: festivals, multi-day passes
DoorMinutes = Annotated[StrictInt, Field(ge=0, le=MAX_DOOR_MINUTES)]
HoldsPerUser = Annotated[StrictInt, Field(ge=1, le=MAX_TICKETS)]
CooldownSeconds = Annotated[StrictInt, Field(ge=0, le=7 * 24 * 3600)]
_HELD_CEILING = "Live tickets one account may keep in its holds; null: max_tickets_per_booking (one checkout's worth)"
_HOLDS_CEILING = f"Live holds one account may have; null: {DEFAULT_MAX_HOLDS_PER_USER}"
_COOLDOWN = (
    "Seconds after a hold of theirs expired (from its expires_at) before the account may hold again; "
    f"null: {DEFAULT_HOLD_COOLDOWN_SECONDS}"
)
TypeName = Annotated[Label, Field(min_length=1, max_length=100), AfterValidator(_claimable)]
TypeDescription = Annotated[MultiLine, Field(max_length=1000)]


TYPE_EXAMPLE: JsonDict = {
    "name": "Early bird",
    "description": "The first 100 seats, until a month before.",
    "price": "35.00",
    "total_tickets": 100,
    "max_tickets_per_booking": 4,
    "sales_start": None,
    "sales_end": "2026-11-01T00:00:00Z",
    "hidden": False,
}
_HIDDEN = "Left out of public event reads; sold only with a promo code that unlocks it"


class CreateTicketType(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [TYPE_EXAMPLE]})

    name: TypeName = Field(examples=["Early bird"])
    description: TypeDescription = Field(default="", examples=["The first 100 seats, until a month before."])
    price: Price
    total_tickets: TotalTickets | None = Field(
        default=None, description="Its own sub-quota (at most the event's); null: only the event's", examples=[100]
    )
    max_tickets_per_booking: PerBooking | None = Field(default=None, description="Default: the event's")
    sales_start: StartsAt | None = Field(default=None, description="Null: on sale at once")
    sales_end: StartsAt | None = Field(
        default=None, description="After sales_start; null: until the event starts", examples=["2026-11-01T00:00:00Z"]
    )
    hidden: StrictBool = Field(default=False, description=_HIDDEN)


class UpdateTicketType(RequestModel):
    """Any subset of the fields (at least one); total_tickets, sales_start and sales_end may be null (none)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"total_tickets": 150, "sales_end": None}]})

    name: Omittable[TypeName] = None
    description: Omittable[TypeDescription] = None
    price: Omittable[Price] = None
    total_tickets: TotalTickets | None = None
    max_tickets_per_booking: Omittable[PerBooking] = None
    sales_start: StartsAt | None = None
    sales_end: StartsAt | None = None
    hidden: Omittable[StrictBool] = Field(default=None, description=_HIDDEN)

    @model_validator(mode="after")
    def _check(self) -> UpdateTicketType:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self

    def changes(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.model_fields_set}


EVENT_EXAMPLE: JsonDict = {
    "name": "Beethoven Night",
    "description": "Symphonies 5 and 7.",
    "venue": "Royal Albert Hall",
    "starts_at": "2026-12-01T19:30:00+01:00",
    "total_tickets": 500,
    "ticket_price": "25.00",
    "currency": "EUR",
    "max_tickets_per_booking": 10,
}


InventoryShards = Annotated[StrictInt, Field(ge=1, le=MAX_CHOSEN)]
_SHARDS = (
    f"The stock shards its open sale is split over (1 to {MAX_CHOSEN}), each a partition of its own that bookings "
    f"spread over. Null or left out: one per {TICKETS_PER_SHARD} tickets, 1 to {MAX_SHARDS} (each shard sells about "
    f"{BOOKINGS_PER_SHARD_SECOND} bookings a second; only an event of more than {MAX_CHOSEN * TICKETS_PER_SHARD:,} "
    f"tickets gets more than {MAX_CHOSEN}, so that 20,000 sell at 5,000 a second); an edit writes every shard in "
    'one transaction of at most 100 items. See docs/data-model.md, "Stock shards"'
)


class CreateEvent(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_EXAMPLE]})

    name: Name
    description: Description = ""
    venue: Venue
    starts_at: StartsAt = Field(
        description="ISO 8601 with an offset, in the future.", examples=["2026-12-01T19:30:00+01:00"]
    )
    timezone: Timezone = DEFAULT_TIMEZONE
    total_tickets: TotalTickets = Field(description="The quota every ticket type draws from")
    ticket_price: Price | None = Field(
        default=None, description=f'Without ticket_types: the price of its one "{DEFAULT_TYPE_NAME}" type'
    )
    currency: Currency | None = Field(
        None, description="An active ISO 4217 code; null or left out: the default currency."
    )
    max_tickets_per_booking: PerBooking = DEFAULT_PER_BOOKING
    max_tickets_per_user: PerUser | None = Field(
        default=None, description="Live tickets one user may hold; null: no cap"
    )
    max_held_tickets_per_user: PerUser | None = Field(default=None, description=_HELD_CEILING)
    max_holds_per_user: HoldsPerUser | None = Field(default=None, description=_HOLDS_CEILING)
    hold_cooldown_seconds: CooldownSeconds | None = Field(default=None, description=_COOLDOWN)
    ticket_types: list[CreateTicketType] | None = Field(
        default=None, min_length=1, max_length=MAX_TICKET_TYPES, description="Instead of ticket_price"
    )
    doors_open_minutes_before: DoorMinutes = Field(
        default=DOORS_OPEN_MINUTES, description="Check-in opens this many minutes before starts_at"
    )
    doors_close_minutes_after: DoorMinutes = Field(
        default=DOORS_CLOSE_MINUTES, description="Check-in closes this many minutes after starts_at"
    )
    inventory_shards: InventoryShards | None = Field(default=None, description=_SHARDS)


class UpdateEvent(RequestModel):
    """Any subset of the fields (at least one); a field that is sent may not be null."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"ticket_price": "29.00", "total_tickets": 600}]})

    name: Omittable[Name] = None
    description: Omittable[Description] = None
    venue: Omittable[Venue] = None
    starts_at: Omittable[StartsAt] = None
    timezone: Omittable[Timezone] = None
    total_tickets: Omittable[TotalTickets] = None
    ticket_price: Omittable[Price] = Field(default=None, description="Only for an event with one ticket type")
    currency: Omittable[Currency] = None
    max_tickets_per_booking: Omittable[PerBooking] = None
    max_tickets_per_user: PerUser | None = Field(default=None, description="null: no cap")
    doors_open_minutes_before: Omittable[DoorMinutes] = None
    doors_close_minutes_after: Omittable[DoorMinutes] = None
    max_held_tickets_per_user: PerUser | None = Field(default=None, description=_HELD_CEILING)
    max_holds_per_user: HoldsPerUser | None = Field(default=None, description=_HOLDS_CEILING)
    hold_cooldown_seconds: CooldownSeconds | None = Field(default=None, description=_COOLDOWN)
    inventory_shards: Omittable[InventoryShards] = Field(default=None, description=_SHARDS)

    @model_validator(mode="after")
    def _check(self) -> UpdateEvent:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self

    def changes(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.model_fields_set}


class TicketTypeOut(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a", **TYPE_EXAMPLE, "available_tickets": 97}]
        }
    )

    id: str
    name: str
    description: str
    price: PriceOut
    total_tickets: int | None = Field(description="Its own sub-quota; null: only the event's quota limits it")
    available_tickets: int | None = Field(description="Left in its sub-quota (null without one)")
    max_tickets_per_booking: int
    sales_start: dt.datetime | None
    sales_end: dt.datetime | None
    hidden: bool = Field(description="Only admins see it: in their own writes' answers and the stats")


class Event(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b6f3c1e-5d2a-4c1f-9a7e-2f1d8c3b4a50",
                    **EVENT_EXAMPLE,
                    "starts_at": "2026-12-01T18:30:00Z",
                    "timezone": "Europe/Berlin",
                    "date": "2026-12-01",
                    "time": "19:30:00",
                    "available_tickets": 498,
                    "max_tickets_per_user": None,
                    "max_held_tickets_per_user": 10,
                    "max_holds_per_user": DEFAULT_MAX_HOLDS_PER_USER,
                    "hold_cooldown_seconds": DEFAULT_HOLD_COOLDOWN_SECONDS,
                    "ticket_types": [
                        {
                            "id": "5d0e8b7a-3c2f-4e1d-9b8a-7f6e5d4c3b2a",
                            "name": DEFAULT_TYPE_NAME,
                            "description": "",
                            "price": "25.00",
                            "total_tickets": None,
                            "available_tickets": None,
                            "max_tickets_per_booking": 10,
                            "sales_start": None,
                            "sales_end": None,
                            "hidden": False,
                        }
                    ],
                    "doors_open_minutes_before": DOORS_OPEN_MINUTES,
                    "doors_close_minutes_after": DOORS_CLOSE_MINUTES,
                    "inventory_shards": 2,
                    "doors_open_at": "2026-12-01T12:30:00Z",
                    "doors_close_at": "2026-12-02T06:30:00Z",
                    "status": "ON_SALE",
                    "created_at": "2026-10-01T09:00:00Z",
                    "updated_at": "2026-10-02T10:15:00Z",
                }
            ]
        }
    )

    id: str
    name: str
    description: str
    venue: str
    starts_at: dt.datetime = Field(description="ISO 8601 in UTC")
    timezone: str = Field(description="IANA time zone of the venue")
    date: dt.date = Field(description="The local date at the venue (timezone)")
    time: TimeOfDay = Field(description="The local time of day at the venue (timezone), HH:MM:SS")
    total_tickets: int = Field(description="The event's quota, shared by its ticket types")
    available_tickets: int = Field(
        description="On sale now; in GET /events and GET /events/{event_id} it may be a second old (a booking"
        " is decided by its own transaction, never by this number)"
    )
    ticket_price: PriceOut = Field(
        description='The lowest price of the types the public sees, in the currency\'s minor unit ("25.00"); of all'
        " its types when every one is hidden"
    )
    currency: CurrencyOut
    max_tickets_per_booking: int
    max_tickets_per_user: int | None
    max_held_tickets_per_user: int = Field(description="Live tickets one account may keep in its holds")
    max_holds_per_user: int = Field(description="Live holds one account may have")
    hold_cooldown_seconds: int = Field(
        description="Seconds after a hold of theirs expired before an account may hold again"
    )
    ticket_types: list[TicketTypeOut] = Field(
        description="In public reads (GET /events, GET /events/{event_id}) without the hidden types"
    )
    doors_open_minutes_before: int
    doors_close_minutes_after: int
    inventory_shards: int = Field(
        description=f"The stock shards its open sale is split over (1-{MAX_SHARDS}; an admin chooses 1-{MAX_CHOSEN})"
    )
    doors_open_at: dt.datetime = Field(description="When check-in opens (ISO 8601 in UTC)")
    doors_close_at: dt.datetime = Field(description="When check-in has closed (ISO 8601 in UTC)")
    status: EventStatus
    created_at: dt.datetime
    updated_at: dt.datetime
