"""Mail: the outbox of development, no mail in production, and SMTP against a real sink on loopback."""

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.services.mail import Email, NoMail, Outbox, SmtpMailer, build_mailer
from backend.test.conftest import build_settings
from backend.test.jobs.helpers import captured
from backend.test.live import HOST, free_port
from backend.test.mail_sink import PASSWORD, USERNAME, Sink

EMAIL = Email(to="ada@example.com", subject="Reminder: water the plants", text="Due at 18:00.", html="<p>Due</p>")


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


@pytest.fixture
def tls_sink(tmp_path: Path) -> Iterator[tuple[Sink, int, ssl.SSLContext]]:
    """An SMTP server that requires STARTTLS and a login, and the client context that trusts it."""
    handler = Sink()
    server_context, client_context = self_signed(tmp_path)
    controller = Controller(
        handler,
        hostname=HOST,
        port=free_port(),
        tls_context=server_context,
        require_starttls=True,
        authenticator=handler.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    yield handler, controller.port, client_context
    controller.stop()


class TestSmtpMailer:
    def test_the_sink_receives_the_message(self, sink: tuple[Sink, int]) -> None:
        handler, port = sink
        settings = build_settings("sqlite://", SMTP_HOST=HOST, SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_FROM="t@x.io")

        SmtpMailer(settings).send(EMAIL)

        assert handler.envelopes == [("t@x.io", ["ada@example.com"])]
        message = handler.messages[0]
        assert (message["From"], message["To"], message["Subject"]) == ("t@x.io", EMAIL.to, EMAIL.subject)
        parts = {part.get_content_type(): part.get_payload(decode=True) for part in message.walk()}
        assert parts["text/plain"].strip() == b"Due at 18:00."  # type: ignore[union-attr]
        assert parts["text/html"].strip() == b"<p>Due</p>"  # type: ignore[union-attr]

    def test_starttls_and_login(self, tls_sink: tuple[Sink, int, ssl.SSLContext]) -> None:
        handler, port, client_context = tls_sink
        settings = build_settings(
            "sqlite://", SMTP_HOST=HOST, SMTP_PORT=port, SMTP_USERNAME=USERNAME, SMTP_PASSWORD=PASSWORD
        )

        SmtpMailer(settings, tls_context=client_context).send(EMAIL)

        assert handler.logins == [USERNAME]
        assert handler.messages[0]["Subject"] == EMAIL.subject

    def test_a_certificate_it_cannot_verify_is_refused(self, tls_sink: tuple[Sink, int, ssl.SSLContext]) -> None:
        handler, port, _client_context = tls_sink
        settings = build_settings("sqlite://", SMTP_HOST=HOST, SMTP_PORT=port)

        with pytest.raises(ssl.SSLError):
            SmtpMailer(settings).send(EMAIL)  # the system's trust store: the self-signed certificate is unknown
        assert handler.messages == []

    def test_a_server_that_is_down_raises_so_the_job_is_retried(self) -> None:
        settings = build_settings("sqlite://", SMTP_HOST=HOST, SMTP_PORT=free_port(), SMTP_STARTTLS=False)

        with pytest.raises(OSError):
            SmtpMailer(settings).send(EMAIL)


class TestWithoutSmtp:
    def test_development_keeps_mail_in_the_outbox_and_logs_recipient_and_subject_only(self) -> None:
        mailer = build_mailer(build_settings("sqlite://"))
        assert isinstance(mailer, Outbox)

        with captured("backend.mail") as log:
            mailer.send(EMAIL)

        assert mailer.to(EMAIL.to) == [EMAIL]
        (record,) = log.records
        assert (record.__dict__["to"], record.__dict__["subject"]) == (EMAIL.to, EMAIL.subject)
        assert EMAIL.text not in str(record.__dict__)
        assert not mailer.delivers

    def test_the_outbox_keeps_the_latest_messages_only(self) -> None:
        outbox = Outbox(size=2)

        for n in range(3):
            outbox.send(Email(to=f"{n}@example.com", subject="s", text="t"))

        assert [email.to for email in outbox.messages] == ["1@example.com", "2@example.com"]

    def test_production_sends_nothing_and_says_so_once_at_start_up(self) -> None:
        settings = build_settings("sqlite://", ENVIRONMENT="production", SECRET_KEY="k" * 40)

        with captured("backend.mail") as log:
            mailer = build_mailer(settings)
            mailer.send(EMAIL)
            mailer.send(EMAIL)

        assert isinstance(mailer, NoMail)
        warnings = [record.getMessage() for record in log.records if record.levelname == "WARNING"]
        assert warnings == ["SMTP_HOST is not set: no email is sent; reminders are in-app only"]

    def test_smtp_host_chooses_smtp(self) -> None:
        assert isinstance(build_mailer(build_settings("sqlite://", SMTP_HOST="mail.example.com")), SmtpMailer)
