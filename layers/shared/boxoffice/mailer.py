"""Where e-mails go: Amazon SES (v2) when deployed; locally an outbox of .eml files, or any SMTP server.

The only code that sends mail. SES throttling (a per-second sending rate) is retried here with jittered
backoff, within the invocation's budget; a refusal that no retry can change (a suppressed or rejected
address, a paused account) is MailRefused, which the caller records instead of retrying.
"""

from __future__ import annotations

import random
import re
import smtplib
import time
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from boxoffice import aws, deadline
from boxoffice.config import settings
from boxoffice.observability import logger

# SES answers these when the account's sending rate is exceeded: worth waiting for.
THROTTLED = frozenset({"TooManyRequestsException", "LimitExceededException", "ThrottlingException", "Throttling"})
# And these when waiting cannot help: the address is on the suppression list or otherwise refused, or the
# account may not send. Retrying them would only add to the bounce and complaint rates SES watches.
REFUSED = frozenset(
    {"MessageRejected", "AccountSuspendedException", "SendingPausedException", "MailFromDomainNotVerifiedException"}
)
ATTEMPTS = 6
BASE_DELAY = 0.25  # seconds; doubled per attempt, full jitter


class MailRefused(Exception):
    """SES will not send this message, whatever the retries."""


@cache
def client() -> Any:  # mypy_boto3_sesv2 is not among the pinned stubs
    # One attempt per call: send() retries throttling itself, with a longer backoff than botocore's.
    retries = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return aws.budgeted(boto3.client("sesv2", config=aws.config().merge(retries)))


def send(message: EmailMessage) -> str:
    """Send `message` (From, To and Subject set); where it went: an SES message id, an .eml path, or the
    SMTP server."""
    config = settings()
    if config.mail_outbox_dir:
        return _to_outbox(message, Path(config.mail_outbox_dir))
    if config.mail_smtp_url:
        return _over_smtp(message, config.mail_smtp_url)
    return _through_ses(message)


def _through_ses(message: EmailMessage) -> str:
    config = settings()
    request: dict[str, Any] = {
        "FromEmailAddress": config.mail_from,
        "Destination": {"ToAddresses": [str(message["To"].addresses[0].addr_spec)]},
        "Content": {"Raw": {"Data": message.as_bytes()}},
    }
    if config.mail_configuration_set:
        request["ConfigurationSetName"] = config.mail_configuration_set
    attempt = 0
    while True:
        try:
            return str(client().send_email(**request)["MessageId"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in REFUSED:
                raise MailRefused(code) from exc
            delay = random.uniform(0, BASE_DELAY * 2**attempt)  # noqa: S311 - jitter, not crypto
            left = deadline.remaining()
            if code not in THROTTLED or attempt == ATTEMPTS - 1 or (left is not None and left < delay + 1):
                raise
            logger.warning("SES throttled the send; retrying", extra={"attempt": attempt + 1, "delay": delay})
            time.sleep(delay)
            attempt += 1


def _to_outbox(message: EmailMessage, outbox: Path) -> str:
    """One .eml file per message, named by when it was written and its Message-ID."""
    outbox.mkdir(parents=True, exist_ok=True)
    ident = re.sub(r"[^\w.-]", "", str(message["Message-ID"]).split("@")[0])
    path = outbox / f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{ident}.eml"
    path.write_bytes(message.as_bytes())
    return str(path)


def _over_smtp(message: EmailMessage, url: str) -> str:
    """smtp://[user:password@]host[:port] (STARTTLS when offered) or smtps://... (TLS from the start)."""
    parts = urlsplit(url)
    secure = parts.scheme == "smtps"
    connect = smtplib.SMTP_SSL if secure else smtplib.SMTP
    host, port = parts.hostname or "localhost", parts.port or (465 if secure else 25)
    with connect(host, port, timeout=10) as server:
        server.ehlo()
        if not secure and server.has_extn("starttls"):
            server.starttls()
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(message)
    return f"{parts.scheme}://{host}:{port}"
