"""``connect`` against real servers (Dovecot for IMAP, aiosmtpd for SMTP): it logs in to
both, checks the folders, and names the server, the step and the server's own words
when something is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from dovecot import PASSWORD as IMAP_PASSWORD
from dovecot import Dovecot, dovecot, dovecot_server
from hub.contract import BadCredentials, ChannelContext, RetryLater
from smtp_server import PASSWORD as SMTP_PASSWORD
from smtp_server import USERNAME as SMTP_USERNAME
from smtp_server import SmtpServers, free_port, smtp, smtp_servers

from hub_email.channel import EmailChannel
from hub_email.config import EmailConfig

__all__ = ["dovecot", "dovecot_server", "smtp", "smtp_servers"]  # fixtures used here


@pytest.fixture(scope="module")
def mailbox(dovecot_server: Dovecot) -> str:
    """One mailbox with a Sent folder for the module (connect changes nothing in it)."""
    name: str = dovecot_server.new_user()
    dovecot_server.create_folder(name, "Sent")
    return name


@pytest.fixture
def user(
    mailbox: str,
    dovecot: Dovecot,
    smtp: SmtpServers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """The module's mailbox, with both test certificates trusted."""
    bundle = tmp_path / "trusted.pem"
    assert dovecot.certificate is not None
    bundle.write_bytes(smtp.certificate.read_bytes() + dovecot.certificate.read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return mailbox


def config_for(dovecot: Dovecot, smtp: SmtpServers, user: str, **overrides: Any) -> EmailConfig:
    """A channel on the test servers, unencrypted, with the right logins."""
    sample: dict[str, Any] = {
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_security": "none",
        "imap_username": user,
        "imap_password": IMAP_PASSWORD,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.plain.port,
        "smtp_security": "none",
        "smtp_username": SMTP_USERNAME,
        "smtp_password": SMTP_PASSWORD,
        "from_address": "support@acme.example.com",
    }
    return EmailConfig(**{**sample, **overrides})


async def connect(config: EmailConfig) -> None:
    async with httpx.AsyncClient() as http:
        context = ChannelContext(channel_id=1, webhook_url="https://hub.example/w/1", http=http)
        await EmailChannel(config, context).connect()


@pytest.mark.parametrize(
    ("imap_security", "smtp_security"),
    [("none", "none"), ("starttls", "starttls"), ("tls", "tls")],
)
async def test_connect_logs_in_to_both_servers_with_each_security(
    dovecot: Dovecot, smtp: SmtpServers, user: str, imap_security: str, smtp_security: str
) -> None:
    imap_port = dovecot.tls_port if imap_security == "tls" else dovecot.port
    smtp_port = smtp.tls.port if smtp_security == "tls" else smtp.plain.port
    config = config_for(
        dovecot,
        smtp,
        user,
        imap_security=imap_security,
        imap_port=imap_port,
        smtp_security=smtp_security,
        smtp_port=smtp_port,
        sent_folder="Sent",
    )
    await connect(config)


async def test_a_missing_folder_is_named(dovecot: Dovecot, smtp: SmtpServers, user: str) -> None:
    with pytest.raises(BadCredentials) as caught:
        await connect(config_for(dovecot, smtp, user, imap_folder="Support"))
    assert str(caught.value).startswith(
        f"IMAP server 127.0.0.1:{dovecot.port}: the folder 'Support' cannot be opened: "
    )


async def test_a_missing_sent_folder_is_named_too(
    dovecot: Dovecot, smtp: SmtpServers, user: str
) -> None:
    with pytest.raises(BadCredentials, match="the folder 'Sent Items' cannot be opened"):
        await connect(config_for(dovecot, smtp, user, sent_folder="Sent Items"))


async def test_an_smtp_port_nothing_listens_on_is_retry_later_in_plain_words(
    dovecot: Dovecot, smtp: SmtpServers, user: str
) -> None:
    port = free_port()
    with pytest.raises(RetryLater) as caught:
        await connect(config_for(dovecot, smtp, user, smtp_port=port))
    assert str(caught.value) == (
        f"SMTP server 127.0.0.1:{port}: TCP connection failed: Connection refused"
    )


async def test_an_unreachable_and_a_wrong_server_are_both_told_settings_first(
    dovecot: Dovecot, smtp: SmtpServers, user: str
) -> None:
    port = free_port()
    config = config_for(dovecot, smtp, user, imap_port=port, smtp_security="tls")
    with pytest.raises(BadCredentials) as caught:  # an admin must act: not "try later"
        await connect(config)
    imap, smtp_part = str(caught.value).split("; ")
    assert imap == f"IMAP server 127.0.0.1:{port}: TCP connection failed: Connection refused"
    assert smtp_part.startswith(f"SMTP server 127.0.0.1:{smtp.plain.port}: TLS handshake failed")


async def test_an_unknown_host_is_reported_as_the_dns_step(
    dovecot: Dovecot, smtp: SmtpServers, user: str
) -> None:
    config = config_for(dovecot, smtp, user, smtp_host="smtp.nowhere.invalid")
    with pytest.raises(RetryLater) as caught:
        await connect(config)
    assert str(caught.value).startswith(
        f"SMTP server smtp.nowhere.invalid:{smtp.plain.port}: DNS lookup failed: "
    )


async def test_tls_against_a_plain_port_is_a_settings_problem(
    dovecot: Dovecot, smtp: SmtpServers, user: str
) -> None:
    config = config_for(dovecot, smtp, user, imap_security="tls", smtp_security="tls")
    with pytest.raises(BadCredentials) as caught:
        await connect(config)
    imap, smtp_part = str(caught.value).split("; ")
    assert imap.startswith(f"IMAP server 127.0.0.1:{dovecot.port}: TLS handshake failed")
    assert smtp_part.startswith(f"SMTP server 127.0.0.1:{smtp.plain.port}: TLS handshake failed")
    assert "check the port and the security setting" in smtp_part


async def test_a_certificate_not_trusted_is_refused(
    dovecot: Dovecot, smtp: SmtpServers, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # the system's trust store: no test certificate
    config = config_for(dovecot, smtp, user, smtp_security="starttls")
    with pytest.raises(BadCredentials) as caught:
        await connect(config)
    assert "TLS handshake failed (CERTIFICATE_VERIFY_FAILED)" in str(caught.value)


# Last: Dovecot slows logins from an address after a refused one (its auth penalty).
async def test_refused_logins_name_both_servers_and_quote_them(
    dovecot: Dovecot, smtp: SmtpServers, user: str
) -> None:
    config = config_for(dovecot, smtp, user, imap_password="wrong", smtp_password="wrong")
    with pytest.raises(BadCredentials) as caught:
        await connect(config)
    imap, smtp_part = str(caught.value).split("; ")
    assert imap == (
        f"IMAP server 127.0.0.1:{dovecot.port}: login refused: "
        "[AUTHENTICATIONFAILED] Authentication failed."
    )
    assert smtp_part == (
        f"SMTP server 127.0.0.1:{smtp.plain.port}: login refused: "
        "535 5.7.8 Authentication credentials invalid"
    )
