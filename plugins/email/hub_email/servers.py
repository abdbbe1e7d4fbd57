"""The channel's two servers, as the IMAP and SMTP modules take them, from its settings."""

from __future__ import annotations

from hub_email.config import EmailConfig
from hub_email.imap import ImapServer
from hub_email.smtp import SmtpServer


def imap_server(config: EmailConfig) -> ImapServer:
    """The IMAP server and login of a channel."""
    return ImapServer(
        host=config.imap_host,
        port=config.imap_port,
        security=config.imap_security,
        username=config.imap_username,
        password=config.imap_password.get_secret_value(),
    )


def smtp_server(config: EmailConfig) -> SmtpServer:
    """The SMTP server of a channel, with its login when one is set."""
    password = config.smtp_password.get_secret_value() if config.smtp_password else None
    return SmtpServer(
        host=config.smtp_host,
        port=config.smtp_port,
        security=config.smtp_security,
        username=config.smtp_username,
        password=password,
    )
