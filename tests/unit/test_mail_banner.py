"""make run's banner says where e-mails go: the outbox folder, an SMTP server (never its password), or off."""

from __future__ import annotations

from devserver.__main__ import mail_line


def test_the_banner_names_the_outbox_folder_by_default() -> None:
    env = {"MAIL_ENABLED": "true", "MAIL_OUTBOX_DIR": "/data/mail", "MAIL_SMTP_URL": ""}
    assert mail_line(env).startswith("saved to /data/mail/, one .eml each")


def test_the_banner_names_the_smtp_server_but_never_its_credentials() -> None:
    env = {"MAIL_ENABLED": "true", "MAIL_OUTBOX_DIR": "", "MAIL_SMTP_URL": "smtp://ada:s3cret@127.0.0.1:1025"}
    assert mail_line(env) == "sent through smtp://127.0.0.1:1025"


def test_the_banner_says_when_mail_is_off() -> None:
    assert mail_line({"MAIL_ENABLED": "false", "MAIL_OUTBOX_DIR": "/data/mail"}) == "off (MAIL_ENABLED=false)"
