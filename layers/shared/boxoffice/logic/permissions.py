"""Who may do what, decided from the verified token (the store still checks it is current)."""

from __future__ import annotations

from boxoffice.auth import Principal
from boxoffice.errors import Forbidden


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only administrators may do this.")


def require_staff(principal: Principal) -> None:
    """Door staff, and admins, who may do everything staff may."""
    if principal.role not in ("staff", "admin"):
        raise Forbidden("Only door staff and administrators may do this.")
