"""Email: through SMTP when SMTP_HOST is set, otherwise kept in memory (development) or not sent.

`build_mailer(settings)` picks one of three `Mailer`s, built once by whoever runs jobs
(the app in the embedded set-up, each worker process) and held there:

- `SmtpMailer`: SMTP_HOST:SMTP_PORT, STARTTLS when SMTP_STARTTLS (implicit TLS on port
  465), login when SMTP_USERNAME is set. Errors propagate, so the job sending the mail is
  retried.
- `Outbox` (development without SMTP_HOST): logs recipient and subject, never the body,
  and keeps the messages for the tests to read.
- `NoMail` (production without SMTP_HOST): sends nothing; `build_mailer` logs once that
  reminders are in-app only.
"""

import logging
import smtplib
import ssl
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from backend.core.config import Settings

logger = logging.getLogger("backend.mail")
SMTP_TIMEOUT = 10.0
IMPLICIT_TLS_PORT = 465
OUTBOX_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Email:
    """One message: plain text, with an optional HTML alternative."""

    to: str
    subject: str
    text: str
    html: str | None = None


class Mailer(Protocol):
    #: False where nothing leaves the process (the outbox, no mail at all).
    delivers: bool

    def send(self, email: Email) -> None: ...


def build_message(email: Email, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


class SmtpMailer:
    """One SMTP connection per message: mail is rare here, and a fresh connection never goes stale."""

    delivers = True

    def __init__(self, settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> None:
        if settings.SMTP_HOST is None:
            raise ValueError("SmtpMailer needs SMTP_HOST")
        self.host = settings.SMTP_HOST
        self.port = settings.SMTP_PORT
        self.sender = settings.SMTP_FROM
        self.starttls = settings.SMTP_STARTTLS
        self.username = settings.SMTP_USERNAME
        self.password = settings.SMTP_PASSWORD
        self.tls_context = tls_context or ssl.create_default_context()

    def send(self, email: Email) -> None:
        """Hand the message to the SMTP server; smtplib.SMTPException or OSError if it will not take it."""
        message = build_message(email, self.sender)
        smtp: smtplib.SMTP
        if self.port == IMPLICIT_TLS_PORT:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT, context=self.tls_context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
        with smtp:
            if self.starttls and self.port != IMPLICIT_TLS_PORT:
                smtp.starttls(context=self.tls_context)
            if self.username and self.password is not None:
                smtp.login(self.username, self.password.get_secret_value())
            smtp.send_message(message)
        logger.info("mail sent", extra={"subject": email.subject})


class Outbox:
    """Development without SMTP: the log shows who would get what; `messages` keeps the latest ones."""

    delivers = False

    def __init__(self, size: int = OUTBOX_SIZE) -> None:
        self.messages: deque[Email] = deque(maxlen=size)

    def send(self, email: Email) -> None:
        self.messages.append(email)
        logger.info("mail kept in the outbox (no SMTP_HOST)", extra={"to": email.to, "subject": email.subject})

    def to(self, address: str) -> list[Email]:
        """The kept messages for one recipient, oldest first."""
        return [email for email in self.messages if email.to == address]


class NoMail:
    """Production without SMTP: reminders stay in-app; nothing is sent or kept."""

    delivers = False

    def send(self, email: Email) -> None:
        logger.debug("mail not sent (no SMTP_HOST)", extra={"subject": email.subject})


def build_mailer(settings: Settings) -> Mailer:
    """The mailer the settings ask for; logs once, here, when production has no SMTP."""
    if settings.SMTP_HOST is not None:
        return SmtpMailer(settings)
    if settings.is_production:
        logger.warning("SMTP_HOST is not set: no email is sent; reminders are in-app only")
        return NoMail()
    return Outbox()
