"""Passwords (bcrypt) and access tokens (JWT, HS256 pinned).

bcrypt and PyJWT are imported where they are used: only the functions that hash, verify or sign pay
for them (every function imports this module through http).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from boxoffice import clock, keys
from boxoffice.config import DEPLOYED_BCRYPT_ROUNDS, settings
from boxoffice.errors import NotAuthenticated
from boxoffice.vocabulary import Principal, Role

ALGORITHM = "HS256"
CLAIMS = ("sub", "role", "ver", "iat", "exp", "iss", "aud")
CLOCK_SKEW_SECONDS = 30  # a token minted by an instance whose clock runs slightly ahead is still good


def hash_password(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=settings().bcrypt_rounds)).decode()


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the account exists: unknown emails verify a dummy hash."""
    import bcrypt

    candidate = (password_hash or dummy_hash()).encode()
    return bcrypt.checkpw(password.encode(), candidate) and password_hash is not None


# A hash of no one's password at the deployed cost, so the first unknown-email login of an
# instance costs one bcrypt check like every other, not two (hashing it first would tell).
_DUMMY_HASHES = {DEPLOYED_BCRYPT_ROUNDS: "$2b$12$qaKnL8ele5x0T3/ZMwp.P.WfShVTk/dDNsr51UgaUrhft5HKUIboa"}


@cache
def dummy_hash() -> str:
    rounds = settings().bcrypt_rounds
    return _DUMMY_HASHES.get(rounds) or hash_password("never-a-password")


def signing_secret() -> str:
    """The key new tokens are signed with: the secret's current version."""
    return keys.signing_keys().current


def issue_token(user_id: str, role: Role, token_version: int) -> tuple[str, int]:
    import jwt

    config = settings()
    now = clock.epoch()
    claims = {
        "sub": user_id,
        "role": role,
        "ver": token_version,
        "iat": now,
        "exp": now + config.token_ttl_seconds,
        "iss": config.jwt_issuer,
        "aud": config.jwt_audience,
    }
    return jwt.encode(claims, signing_secret(), algorithm=ALGORITHM), config.token_ttl_seconds


def read_token(authorization: str | None) -> Principal:
    """Verify `Authorization: Bearer <jwt>`; anything missing, malformed or expired is a 401."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated()
    # A token no cached key signed may come from an instance that saw a rotation first: look again.
    claims = _decode(token.strip(), keys.signing_keys()) or _decode(token.strip(), keys.signing_keys(recheck=True))
    if claims is None:
        raise NotAuthenticated("The token is invalid or expired.")
    sub, role, version, issued, expires = (claims[name] for name in ("sub", "role", "ver", "iat", "exp"))
    now = clock.epoch()
    if not (
        isinstance(sub, str)
        and role in tuple(Role)  # (compared, never hashed: a claim may be a list)
        and all(_is_int(v) for v in (version, issued, expires))
        and issued <= now + CLOCK_SKEW_SECONDS
        and now < expires
    ):
        raise NotAuthenticated("The token is invalid or expired.")
    return Principal(sub, Role(role), version)


def _decode(token: str, signing: keys.SigningKeys) -> dict[str, Any] | None:
    """The verified claims, or None when no key of `signing` signed the token."""
    import jwt

    config = settings()
    for key in signing.verifying:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=config.jwt_audience,
                issuer=config.jwt_issuer,
                # Times are checked by read_token against boxoffice.clock, the one "now" (tests move it).
                options={"require": [*CLAIMS], "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise NotAuthenticated("The token is invalid or expired.") from exc
        return claims
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
