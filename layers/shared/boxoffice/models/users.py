"""Accounts: registration, login and the profile."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator
from pydantic.config import JsonDict

from boxoffice.models.common import (
    Omittable,
    RequestModel,
    ResponseModel,
    SingleLine,
    reject_control,
    reject_format,
)
from boxoffice.vocabulary import Role

# The one email rule, the document's pattern and the server's check alike (ECMA-262 and Python read it
# the same way): a local part and domain labels of anything but spaces, controls, invisible formatting
# characters and "@"; a top-level domain of letters, or an IDN's xn-- label; spaces around are trimmed.
# Deliverability is the mail's job.
_NOT_IN_ADDRESS = r"\x00-\x20\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff@"
EMAIL_PATTERN = (
    rf"^\s*[^{_NOT_IN_ADDRESS}\s]+@(?:[^{_NOT_IN_ADDRESS}\s.]+\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})\s*$"
)
_EMAIL = re.compile(EMAIL_PATTERN)
MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores bytes past 72: reject instead of truncating silently.


def normalise_email(value: str) -> str:
    """Trimmed, NFKC, case-folded: the one form an address is stored, claimed and looked up in.

    NFKC makes look-alikes one address (a fullwidth "ｃ" is "c"), and case folding goes further than
    lower() ("ß" is "ss"); NFKC again after folding keeps the result in normal form. Format characters
    (category Cf, e.g. a zero-width space) are invisible, so they are refused rather than dropped.
    """
    text = reject_format(reject_control(value.strip()))
    email = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    # As sent (the documented rule) and as stored: folding must not make an address of what was none.
    if len(email) > 254 or not _EMAIL.match(text) or not _EMAIL.match(email):
        raise ValueError("must be a valid email address")
    return email


def password_bytes(value: str, minimum: int) -> str:
    """bcrypt counts UTF-8 bytes, not characters: `minimum`..72 of them."""
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    if not minimum <= size <= MAX_PASSWORD_BYTES:
        raise ValueError(f"must be {minimum} to {MAX_PASSWORD_BYTES} bytes in UTF-8")
    return value


def _new_password(value: str) -> str:
    return password_bytes(reject_control(value), MIN_PASSWORD_BYTES)


def _given_password(value: str) -> str:
    # Any string bcrypt can check: a wrong password gets 401, not a hint about the rules.
    return password_bytes(value, 1)


# The documented rule is the pattern alone (no `format`: validators' ideas of an email differ, and
# this one takes international addresses); the server then folds case and look-alikes (normalise_email).
_EMAIL_SCHEMA = {
    "pattern": EMAIL_PATTERN,
    "description": "An email address: trimmed, then compared ignoring case and look-alike characters.",
    "examples": ["ada@example.com", "Ada.Lovelace+tickets@Example.co.uk", "jürgen@bücher.de"],
}
Email = Annotated[str, Field(max_length=254, json_schema_extra=_EMAIL_SCHEMA), AfterValidator(normalise_email)]
Name = Annotated[SingleLine, Field(min_length=1, max_length=100, examples=["Ada Lovelace"])]
# Passwords are taken exactly as typed (never stripped) and kept out of reprs, hence out of debug logs.
# JSON Schema counts characters, bcrypt bytes: the lengths below are the rule for ASCII passwords.
_Unstripped = StringConstraints(strip_whitespace=False, max_length=MAX_PASSWORD_BYTES)
NewPassword = Annotated[
    str,
    _Unstripped,
    AfterValidator(_new_password),
    Field(
        description=f"{MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes in UTF-8, no control characters.",
        json_schema_extra={"minLength": MIN_PASSWORD_BYTES, "examples": ["correct horse"]},
    ),
]
GivenPassword = Annotated[
    str,
    _Unstripped,
    AfterValidator(_given_password),
    Field(
        description=f"1 to {MAX_PASSWORD_BYTES} bytes in UTF-8.",
        json_schema_extra={"minLength": 1, "examples": ["correct horse"]},
    ),
]


class RegisterRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Ada Lovelace", "email": "ada@example.com", "password": "correct horse"}]
        }
    )

    name: Name
    email: Email
    password: NewPassword = Field(repr=False)


class LoginRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "ada@example.com", "password": "correct horse"}]}
    )

    email: Email
    password: GivenPassword = Field(repr=False)


class UpdateMeRequest(RequestModel):
    """A new name, a new password (with the current one), or both; a field that is sent may not be null."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Ada King"}, {"password": "new horse staple", "current_password": "correct horse"}]
        }
    )

    name: Omittable[Name] = None
    password: Omittable[NewPassword] = Field(default=None, repr=False)
    current_password: Omittable[GivenPassword] = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _check(self) -> UpdateMeRequest:
        if self.name is None and self.password is None:
            raise ValueError("give at least one of name or password")
        if self.password is not None and self.current_password is None:
            raise ValueError("current_password is required to change the password")
        return self


USER_EXAMPLE: JsonDict = {
    "id": "5f0c2d7e-8a41-4c6b-9d3e-1b2a3c4d5e6f",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "role": "user",
    "created_at": "2026-10-01T09:00:00Z",
}


class RoleChange(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "staff"}]})

    role: Role


class User(ResponseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [USER_EXAMPLE]})

    id: str
    name: str
    email: str
    role: Role
    created_at: datetime


class Token(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiJ9.e30.sig",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "user": USER_EXAMPLE,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: User
