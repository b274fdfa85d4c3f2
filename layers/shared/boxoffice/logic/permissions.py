"""Who may do what, decided from the verified token (the store still checks it is current)."""

from __future__ import annotations

from boxoffice.auth import Principal
from boxoffice.errors import Forbidden, NotAuthenticated
from boxoffice.store.users import UserRecord


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only administrators may do this.")


def require_staff(principal: Principal) -> None:
    """Door staff, and admins, who may do everything staff may."""
    if principal.role not in ("staff", "admin"):
        raise Forbidden("Only door staff and administrators may do this.")


def require_current(principal: Principal, account: UserRecord | None) -> None:
    """The caller's account, as just read, still honours the token (not revoked by a password or role change)."""
    if account is None or account.token_version != principal.token_version:
        raise NotAuthenticated("The token was revoked.")
