"""First-start data: the admin account (and, once events exist, sample events)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class AdminLogin:
    email: str
    password: str
    generated: bool
    created: bool


def ensure_admin(email: str | None, password: str | None) -> AdminLogin:
    """Create the admin through the same domain code as any account; keep an existing one."""
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
        return AdminLogin(request.email, request.password, generated, created=False)
    return AdminLogin(request.email, request.password, generated, created=True)


def ensure_sample_events() -> int:
    return 0  # TODO(events issue): load sample events
