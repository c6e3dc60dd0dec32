"""An SMTP server on loopback (aiosmtpd) that keeps what it receives, for the mail tests."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from backend.test.live import HOST, free_port

USERNAME, PASSWORD = "mailer", "smtp-password-42"


@dataclass
class Sink:
    """What the SMTP server received."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USERNAME.encode(), PASSWORD.encode())
        if ok:
            self.logins.append(USERNAME)
        return AuthResult(success=ok)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    """A plain SMTP server on a free loopback port."""
    handler = Sink()
    controller = Controller(handler, hostname=HOST, port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()
