"""E-mails to buyers (Jinja2, BSD licence): a plain-text and an HTML part from one template pair each.

HTML templates are autoescaped, so an event or a person named `<script>` arrives as text in HTML and as
written in the plain part. Headers take names through email.headerregistry, which encodes them and
refuses line breaks, so a name cannot add a header either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # "application/pdf"
    data: bytes


@dataclass(frozen=True, slots=True)
class Mail:
    """A message about to be sent: who it is for and what it says."""

    to_name: str
    to_address: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,  # a misspelt field fails the test that renders it, not the buyer's mail
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def compose(
    template: str,
    *,
    to_name: str,
    to_address: str,
    subject: str,
    values: Mapping[str, Any],
    attachments: Sequence[Attachment] = (),
) -> Mail:
    """`template`.txt and `template`.html rendered with `values` (and `name`, the recipient's, and `subject`)."""
    env = _environment()
    context = {"name": to_name, "subject": _one_line(subject), **values}
    return Mail(
        to_name=to_name,
        to_address=to_address,
        subject=_one_line(subject),
        text=env.get_template(f"{template}.txt").render(context),
        html=env.get_template(f"{template}.html").render(context),
        attachments=tuple(attachments),
    )


def message(mail: Mail, *, sender: str, reference: str) -> EmailMessage:
    """The MIME message: text and HTML alternatives, then the attachments. Its Message-ID is derived from
    `reference` (the domain event's id), so a copy sent again is the same message to a mail client."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = Address(display_name=_one_line(mail.to_name), addr_spec=mail.to_address)
    msg["Subject"] = mail.subject
    domain = sender.rsplit("@", 1)[-1].strip("> ")
    msg["Message-ID"] = f"<{hashlib.sha256(reference.encode()).hexdigest()[:32]}@{domain}>"
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return msg
