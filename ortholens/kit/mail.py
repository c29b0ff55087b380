"""Sending e-mail over SMTP (the standard library's smtplib): one connection per message.

Domain code builds an `email.message.EmailMessage` and a job hands it to `send_message` with the
`SmtpConfig` made from settings (`smtp_config`), so a slow or unreachable mail server delays a job,
never a request, and a refused attempt is retried by the job queue.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from ortholens.kit.errors import InvalidInput
from ortholens.settings import Settings, SmtpSecurity

# Longest header line we accept in what we build (RFC 5322 allows 998 characters).
MAX_HEADER_CHARS = 998


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand over e-mail."""

    host: str
    port: int
    security: SmtpSecurity
    sender: str
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """The SMTP configuration of `settings`, or None when no SMTP host is set."""
    if not settings.smtp_host:
        return None
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout_seconds=settings.smtp_timeout_seconds,
    )


def build_message(
    config: SmtpConfig, *, to: str, subject: str, text: str, html: str | None = None
) -> EmailMessage:
    """A plain-text e-mail (with an HTML alternative if given) from the configured sender."""
    for value in (to, subject):
        if "\n" in value or "\r" in value or len(value) > MAX_HEADER_CHARS:
            raise InvalidInput("An e-mail header may not hold line breaks or be that long.")
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    domain = config.sender.rpartition("@")[2].strip("> ") or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send_message(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand `message` to the SMTP server; raises smtplib/OSError errors for the caller to retry."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if config.security is SmtpSecurity.TLS:
        client = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout_seconds, context=context
        )
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
    with client:
        client.ehlo()
        if config.security is SmtpSecurity.STARTTLS:
            # Refuse to send in the clear to a server that does not offer STARTTLS.
            client.starttls(context=context)
            client.ehlo()
        if config.username:
            client.login(config.username, config.password or "")
        client.send_message(message)
