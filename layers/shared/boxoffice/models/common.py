"""Shared building blocks for request and response models."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

T = TypeVar("T")

# C0/C1 controls (tab/newline allowed only where a field says so) and lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")


class RequestModel(BaseModel):
    """Bodies reject unknown fields: nobody sets `role` or `available_tickets` by sending them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def reject_control(value: str, *, line_breaks: bool = False) -> str:
    """Refuse control characters and lone surrogates (and line breaks unless the field allows them)."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    if not line_breaks and _LINE_BREAKS.search(value):
        raise ValueError("must not contain tabs or line breaks")
    return value


def _single_line(value: str) -> str:
    return unicodedata.normalize("NFC", reject_control(value))


def _multi_line(value: str) -> str:
    return unicodedata.normalize("NFC", reject_control(value, line_breaks=True))


# Text is stored and returned as data, never interpreted: markup and SQL are inert by construction.
SingleLine = Annotated[str, AfterValidator(_single_line)]
MultiLine = Annotated[str, AfterValidator(_multi_line)]


# Every list pages the same way: `limit` 1-100 items, 20 when not given.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Page(ResponseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
