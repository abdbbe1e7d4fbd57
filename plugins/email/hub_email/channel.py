"""The email channel type and the hook that registers it with the hub."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from hub.contract import Capabilities, ChannelType, hookimpl

from hub_email import probe
from hub_email.config import EmailConfig

# Common providers cap a whole message at 25 MB, and base64 makes an attachment a third
# larger on the wire; the server's SMTP SIZE is the real limit, checked when sending.
_ATTACHMENT_LIMIT = 25_000_000 * 3 // 4


class EmailChannel(ChannelType[EmailConfig]):
    """One mailbox: mail read over IMAP becomes conversations, replies go out over SMTP."""

    name = "email"
    title = "Email"
    description = (
        "Handle a support mailbox in the inbox: incoming mail is read over IMAP, replies "
        "are sent over SMTP and threaded with the customer's mail."
    )
    logo = files("hub_email").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = EmailConfig
    # Reading and sending mail are not built yet: the hub lists the type, refuses it.
    available = False
    capabilities = Capabilities(
        media={
            "image": _ATTACHMENT_LIMIT,
            "audio": _ATTACHMENT_LIMIT,
            "video": _ATTACHMENT_LIMIT,
            "document": _ATTACHMENT_LIMIT,
        },
        subject=True,
    )

    async def connect(self) -> None:
        """Reach the IMAP and the SMTP server and read their greetings (no login yet):
        ``RetryLater`` when one cannot be reached, ``BadCredentials`` when it answers
        wrongly (another protocol, no TLS where the settings ask for it)."""
        config = self.config
        await probe.check(
            probe.Server("IMAP", config.imap_host, config.imap_port, config.imap_security)
        )
        await probe.check(
            probe.Server("SMTP", config.smtp_host, config.smtp_port, config.smtp_security)
        )


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the email channel type."""
    return [EmailChannel]
