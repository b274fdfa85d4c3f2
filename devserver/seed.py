"""First-start data: the admin and door staff accounts, a handful of sample events, and a few tickets
already booked and checked in at one of them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class AdminLogin:
    """A login made at first start (the admin's, or door staff's)."""

    email: str
    password: str
    generated: bool
    created: bool
    promoted: bool = False


def ensure_admin(email: str | None, password: str | None, *, promote: bool = False) -> AdminLogin:
    """Create the admin through the same domain code as any account. An existing account is kept as
    it is, or with `promote` made an admin (its password stays; its older tokens stop working)."""
    from boxoffice.errors import EmailTaken
    from boxoffice.logic import accounts
    from boxoffice.models.users import RegisterRequest

    generated = password is None
    request = RegisterRequest(
        name="Administrator",
        email=email or "admin@example.com",
        password=password or secrets.token_urlsafe(18),
    )
    try:
        accounts.create_account(request.name, request.email, request.password, role="admin")
    except EmailTaken:
        promoted = promote and accounts.change_role(request.email, "admin")
        return AdminLogin(request.email, request.password, generated, created=False, promoted=promoted)
    return AdminLogin(request.email, request.password, generated, created=True)


def ensure_staff(email: str | None, password: str | None) -> AdminLogin:
    """A door staff account (it checks tickets in); an existing account of that email is kept as it is."""
    from boxoffice.errors import EmailTaken
    from boxoffice.logic import accounts
    from boxoffice.models.users import RegisterRequest

    request = RegisterRequest(
        name="Door staff", email=email or "staff@example.com", password=password or secrets.token_urlsafe(18)
    )
    try:
        accounts.create_account(request.name, request.email, request.password, role="staff")
    except EmailTaken:
        return AdminLogin(request.email, request.password, password is None, created=False)
    return AdminLogin(request.email, request.password, password is None, created=True)


SAMPLE_DOOR_EVENT = "Jazz at the Blue Note"


def ensure_sample_check_ins(staff_email: str) -> int:
    """On a first start, a sample buyer books a few tickets to the jazz night and door staff check some
    in, all through the domain code: GET /events/{id}/stats and /tickets have something to show.
    Returns how many were checked in (0 when the buyer exists already: nothing is added twice)."""
    import uuid

    from boxoffice.auth import Principal
    from boxoffice.errors import EmailTaken
    from boxoffice.logic import accounts, bookings, checkin, events
    from boxoffice.models.bookings import BookingRequest
    from boxoffice.models.tickets import CheckInRequest
    from boxoffice.store import users

    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:boxoffice:sample-event:{SAMPLE_DOOR_EVENT}"))
    staff = users.find_by_email(staff_email)
    if staff is None or not events.exists(event_id):
        return 0
    try:
        buyer = accounts.create_account("Sample Buyer", "buyer@example.com", secrets.token_urlsafe(18))
    except EmailTaken:
        return 0
    as_buyer, as_staff = Principal(buyer.id, "user", 0), Principal(staff.id, "staff", staff.token_version)
    checked_in = 0
    for quantity, scanned in ((2, 2), (3, 1), (1, 0)):
        booking = bookings.book(as_buyer, event_id, BookingRequest(quantity=quantity)).booking
        for ticket in booking.tickets[:scanned]:
            checkin.check_in(as_staff, event_id, CheckInRequest(code=ticket.code))
            checked_in += 1
    return checked_in


# name, venue, days from today, local start, UTC offset, tickets, price, currency, per booking, description
SAMPLE_EVENTS: list[tuple[str, str, int, str, str, int, str, str, int, str]] = [
    ("Beethoven Night: Symphonies 5 & 7", "Royal Albert Hall", 14, "19:30", "+00:00", 5000, "45.00", "GBP", 10,
     "The London Philharmonic plays the Fifth and the Seventh."),
    ("Jazz at the Blue Note", "Blue Note New York", 3, "20:00", "-05:00", 200, "35.00", "USD", 6,
     "Two sets from a quartet in residence. Doors open an hour before."),
    ("La Traviata", "Teatro alla Scala", 30, "20:00", "+01:00", 1800, "120.00", "EUR", 8,
     "Verdi's opera in three acts, sung in Italian with surtitles."),
    ("Nuit de Fauré", "Salle Pleyel", 21, "20:30", "+01:00", 1900, "38.50", "EUR", 10,
     "Requiem, Pavane and the Élégie for cello and orchestra."),
    ("Mahler 2: Resurrection", "Philharmonie Berlin", 45, "19:00", "+01:00", 2400, "89.00", "EUR", 10,
     "Full orchestra, two soloists and the Rundfunkchor."),
    ("Tokyo Jazz Festival", "Tokyo International Forum", 60, "18:00", "+09:00", 5000, "8500", "JPY", 4,
     "A night of big bands and trios on the main stage."),
    ("Stand-up Comedy Night", "The Comedy Store", 5, "21:00", "+00:00", 400, "18.50", "GBP", 6,
     "Five comedians, one compère. Strictly 18+."),
    ("Indie Rock Showcase", "Paradiso Amsterdam", 10, "20:00", "+01:00", 1500, "29.99", "EUR", 10,
     "Four up-and-coming bands; standing only."),
]  # fmt: skip


def ensure_sample_events() -> int:
    """Create the sample events through the same domain code as POST /events; keep any already there.

    Each sample has a stable id, so a restart against a persistent DynamoDB creates only missing ones
    (a deleted sample stays deleted). Start times are days from today, so samples are always upcoming.
    """
    import uuid
    from datetime import UTC, datetime, timedelta

    from boxoffice.logic import events
    from boxoffice.models.events import CreateEvent

    today = datetime.now(UTC).date()
    created = 0
    for name, venue, days, start, offset, tickets, price, currency, per_booking, description in SAMPLE_EVENTS:
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:boxoffice:sample-event:{name}"))
        if events.exists(event_id):
            continue
        request = CreateEvent.model_validate(
            {
                "name": name,
                "description": description,
                "venue": venue,
                "starts_at": f"{today + timedelta(days=days)}T{start}:00{offset}",
                "total_tickets": tickets,
                "ticket_price": price,
                "currency": currency,
                "max_tickets_per_booking": per_booking,
            }
        )
        events.add_event(request, event_id=event_id)
        created += 1
    return created
