"""Promo and access codes of an event, as an admin sends and reads them (docs/promo-codes.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictInt, model_validator
from pydantic.config import JsonDict

from boxoffice.ids import UUID_PATTERN
from boxoffice.models.common import Code, Omittable, PriceOut, RequestModel, ResponseModel
from boxoffice.models.events import Price, StartsAt
from boxoffice.records import MAX_TICKET_TYPES

MAX_USES = 1_000_000
DISCOUNTS = ("percent", "amount_off", "fixed_price")

Percent = Annotated[StrictInt, Field(ge=0, le=100, description="0-100; 0 only with `unlocks` (an access code)")]
MaxUses = Annotated[StrictInt, Field(ge=1, le=MAX_USES)]
TypeIds = Annotated[
    list[Annotated[str, Field(pattern=f"^{UUID_PATTERN}$")]], Field(min_length=1, max_length=MAX_TICKET_TYPES)
]
Unlocks = Annotated[list[Annotated[str, Field(pattern=f"^{UUID_PATTERN}$")]], Field(max_length=MAX_TICKET_TYPES)]
_AMOUNT = "In the event's currency, exact in its minor unit: off each ticket it applies to (never below 0)"
_FIXED = "In the event's currency, exact in its minor unit: each ticket's price with the code (never above its own)"
_TYPES = "The event's ticket types it discounts; null: all of them"
_MAX_USES = "Tickets (not bookings) it may discount in all; null: unlimited"
_UNTIL = "The first instant it no longer applies; after valid_from"
_UNLOCKS = "Hidden ticket types of the event its holder may buy"

EXAMPLE: JsonDict = {
    "code": "EARLY10",
    "percent": 10,
    "ticket_type_ids": None,
    "max_uses": 100,
    "valid_from": None,
    "valid_until": "2026-11-01T00:00:00Z",
}


def _one_discount(fields: dict[str, Any], *, required: bool) -> None:
    given = [f for f in DISCOUNTS if fields.get(f) is not None]
    if len(given) > 1 or (required and not given):
        raise ValueError("give exactly one of percent, amount_off and fixed_price")


def _window(valid_from: dt.datetime | None, valid_until: dt.datetime | None) -> None:
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise ValueError("valid_until must be after valid_from")


class CreatePromoCode(RequestModel):
    """A code and exactly one discount; everything else optional."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    code: Code
    percent: Percent | None = None
    amount_off: Price | None = Field(default=None, description=_AMOUNT)
    fixed_price: Price | None = Field(default=None, description=_FIXED)
    ticket_type_ids: TypeIds | None = Field(default=None, description=_TYPES)
    max_uses: MaxUses | None = Field(default=None, description=_MAX_USES)
    valid_from: StartsAt | None = Field(default=None, description="Null: at once")
    valid_until: StartsAt | None = Field(default=None, description=_UNTIL)
    unlocks: Unlocks = Field(default_factory=list, description=_UNLOCKS)

    @model_validator(mode="after")
    def _check(self) -> CreatePromoCode:
        _one_discount(self.__dict__, required=True)
        if self.percent == 0 and not self.unlocks:
            raise ValueError("percent 0 is an access code: give the hidden types it unlocks")
        if self.amount_off is not None and self.amount_off == 0:
            raise ValueError("amount_off must be more than 0")
        _window(self.valid_from, self.valid_until)
        return self


class UpdatePromoCode(RequestModel):
    """Any subset of the fields but `code` (at least one). A discount given replaces the code's (at most one);
    ticket_type_ids, max_uses, valid_from and valid_until may be null (all types, unlimited, no bound)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"max_uses": 50, "valid_until": None}]})

    percent: Omittable[Percent] = None
    amount_off: Omittable[Price] = Field(default=None, description=_AMOUNT)
    fixed_price: Omittable[Price] = Field(default=None, description=_FIXED)
    ticket_type_ids: TypeIds | None = Field(default=None, description=_TYPES)
    max_uses: MaxUses | None = Field(
        default=None, description=_MAX_USES + "; below `uses`, the code is used up (nothing sold is undone)"
    )
    valid_from: StartsAt | None = None
    valid_until: StartsAt | None = Field(default=None, description=_UNTIL)
    unlocks: Omittable[Unlocks] = Field(default=None, description=_UNLOCKS)

    @model_validator(mode="after")
    def _check(self) -> UpdatePromoCode:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        _one_discount(self.__dict__, required=False)
        if self.amount_off is not None and self.amount_off == 0:
            raise ValueError("amount_off must be more than 0")
        return self

    def changes(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.model_fields_set}


class PromoCodeOut(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
                    **EXAMPLE,
                    "amount_off": None,
                    "fixed_price": None,
                    "unlocks": [],
                    "uses": 12,
                    "discount_given": "30.00",
                    "created_at": "2026-10-01T09:00:00Z",
                    "updated_at": "2026-10-01T09:00:00Z",
                }
            ]
        }
    )

    id: str = Field(description="Tells this code from a later one of the same text")
    code: str = Field(description="Upper-case")
    percent: int | None
    amount_off: PriceOut | None
    fixed_price: PriceOut | None
    ticket_type_ids: list[str] | None = Field(description=_TYPES)
    max_uses: int | None = Field(description=_MAX_USES)
    uses: int = Field(description="Tickets sold with it (given back when they are cancelled)")
    discount_given: PriceOut = Field(description="The discount of the tickets sold with it, in the event's currency")
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    unlocks: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime
