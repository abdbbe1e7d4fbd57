"""Submitting mail over SMTP (aiosmtplib), told in the contract's errors.

A session runs its steps one by one so a failure names the step and the server: DNS
(the host name), TCP (the port), TLS (the handshake, or STARTTLS missing), the greeting,
login, then the transaction. What each failure means for a message:

- the server cannot be reached, drops the connection or times out → ``RetryLater``;
- the settings are wrong (TLS refused, login refused, no STARTTLS) → ``BadCredentials``,
  which the outbox retries while the channel shows the error to admins;
- a 4xx reply (greylisting, a full queue) → ``RetryLater`` with the server's words;
- a 5xx reply to the mail (sender, recipient, content) →
  ``PermanentFailure("smtp_5xx", the server's words)``; before the mail (greeting, EHLO,
  STARTTLS) it is the settings' fault → ``BadCredentials``;
- a mail bigger than the server's ``SIZE`` → ``PermanentFailure("smtp_size", …)``
  before anything is sent.

Recipients are all-or-nothing: every ``RCPT`` is given before ``DATA``, and when one is
refused the transaction is abandoned (``RSET``), so no one receives a mail the agent must
send again to the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import aiosmtplib
from hub.contract import BadCredentials, PermanentFailure, RetryLater

from hub_email import network
from hub_email.config import Security

TIMEOUT_SECONDS = 20.0
"""Per network step: generous for a slow submission server, short of the outbox's own
send timeout."""
QUIT_SECONDS = 5.0
"""A polite QUIT after the mail is accepted; nothing depends on its answer."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to submit mail: from the channel's settings."""

    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT_SECONDS

    def __str__(self) -> str:
        return f"SMTP server {self.host}:{self.port}"


def reply_text(err: aiosmtplib.SMTPResponseException) -> str:
    """A server's reply as it sent it: ``550 5.1.1 <x@y>: user unknown``."""
    return f"{err.code} {err.message}".strip()


def _step_failed(server: SmtpServer, step: str, err: aiosmtplib.SMTPResponseException) -> Exception:
    """A refused command as the error it means: 4xx later, 5xx never."""
    text = f"{server}: {step} refused: {reply_text(err)}"
    if 400 <= err.code < 500:
        return RetryLater(text)
    if 500 <= err.code < 600:
        return PermanentFailure("smtp_5xx", text)
    # Anything else is not a reply SMTP allows here: the session went wrong, try again.
    return RetryLater(text)


def _session_refused(
    server: SmtpServer, step: str, err: aiosmtplib.SMTPResponseException
) -> Exception:
    """A refusal before any mail is named (greeting, EHLO, STARTTLS): the server or the
    settings, not this message. 4xx later; else the channel's settings are at fault."""
    text = f"{server}: {step} refused: {reply_text(err)}"
    return RetryLater(text) if 400 <= err.code < 500 else BadCredentials(text)


async def _resolve(server: SmtpServer) -> None:
    await network.resolve(server, server.host, server.port, server.timeout)


def _tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, with host names checked."""
    return ssl.create_default_context()


def _tls_refused(server: SmtpServer, err: BaseException) -> BadCredentials:
    reason = err.reason if isinstance(err, ssl.SSLError) and err.reason else str(err)
    return BadCredentials(
        f"{server}: TLS handshake failed ({reason}): check the port and the security "
        "setting (TLS for 465, STARTTLS for 587)"
    )


async def _connect(server: SmtpServer, client: aiosmtplib.SMTP) -> None:
    """TCP (and TLS from the start where set), then the greeting."""
    try:
        await client.connect()
    except aiosmtplib.SMTPConnectResponseError as err:
        raise _session_refused(server, "greeting", err) from None
    except aiosmtplib.SMTPConnectTimeoutError:
        # A TLS-only port (465) waits silently for a handshake a plain client never starts.
        hint = "" if server.security == "tls" else " (is it a TLS port? check the security)"
        raise RetryLater(
            f"{server}: TCP connection timed out after {server.timeout:g} s{hint}"
        ) from None
    except aiosmtplib.SMTPConnectError as err:
        cause = err.__cause__
        if isinstance(cause, ssl.SSLError):
            raise _tls_refused(server, cause) from None
        reason = network.os_reason(cause) if cause is not None else str(err)
        raise RetryLater(f"{server}: TCP connection failed: {reason}") from None


async def _start_tls(server: SmtpServer, client: aiosmtplib.SMTP) -> None:
    """STARTTLS after the greeting; a server without it cannot be used securely."""
    await client.ehlo()
    if not client.supports_extension("starttls"):
        raise BadCredentials(
            f"{server}: STARTTLS failed: the server does not offer it (try security TLS "
            "on port 465, or check the port)"
        )
    try:
        await client.starttls(tls_context=_tls_context())
    except ssl.SSLError as err:
        raise _tls_refused(server, err) from None
    except aiosmtplib.SMTPResponseException as err:
        raise _session_refused(server, "STARTTLS", err) from None


async def _login(server: SmtpServer, client: aiosmtplib.SMTP) -> None:
    if server.username is None or server.password is None:
        return
    if not client.supports_extension("auth"):
        raise BadCredentials(
            f"{server}: login failed: the server offers no AUTH here (check the port and "
            "security, or leave the SMTP username empty for a relay without login)"
        )
    try:
        await client.login(server.username, server.password)
    except aiosmtplib.SMTPAuthenticationError as err:
        raise BadCredentials(f"{server}: login refused: {reply_text(err)}") from None
    except aiosmtplib.SMTPResponseException as err:
        if 400 <= err.code < 500:
            raise RetryLater(f"{server}: login failed for now: {reply_text(err)}") from None
        raise BadCredentials(f"{server}: login refused: {reply_text(err)}") from None
    except aiosmtplib.SMTPException as err:
        # No mechanism both sides know (aiosmtplib: "No suitable authentication method").
        raise BadCredentials(f"{server}: login failed: {err}") from None


@contextlib.asynccontextmanager
async def session(server: SmtpServer) -> AsyncIterator[aiosmtplib.SMTP]:
    """A logged-in SMTP session (DNS, TCP, TLS, greeting, EHLO, STARTTLS, AUTH), closed
    after use. Connection trouble at any step is ``RetryLater``."""
    await _resolve(server)
    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        use_tls=server.security == "tls",
        start_tls=False,  # done as its own step, so its failure is named
        tls_context=_tls_context() if server.security == "tls" else None,
        timeout=server.timeout,
    )
    await _connect(server, client)
    try:
        try:
            if server.security == "starttls":
                await _start_tls(server, client)
            await client.ehlo()
            await _login(server, client)
            yield client
        except aiosmtplib.SMTPHeloError as err:
            raise _session_refused(server, "EHLO", err) from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as err:
            raise RetryLater(f"{server}: connection lost: {err}") from None
    finally:
        try:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                async with asyncio.timeout(QUIT_SECONDS):
                    await client.quit()
        finally:
            client.close()  # also when cancelled (the outbox's send timeout) during QUIT


async def check_login(server: SmtpServer) -> None:
    """Connect and log in as mail would be sent, then leave: for ``connect``."""
    async with session(server):
        pass


def _size_check(server: SmtpServer, client: aiosmtplib.SMTP, size: int) -> None:
    """Refuse a mail bigger than the server announced (``SIZE``), before sending it."""
    announced = client.esmtp_extensions.get("size", "").strip()
    if announced.isdigit() and 0 < int(announced) < size:
        raise PermanentFailure(
            "smtp_size",
            f"the mail is {size / 1e6:.1f} MB with its attachments encoded; the {server} "
            f"accepts at most {int(announced) / 1e6:.1f} MB: send fewer or smaller files",
        )


def _utf8_check(server: SmtpServer, client: aiosmtplib.SMTP, addresses: Sequence[str]) -> None:
    """Refuse, before sending, a non-ASCII address the server cannot carry."""
    if not client.supports_extension("smtputf8"):
        wide = ", ".join(a for a in addresses if not a.isascii())
        raise PermanentFailure(
            "smtp_utf8",
            f"the address {wide} has letters beyond ASCII before the @, and the {server} "
            "does not accept such addresses (no SMTPUTF8)",
        )


async def submit(
    server: SmtpServer,
    *,
    sender: str,
    recipients: Sequence[str],
    content: bytes,
    utf8: bool = False,
) -> None:
    """Submit one mail: ``MAIL FROM:<sender>``, one ``RCPT TO`` per recipient, ``DATA``.

    ``utf8``: an address is not ASCII, so the mail goes with ``SMTPUTF8`` (RFC 6531).
    Returns once the server has accepted the mail for delivery (250 after DATA)."""
    async with session(server) as client:
        _size_check(server, client, len(content))
        if utf8:
            _utf8_check(server, client, [sender, *recipients])
        encoding = "utf-8" if utf8 else "ascii"
        try:
            options = [f"SIZE={len(content)}"] if client.supports_extension("size") else []
            options += ["SMTPUTF8"] if utf8 else []
            await client.mail(sender, options=options, encoding=encoding)
            for recipient in recipients:
                await client.rcpt(recipient, encoding=encoding)
        except aiosmtplib.SMTPSenderRefused as err:
            raise _step_failed(server, f"sender {sender}", err) from None
        except aiosmtplib.SMTPRecipientRefused as err:
            with contextlib.suppress(aiosmtplib.SMTPException):
                await client.rset()
            raise _step_failed(server, f"recipient {err.recipient}", err) from None
        try:
            await client.data(content)
        except aiosmtplib.SMTPDataError as err:
            raise _step_failed(server, "message", err) from None
