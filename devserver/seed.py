"""First-start data: the admin and door staff accounts, a handful of sample events, and a few tickets
already booked and checked in at one of them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from boxoffice.vocabulary import Role


@dataclass(frozen=True)
class AdminLogin:
    """A login made at first start (the admin's, or door staff's)."""

    email: str
    password: str
    generated: bool
    created: bool
    promoted: bool = False
    reset: bool = False  # an existing account's password was set to the one given


def ensure_admin(email: str | None, password: str | None, *, promote: bool = False, reset: bool = False) -> AdminLogin:
    """Create the admin through the same domain code as any account. An existing account is kept as
    it is, or with `promote` made an admin (its password stays; its older tokens stop working), or with
    `reset` given `password` (if one is given: its older tokens stop working when that changes it)."""
    from boxoffice.vocabulary import Role

    return _ensure("Administrator", Role.ADMIN, email or "admin@example.com", password, promote=promote, reset=reset)


def ensure_staff(email: str | None, password: str | None, *, reset: bool = False) -> AdminLogin:
    """A door staff account (it checks tickets in); an existing one is kept, or with `reset` given `password`."""
    from boxoffice.vocabulary import Role

    return _ensure("Door staff", Role.STAFF, email or "staff@example.com", password, promote=False, reset=reset)


def _ensure(name: str, role: Role, email: str, password: str | None, *, promote: bool, reset: bool) -> AdminLogin:
    from boxoffice.errors import EmailTaken
    from boxoffice.logic import accounts
    from boxoffice.models.users import RegisterRequest

    generated = password is None
    request = RegisterRequest(name=name, email=email, password=password or secrets.token_urlsafe(18))
    try:
        accounts.create_account(request.name, request.email, request.password, role=role)
    except EmailTaken:
        promoted = promote and accounts.change_role(request.email, role)
        was_reset = reset and not generated and accounts.reset_password(request.email, request.password)
        return AdminLogin(request.email, request.password, generated, created=False, promoted=promoted, reset=was_reset)
    return AdminLogin(request.email, request.password, generated, created=True)


SAMPLE_DOOR_EVENT = "Jazz at the Blue Note"


def ensure_sample_check_ins(staff_email: str) -> int:
    """On a first start, a sample buyer books a few tickets to the jazz night and door staff check some
    in, all through the domain code: GET /events/{id}/stats and /tickets have something to show.
    Returns how many were checked in (0 when the buyer exists already: nothing is added twice)."""
    import uuid

    from boxoffice.errors import EmailTaken
    from boxoffice.logic import accounts, bookings, checkin, events
    from boxoffice.models.bookings import BookingRequest
    from boxoffice.models.tickets import CheckInRequest
    from boxoffice.store import users
    from boxoffice.vocabulary import Principal, Role

    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:boxoffice:sample-event:{SAMPLE_DOOR_EVENT}"))
    staff = users.find_by_email(staff_email)
    if staff is None or not events.exists(event_id):
        return 0
    try:
        buyer = accounts.create_account("Sample Buyer", "buyer@example.com", secrets.token_urlsafe(18))
    except EmailTaken:
        return 0
    as_buyer, as_staff = Principal(buyer.id, Role.USER, 0), Principal(staff.id, Role.STAFF, staff.token_version)
    checked_in = 0
    for quantity, scanned in ((2, 2), (3, 1), (1, 0)):
        booking = bookings.book(as_buyer, event_id, BookingRequest(quantity=quantity)).booking
        for ticket in booking.tickets[:scanned]:
            checkin.check_in(as_staff, event_id, CheckInRequest(code=ticket.code))
            checked_in += 1
    return checked_in


# Each: a POST /events body without starts_at, plus when it starts: days from today and the local time,
# or (the jazz night, whose doors are open for the sample check-ins) minutes from now, to the quarter hour.
# Time zones from four continents; the first shows early bird / standard / VIP with a per-user cap.
SAMPLE_EVENTS: list[dict[str, Any]] = [
    {
        "name": "Beethoven Night: Symphonies 5 & 7", "venue": "Royal Albert Hall", "timezone": "Europe/London",
        "days": 14, "at": "19:30", "total_tickets": 5000, "currency": "GBP", "max_tickets_per_booking": 10,
        "max_tickets_per_user": 8, "description": "The London Philharmonic plays the Fifth and the Seventh.",
        "ticket_types": [
            {"name": "Early bird", "description": "The first 500 seats, until three days from now.",
             "price": "35.00", "total_tickets": 500, "sales_end_in_days": 3},
            {"name": "Standard", "price": "45.00"},
            {"name": "VIP", "description": "Front stalls, a programme and a glass of champagne.",
             "price": "120.00", "total_tickets": 100, "max_tickets_per_booking": 4},
        ],
    },
    # Promo codes (issue 22): EARLY10 for everyone, and an access code for the hidden press type.
    {
        "name": "The Nutcracker: Family Matinee", "venue": "Wiener Staatsoper", "timezone": "Europe/Vienna",
        "days": 20, "at": "15:00", "total_tickets": 1700, "currency": "EUR", "max_tickets_per_booking": 8,
        "description": "Tchaikovsky's ballet for all ages, in two acts.",
        "ticket_types": [
            {"name": "Adult", "price": "60.00"},
            {"name": "Child", "description": "Under 14.", "price": "30.00"},
            {"name": "Press", "description": "With the press office's access code.", "price": "0.00",
             "total_tickets": 20, "max_tickets_per_booking": 2, "hidden": True},
        ],
        "promo_codes": [
            {"code": "EARLY10", "percent": 10, "max_uses": 100},
            {"code": "PRESS-NUTCRACKER", "percent": 0, "unlocks": ["Press"], "max_uses": 20},
        ],
    },
    {"name": "Jazz at the Blue Note", "venue": "Blue Note New York", "timezone": "America/New_York",
     "in_minutes": 45, "doors_open_minutes_before": 60, "total_tickets": 200, "ticket_price": "35.00",
     "currency": "USD", "max_tickets_per_booking": 6, "max_tickets_per_user": 6,
     "description": "Two sets from a quartet in residence. Doors open an hour before."},
    {
        "name": "La Traviata", "venue": "Teatro alla Scala", "timezone": "Europe/Rome", "days": 30, "at": "20:00",
        "total_tickets": 1800, "currency": "EUR", "max_tickets_per_booking": 8,
        "description": "Verdi's opera in three acts, sung in Italian with surtitles.",
        "ticket_types": [
            {"name": "Gallery", "price": "45.00", "total_tickets": 400},
            {"name": "Stalls", "price": "120.00"},
            {"name": "Box", "description": "A box for up to four.", "price": "240.00", "total_tickets": 60,
             "max_tickets_per_booking": 4},
        ],
    },
    {"name": "Nuit de Fauré", "venue": "Salle Pleyel", "timezone": "Europe/Paris", "days": 21, "at": "20:30",
     "total_tickets": 1900, "ticket_price": "38.50", "currency": "EUR", "max_tickets_per_booking": 10,
     "description": "Requiem, Pavane and the Élégie for cello and orchestra."},
    {"name": "Mahler 2: Resurrection", "venue": "Philharmonie Berlin", "timezone": "Europe/Berlin", "days": 45,
     "at": "19:00", "total_tickets": 2400, "ticket_price": "89.00", "currency": "EUR", "max_tickets_per_booking": 10,
     "description": "Full orchestra, two soloists and the Rundfunkchor."},
    {"name": "Tokyo Jazz Festival", "venue": "Tokyo International Forum", "timezone": "Asia/Tokyo", "days": 60,
     "at": "18:00", "total_tickets": 5000, "ticket_price": "8500", "currency": "JPY", "max_tickets_per_booking": 4,
     "description": "A night of big bands and trios on the main stage."},
    {"name": "Stand-up Comedy Night", "venue": "The Comedy Store", "timezone": "Europe/London", "days": 5,
     "at": "21:00", "total_tickets": 400, "ticket_price": "18.50", "currency": "GBP", "max_tickets_per_booking": 6,
     "description": "Five comedians, one compère. Strictly 18+."},
    {"name": "Indie Rock Showcase", "venue": "Paradiso Amsterdam", "timezone": "Europe/Amsterdam", "days": 10,
     "at": "20:00", "total_tickets": 1500, "ticket_price": "29.99", "currency": "EUR", "max_tickets_per_booking": 10,
     "description": "Four up-and-coming bands; standing only."},
    {"name": "Opera under the Sails", "venue": "Sydney Opera House", "timezone": "Australia/Sydney", "days": 40,
     "at": "19:30", "total_tickets": 2600, "ticket_price": "99.00", "currency": "AUD", "max_tickets_per_booking": 8,
     "description": "Puccini's Tosca in the Joan Sutherland Theatre."},
]  # fmt: skip


def sample_request(sample: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The POST /events body of a sample: its start in its venue's local time, windows from now."""
    body = {k: v for k, v in sample.items() if k not in ("days", "at", "in_minutes", "promo_codes")}
    if "in_minutes" in sample:
        soon = now + timedelta(minutes=sample["in_minutes"] + 14)
        starts = soon.replace(minute=soon.minute // 15 * 15, second=0, microsecond=0)
    else:
        local_day = now.astimezone(ZoneInfo(sample["timezone"])).date() + timedelta(days=sample["days"])
        starts = datetime.combine(local_day, time.fromisoformat(sample["at"]), ZoneInfo(sample["timezone"]))
    body["starts_at"] = starts.isoformat()
    body["ticket_types"] = [
        {k: v for k, v in t.items() if k != "sales_end_in_days"}
        | (
            {"sales_end": (now + timedelta(days=t["sales_end_in_days"])).isoformat()}
            if "sales_end_in_days" in t
            else {}
        )
        for t in sample.get("ticket_types", [])
    ] or None
    return {k: v for k, v in body.items() if v is not None}


def ensure_sample_events() -> int:
    """Create the sample events through the same domain code as POST /events; keep any already there.

    Each sample has a stable id, so a restart against a persistent DynamoDB creates only missing ones
    (a deleted sample stays deleted). Start times are days from today, so samples are always upcoming.
    """
    import uuid

    from boxoffice.logic import events
    from boxoffice.models.events import CreateEvent

    now = datetime.now(UTC)
    created = 0
    for sample in SAMPLE_EVENTS:
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:boxoffice:sample-event:{sample['name']}"))
        if events.exists(event_id):
            continue
        event = events.add_event(CreateEvent.model_validate(sample_request(sample, now)), event_id=event_id)
        add_sample_codes(event_id, {t.name: t.id for t in event.ticket_types}, sample.get("promo_codes", []))
        created += 1
    return created


def add_sample_codes(event_id: str, type_ids: dict[str, str], codes: list[dict[str, Any]]) -> None:
    """A sample's promo codes, through the same domain code as POST /events/{id}/promo-codes (the types
    they unlock named by name)."""
    from boxoffice.logic import promocodes
    from boxoffice.models.promocodes import CreatePromoCode

    for code in codes:
        body = code | {"unlocks": [type_ids[name] for name in code.get("unlocks", [])]}
        promocodes.add_promo_code(event_id, CreatePromoCode.model_validate(body))
