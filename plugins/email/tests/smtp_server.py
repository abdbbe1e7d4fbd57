"""A real SMTP server for the email tests: aiosmtpd in a thread of this process.

``smtp_servers`` (module scope) starts two servers on free local ports: ``plain``
(STARTTLS offered but not required, AUTH PLAIN/LOGIN offered over plain text) and
``tls`` (TLS from the first byte), both with a self-signed certificate for 127.0.0.1
that ``trust_test_certificate`` makes the client trust (``SSL_CERT_FILE``, read by
``ssl.create_default_context``). Each records what it accepted (``messages``), can be
told to answer the next ``EHLO``, ``MAIL``, ``RCPT`` or ``DATA`` with an error (``fail_next``),
and has an adjustable ``size_limit`` (its EHLO ``SIZE``) and ``smtputf8``. Tests take ``smtp`` (the
servers, reset before each test).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USERNAME = "sender@example.com"
PASSWORD = "smtp-Secret-9"
Command = Literal["EHLO", "MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class Received:
    """One mail the server accepted: its envelope and its parsed content."""

    mail_from: str
    mail_options: tuple[str, ...]
    rcpt_tos: tuple[str, ...]
    raw: bytes
    login: str | None
    tls: bool

    @property
    def message(self) -> EmailMessage:
        """The mail parsed with the standard library's modern policy."""
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """The aiosmtpd handler: records accepted mail, answers planned errors."""

    messages: list[Received] = field(default_factory=list)
    planned: dict[Command, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, command: Command, reply: str) -> None:
        """Answer the next ``command`` with ``reply`` (e.g. ``"451 4.3.0 try later"``)."""
        with self.lock:
            self.planned[command] = reply

    def _planned(self, command: Command) -> str | None:
        with self.lock:
            return self.planned.pop(command, None)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """Answer EHLO as usual (its extensions) unless an error is planned."""
        if reply := self._planned("EHLO"):
            return [reply]
        session.host_name = hostname  # aiosmtpd leaves this to a handler with this hook
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        """Accept the sender unless an error is planned."""
        if reply := self._planned("MAIL"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        """Accept a recipient unless an error is planned for it."""
        if reply := self._planned("RCPT"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Record the mail unless an error is planned."""
        if reply := self._planned("DATA"):
            return reply
        content = envelope.original_content or b""
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        transport = server.transport
        received = Received(
            mail_from=str(envelope.mail_from),
            mail_options=tuple(envelope.mail_options),
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=content,
            login=login,
            tls=transport is not None and transport.get_extra_info("ssl_object") is not None,
        )
        with self.lock:
            self.messages.append(received)
        return "250 2.0.0 Ok: queued"


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Accept ``USERNAME`` / ``PASSWORD`` only; aiosmtpd answers ``535 5.7.8`` otherwise
    (``handled=False``: it sends the reply itself)."""
    good = isinstance(auth_data, LoginPassword) and auth_data == LoginPassword(
        USERNAME.encode(), PASSWORD.encode()
    )
    return AuthResult(success=good, handled=False, auth_data=auth_data if good else None)


def free_port() -> int:
    """A local port nothing listens on now (aiosmtpd's controller needs a fixed one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for ``127.0.0.1`` and ``localhost`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class SmtpServer:
    """One running aiosmtpd server and what it recorded."""

    def __init__(self, recorder: Recorder, controller: Controller) -> None:
        self.recorder = recorder
        self.controller = controller
        self.host = "127.0.0.1"
        self.port: int = controller.port
        self._default_size: int = controller.SMTP_kwargs["data_size_limit"]

    @property
    def messages(self) -> list[Received]:
        """The mail accepted since the last reset, oldest first."""
        with self.recorder.lock:
            return list(self.recorder.messages)

    def fail_next(self, command: Command, reply: str) -> None:
        """Answer the next ``command`` with ``reply``."""
        self.recorder.fail_next(command, reply)

    @property
    def size_limit(self) -> int:
        """The largest mail accepted (announced as ``SIZE`` in EHLO), in bytes."""
        limit: int = self.controller.SMTP_kwargs["data_size_limit"]
        return limit

    @size_limit.setter
    def size_limit(self, value: int) -> None:
        # The controller builds a new SMTP protocol per connection from these kwargs.
        self.controller.SMTP_kwargs["data_size_limit"] = value

    @property
    def smtputf8(self) -> bool:
        """Whether the server offers SMTPUTF8 (RFC 6531): non-ASCII addresses."""
        return bool(self.controller.SMTP_kwargs["enable_SMTPUTF8"])

    @smtputf8.setter
    def smtputf8(self, value: bool) -> None:
        self.controller.SMTP_kwargs["enable_SMTPUTF8"] = value

    def reset(self) -> None:
        """Forget recorded mail and planned errors; restore the size limit and SMTPUTF8."""
        with self.recorder.lock:
            self.recorder.messages.clear()
            self.recorder.planned.clear()
        self.size_limit = self._default_size
        self.smtputf8 = True


@dataclass(frozen=True)
class SmtpServers:
    """The servers of one test module, and the certificate they present."""

    plain: SmtpServer
    tls: SmtpServer
    certificate: Path

    def reset(self) -> None:
        """Reset both servers."""
        self.plain.reset()
        self.tls.reset()


def _start(recorder: Recorder, cert: Path, key: Path, *, implicit_tls: bool) -> SmtpServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    options: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port": free_port(),
        "server_hostname": "smtp.test",
        "authenticator": authenticate,
        "auth_require_tls": False,
        "data_size_limit": 10_000_000,
        "enable_SMTPUTF8": True,
    }
    if implicit_tls:
        options["ssl_context"] = context
    else:
        options["tls_context"] = context
    controller = Controller(recorder, **options)
    controller.start()
    return SmtpServer(recorder, controller)


@pytest.fixture(scope="module")
def smtp_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServers]:
    """The plain/STARTTLS and TLS servers, started once per test module."""
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("smtp-cert"))
    plain = _start(Recorder(), cert, key, implicit_tls=False)
    tls = _start(Recorder(), cert, key, implicit_tls=True)
    try:
        yield SmtpServers(plain=plain, tls=tls, certificate=cert)
    finally:
        plain.controller.stop()
        tls.controller.stop()


@pytest.fixture
def smtp(smtp_servers: SmtpServers, monkeypatch: pytest.MonkeyPatch) -> SmtpServers:
    """The module's servers, reset, with their certificate trusted by this process's
    default TLS context for the test."""
    smtp_servers.reset()
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp_servers.certificate))
    return smtp_servers
