"""Typed settings, read from the environment once per cold start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache

DEPLOYED_BCRYPT_ROUNDS = 12


@dataclass(frozen=True, slots=True)
class Settings:
    stage: str
    users_table: str
    events_table: str
    bookings_table: str
    tickets_table: str
    event_bus_name: str  # where domain events go (the stream function's only)
    dynamodb_endpoint_url: str | None
    jwt_secret: str | None
    jwt_secret_arn: str | None
    jwt_issuer: str
    jwt_audience: str
    token_ttl_seconds: int
    bcrypt_rounds: int
    default_currency: str
    max_body_bytes: int
    login_max_failures: int  # per account and source address, per window
    login_max_account_failures: int  # per account, from every address together, per window
    login_window_seconds: int
    idempotency_ttl_seconds: int
    hold_seconds: int  # how long a checkout hold keeps its tickets out of sale
    aws_connect_timeout_seconds: float
    aws_read_timeout_seconds: float
    request_budget_seconds: float
    ticket_keys: str | None = field(default=None, repr=False)  # the key ring's JSON, local runs only
    ticket_keys_arn: str | None = None
    ticket_public_keys: str | None = None  # the public key set's JSON, local runs only
    ticket_public_keys_arn: str | None = None
    cursor_key: str | None = field(default=None, repr=False)  # local runs only
    cursor_key_arn: str | None = None
    # E-mail (the mailer's only): the sender, whether to send at all, and where messages go. SES (with its
    # configuration set) when deployed; locally an outbox folder of .eml files, or an SMTP server.
    mail_from: str = "tickets@example.com"
    mail_enabled: bool = True
    mail_configuration_set: str | None = None
    mail_outbox_dir: str | None = None
    mail_smtp_url: str | None = None


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


@cache
def settings() -> Settings:
    env = os.environ
    return Settings(
        stage=env.get("STAGE", "local"),
        users_table=env.get("USERS_TABLE", "users"),
        events_table=env.get("EVENTS_TABLE", "events"),
        bookings_table=env.get("BOOKINGS_TABLE", "bookings"),
        tickets_table=env.get("TICKETS_TABLE", "tickets"),
        event_bus_name=env.get("EVENT_BUS_NAME", "boxoffice-domain-events"),
        # An empty value (the template's default) means "the real DynamoDB".
        dynamodb_endpoint_url=env.get("DYNAMODB_ENDPOINT_URL") or None,
        jwt_secret=env.get("JWT_SECRET") or None,
        jwt_secret_arn=env.get("JWT_SECRET_ARN") or None,
        jwt_issuer=env.get("JWT_ISSUER", "boxoffice"),
        jwt_audience=env.get("JWT_AUDIENCE", "boxoffice-api"),
        token_ttl_seconds=_int("TOKEN_TTL_SECONDS", 3600),
        bcrypt_rounds=_int("BCRYPT_ROUNDS", DEPLOYED_BCRYPT_ROUNDS),
        default_currency=env.get("DEFAULT_CURRENCY", "EUR"),
        max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024),
        login_max_failures=_int("LOGIN_MAX_FAILURES", 5),
        login_max_account_failures=_int("LOGIN_MAX_ACCOUNT_FAILURES", 100),
        login_window_seconds=_int("LOGIN_WINDOW_SECONDS", 15 * 60),
        idempotency_ttl_seconds=_int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600),
        hold_seconds=_int("HOLD_SECONDS", 600),
        # DynamoDB answers in milliseconds; one attempt gives up after 4 s, so that a retry still
        # fits in the 10 s timeout (boxoffice.aws).
        aws_connect_timeout_seconds=_float("AWS_CONNECT_TIMEOUT_SECONDS", 1),
        aws_read_timeout_seconds=_float("AWS_READ_TIMEOUT_SECONDS", 3),
        # The backing-service budget of a call without a Lambda context (boxoffice.deadline).
        request_budget_seconds=_float("REQUEST_BUDGET_SECONDS", 9),
        ticket_keys=env.get("TICKET_KEYS") or None,
        ticket_keys_arn=env.get("TICKET_KEYS_ARN") or None,
        ticket_public_keys=env.get("TICKET_PUBLIC_KEYS") or None,
        ticket_public_keys_arn=env.get("TICKET_PUBLIC_KEYS_ARN") or None,
        cursor_key=env.get("CURSOR_KEY") or None,
        cursor_key_arn=env.get("CURSOR_KEY_ARN") or None,
        mail_from=env.get("MAIL_FROM") or "tickets@example.com",
        mail_enabled=env.get("MAIL_ENABLED", "true").lower() == "true",
        mail_configuration_set=env.get("MAIL_CONFIGURATION_SET") or None,
        mail_outbox_dir=env.get("MAIL_OUTBOX_DIR") or None,
        mail_smtp_url=env.get("MAIL_SMTP_URL") or None,
    )
