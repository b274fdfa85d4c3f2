"""The one source of "now" (UTC, aware), so tests can move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def text(at: datetime) -> str:
    """An instant as every answer writes it: in UTC, in the JSON form of the response models (pydantic's,
    `Z`), so a problem's member and a model's field show the same instant the same way."""
    from pydantic_core import to_jsonable_python

    written: str = to_jsonable_python(at.astimezone(UTC))
    return written


def epoch() -> int:
    return int(now().timestamp())
