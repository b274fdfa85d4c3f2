"""Registration, login (with throttling), the caller's own profile, and role changes."""

from __future__ import annotations

from boxoffice import auth, clock, ids
from boxoffice.config import settings
from boxoffice.errors import InvalidCredentials, NotAuthenticated, WrongPassword
from boxoffice.models.users import LoginRequest, RegisterRequest, Token, UpdateMeRequest, User
from boxoffice.store import throttle, users
from boxoffice.vocabulary import Principal, Role, UserRecord


def public_user(record: UserRecord) -> User:
    return User(id=record.id, name=record.name, email=record.email, role=record.role, created_at=record.created_at)


def create_account(name: str, email: str, password: str, *, role: Role = Role.USER) -> User:
    record = UserRecord(
        id=ids.new_uuid(),
        name=name,
        email=email,
        role=role,
        password_hash=auth.hash_password(password),
        token_version=0,
        created_at=clock.now(),
    )
    users.create(record)
    return public_user(record)


def register(request: RegisterRequest) -> User:
    """Anyone may register, always as a plain user; admins are created by operators."""
    return create_account(request.name, request.email, request.password)


def _claim_check(email: str, source_ip: str) -> throttle.Claim:
    """Count a password check of the account from this address before running it (429 once the
    window's limits are reached), so that racing guesses cannot outrun the count."""
    config = settings()
    limits = throttle.Limits(
        window=config.login_window_seconds,
        per_address=config.login_max_failures,
        per_account=config.login_max_account_failures,
    )
    return throttle.claim(email, source_ip, clock.epoch(), limits)


def _password_matches(claim: throttle.Claim, password: str, password_hash: str | None) -> bool:
    """bcrypt, under a claim: a wrong password stays counted, a right one gives its count back."""
    if not auth.verify_password(password, password_hash):
        return False
    throttle.release(claim)
    return True


def login(request: LoginRequest, source_ip: str) -> Token:
    claim = _claim_check(request.email, source_ip)
    record = users.find_by_email(request.email)
    # Unknown email and wrong password do the same work and give the same answer.
    if not _password_matches(claim, request.password, record.password_hash if record else None) or record is None:
        raise InvalidCredentials()
    token, expires_in = auth.issue_token(record.id, record.role, record.token_version)
    return Token(access_token=token, expires_in=expires_in, user=public_user(record))


def current_user(principal: Principal, *, with_password: bool = False) -> UserRecord:
    """The caller's account, if the token is still current (not revoked by a password change); its
    password hash only if asked for (the password change: no other function may read it)."""
    record = users.get(principal.user_id, with_password=with_password)
    if record is None or record.token_version != principal.token_version:
        raise NotAuthenticated.revoked()
    return record


def me(principal: Principal) -> User:
    return public_user(current_user(principal))


def update_me(principal: Principal, request: UpdateMeRequest, source_ip: str) -> User:
    record = current_user(principal, with_password=True)
    password_hash = None
    if request.password is not None:
        # Counted as a login is: a stolen token must not make guessing the password free.
        claim = _claim_check(record.email, source_ip)
        if not _password_matches(claim, request.current_password or "", record.password_hash):
            raise WrongPassword()
        password_hash = auth.hash_password(request.password)
    return public_user(users.update(record, name=request.name, password_hash=password_hash))


def change_role(email: str, role: Role) -> bool:
    """Give the account registered with `email` a role; True if that changed it. A change revokes the
    account's older tokens (the store bumps its token version): a token's role is otherwise trusted
    until it expires."""
    user_id = users.find_id(email)
    return user_id is not None and users.set_role(user_id, role)


def reset_password(email: str, password: str) -> bool:
    """An operator's reset of the account registered with `email` (the local runtime's ADMIN_PASSWORD):
    True if it changed the password, which revokes the account's older tokens as a change by its owner does."""
    record = users.find_by_email(email)
    if record is None or auth.verify_password(password, record.password_hash):
        return False
    users.update(record, name=None, password_hash=auth.hash_password(password))
    return True
