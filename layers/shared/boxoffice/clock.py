"""The one source of "now" (UTC, aware), so tests can move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def epoch() -> int:
    return int(now().timestamp())
