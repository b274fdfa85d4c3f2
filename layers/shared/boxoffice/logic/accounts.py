"""Registration, login (with throttling), and the caller's own profile."""

from __future__ import annotations

import uuid

from boxoffice import auth, clock
from boxoffice.auth import Principal
from boxoffice.config import settings
from boxoffice.errors import InvalidCredentials, NotAuthenticated, TooManyAttempts, WrongPassword
from boxoffice.models.users import LoginRequest, RegisterRequest, Token, UpdateMeRequest, User
from boxoffice.store import users
from boxoffice.store.users import UserRecord


def _public(record: UserRecord) -> User:
    return User(id=record.id, name=record.name, email=record.email, role=record.role, created_at=record.created_at)  # type: ignore[arg-type]


def create_account(name: str, email: str, password: str, *, role: str = "user") -> User:
    record = UserRecord(
        id=str(uuid.uuid4()),
        name=name,
        email=email,
        role=role,
        password_hash=auth.hash_password(password),
        token_version=0,
        created_at=clock.now(),
    )
    users.create(record)
    return _public(record)


def register(request: RegisterRequest) -> User:
    """Anyone may register, always as a plain user; admins are created by operators."""
    return create_account(request.name, request.email, request.password)


def login(request: LoginRequest) -> Token:
    config = settings()
    now = clock.epoch()
    user_id, failures = users.find_for_login(request.email)
    if failures and failures.failures >= config.login_max_failures:
        retry_after = failures.window_start + config.login_window_seconds - now
        if retry_after > 0:
            raise TooManyAttempts(retry_after)
    record = users.get(user_id) if user_id else None
    # Unknown email and wrong password do the same work and give the same answer.
    if not auth.verify_password(request.password, record.password_hash if record else None) or record is None:
        users.record_login_failure(request.email, now)
        raise InvalidCredentials()
    if failures:
        users.clear_login_failures(request.email)
    token, expires_in = auth.issue_token(record.id, record.role, record.token_version)
    return Token(access_token=token, expires_in=expires_in, user=_public(record))


def current_user(principal: Principal) -> UserRecord:
    """The caller's account, if the token is still current (not revoked by a password change)."""
    record = users.get(principal.user_id)
    if record is None or record.token_version != principal.token_version:
        raise NotAuthenticated("The token was revoked.")
    return record


def me(principal: Principal) -> User:
    return _public(current_user(principal))


def update_me(principal: Principal, request: UpdateMeRequest) -> User:
    record = current_user(principal)
    password_hash = None
    if request.password is not None:
        if not auth.verify_password(request.current_password or "", record.password_hash):
            raise WrongPassword()
        password_hash = auth.hash_password(request.password)
    return _public(users.update(record, name=request.name, password_hash=password_hash))
