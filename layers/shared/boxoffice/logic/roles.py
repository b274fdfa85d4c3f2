"""Roles: admins find an account by email and make it a user, door staff or an admin.

A role change revokes the account's older tokens (they carry the old role); the last admin stays one.
"""

from __future__ import annotations

from boxoffice import ids, retry
from boxoffice.errors import InvalidInput, UserNotFound
from boxoffice.logic.accounts import public_user
from boxoffice.logic.permissions import require_current
from boxoffice.models.users import RoleChange, User, normalise_email
from boxoffice.observability import logger
from boxoffice.store import users
from boxoffice.vocabulary import Principal, Role, UserRecord


def role_change(target: UserRecord | None, role: Role) -> tuple[UserRecord, bool]:
    """The account and whether giving it the role changes anything: the same role again changes (and
    revokes) nothing; UserNotFound when there is no such account."""
    if target is None:
        raise UserNotFound()
    return target, target.role != role


def find_user(principal: Principal, email: str) -> User:
    """The account with exactly this email (compared as stored: trimmed, NFC, lower case)."""
    try:
        normalised = normalise_email(email)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="email") from None
    caller, found = users.find_for_admin(principal.user_id, normalised)
    require_current(principal, caller)
    if found is None:
        raise UserNotFound()
    return public_user(found)


def set_role(principal: Principal, user_id: str, request: RoleChange) -> User:
    """Give the account `request.role`; the same role again changes nothing (and revokes nothing)."""
    if not ids.is_uuid(user_id):
        raise UserNotFound()

    def attempt() -> User:
        caller, target = users.read_pair(principal.user_id, user_id)
        require_current(principal, caller)
        target, changes = role_change(target, request.role)
        if not changes:
            return public_user(target)
        changed = users.change_role(target, request.role, caller=principal)
        logger.info(
            "Role changed",
            extra={"user_id": target.id, "from_role": target.role, "to_role": changed.role, "by": principal.user_id},
        )
        return public_user(changed)

    return retry.retried(attempt)
