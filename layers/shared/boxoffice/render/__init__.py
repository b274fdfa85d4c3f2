"""What a buyer holds in hand: PDF tickets, QR codes, calendar entries and e-mails.

Pure presentation: plain values in, bytes or text out; nothing here reads a table or knows HTTP. The
libraries (segno, fpdf2, icalendar, Jinja2) come from the render layer, attached only to the functions
that render, so each module imports its own and no other function pays for them. This module holds what
the renderers are given, and imports none of them: logic imports it at init and a renderer when it renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def local_time(at: datetime, timezone: str) -> str:
    """`at` (aware, in `timezone`) as a person reads it: "Saturday 12 December 2026, 20:00 CET (Europe/Berlin)"."""
    return f"{at:%A} {at.day} {at:%B %Y, %H:%M} {at.tzname()} ({timezone})"


@dataclass(frozen=True, slots=True)
class TicketPage:
    """What one ticket page shows."""

    event_name: str
    starts_at: datetime  # aware, in the venue's time zone
    timezone: str  # its IANA name
    venue: str
    ticket_type: str
    ticket_number: str
    holder: str
    code: str  # the signed code the QR carries


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    event_id: str
    name: str
    description: str
    venue: str
    starts_at: datetime  # aware, in the venue's time zone (a zoneinfo zone)
