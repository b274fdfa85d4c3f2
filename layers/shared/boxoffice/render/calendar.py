"""Calendar entries (icalendar, BSD licence): RFC 5545, in the venue's time zone."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from boxoffice.render import CalendarEntry

PRODUCT = "-//boxoffice//tickets//EN"


def ics(entry: CalendarEntry, *, stamp: datetime) -> bytes:
    """A VCALENDAR with the event and the VTIMEZONE its start names, so a calendar in another zone shows
    the right hour, also across a daylight-saving change. No end: the API knows only when it starts."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{entry.event_id}@boxoffice")  # the same event updates, never duplicates, an entry
    event.add("dtstamp", stamp)
    event.add("dtstart", entry.starts_at)
    event.add("summary", entry.name)
    event.add("location", entry.venue)
    if entry.description:
        event.add("description", entry.description)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
