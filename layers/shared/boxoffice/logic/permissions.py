"""Who may do what, decided from the verified token (the store still checks it is current)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from boxoffice.errors import DomainError, Forbidden, NotAuthenticated
from boxoffice.vocabulary import Principal, Role

if TYPE_CHECKING:  # only a type here: the edge imports this module and no route needs the store for it
    from boxoffice.vocabulary import UserRecord

Record = TypeVar("Record")


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only administrators may do this.")


def require_staff(principal: Principal) -> None:
    """Door staff, and admins, who may do everything staff may."""
    if principal.role not in (Role.STAFF, Role.ADMIN):
        raise Forbidden("Only door staff and administrators may do this.")


def require_current(principal: Principal, account: UserRecord | None) -> None:
    """The caller's account, as just read, still honours the token (not revoked by a password or role change)."""
    if account is None or account.token_version != principal.token_version:
        raise NotAuthenticated.revoked()


def owned(
    principal: Principal,
    record_id: str,
    *,
    shape: Callable[[str], bool],
    read: Callable[[str, str], tuple[UserRecord | None, Record | None]],
    missing: type[DomainError],
) -> Record:
    """The caller's record (a booking, a hold), read with their account in one call by `read(user id, id)`:
    anyone else's is as missing as one that never existed, and an id of another `shape` never reaches
    DynamoDB as a key."""
    if not shape(record_id):
        raise missing()
    account, record = read(principal.user_id, record_id)
    require_current(principal, account)
    if record is None:
        raise missing()
    return record
