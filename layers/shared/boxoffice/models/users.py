"""Accounts: registration, login and the profile."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from boxoffice.models.common import RequestModel, ResponseModel, SingleLine

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mail's job.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores bytes past 72: reject instead of truncating silently.


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("must be a valid email address")
    return email


def _password(value: str) -> str:
    size = len(value.encode("utf-8"))
    if size < MIN_PASSWORD_BYTES or size > MAX_PASSWORD_BYTES:
        raise ValueError(f"must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes in UTF-8")
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(normalise_email)]
Password = Annotated[str, Field(max_length=MAX_PASSWORD_BYTES), AfterValidator(_password)]
Name = Annotated[SingleLine, Field(min_length=1, max_length=100)]
Role = Literal["user", "admin"]


class RegisterRequest(RequestModel):
    name: Name
    email: Email
    password: Password


class LoginRequest(RequestModel):
    email: Email
    # Any string up to bcrypt's limit: a wrong password gets 401, not a hint about the rules.
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_BYTES)]


class UpdateMeRequest(RequestModel):
    name: Name | None = None
    password: Password | None = None
    current_password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_BYTES)] | None = None

    @model_validator(mode="after")
    def _check(self) -> UpdateMeRequest:
        if self.name is None and self.password is None:
            raise ValueError("give at least one of name or password")
        if self.password is not None and self.current_password is None:
            raise ValueError("current_password is required to change the password")
        return self


class User(ResponseModel):
    id: str
    name: str
    email: str
    role: Role
    created_at: datetime


class Token(ResponseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: User
