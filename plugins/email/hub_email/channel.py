"""The email channel type and the hook that registers it with the hub."""

from __future__ import annotations

from importlib.resources import files
from typing import Any, ClassVar

from hub.contract import (
    Capabilities,
    ChannelContext,
    ChannelType,
    MediaPart,
    OutboundMessage,
    PollResult,
    StickerPart,
    hookimpl,
)

from hub_email import inbound, outbound, probe
from hub_email.addresses import address_of
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
    capabilities = Capabilities(
        media={
            "image": _ATTACHMENT_LIMIT,
            "audio": _ATTACHMENT_LIMIT,
            "video": _ATTACHMENT_LIMIT,
            "document": _ATTACHMENT_LIMIT,
        },
        subject=True,
        cc=True,
        reply_to=False,  # a reply follows the conversation (References), not one message
    )

    idle_seconds: ClassVar[float] = inbound.IDLE_SECONDS
    """How long one poll waits in IMAP IDLE for new mail (tests make it short)."""

    def __init__(self, config: EmailConfig, context: ChannelContext) -> None:
        super().__init__(config, context)
        self._inbox: inbound.Inbox | None = None

    async def connect(self) -> None:
        """Log in to the IMAP and the SMTP server and check the folders (``probe``):
        ``RetryLater`` when a server cannot be reached, ``BadCredentials`` naming the
        server and the step when the settings are wrong."""
        await probe.check(self.config)

    async def send(self, message: OutboundMessage) -> str:
        """Send a reply as a mail over SMTP; return its Message-ID (``outbound``)."""
        return await outbound.send(self.config, self.context, message)

    def polls(self) -> bool:
        """Always: mail is read by polling the IMAP folder (with IDLE where offered)."""
        return True

    async def poll(self, cursor: str | None) -> PollResult:
        """New mail since ``cursor`` as events, and the cursor after it (``inbound``)."""
        return await self._reader().poll(cursor)

    async def fetch_media(self, part: MediaPart | StickerPart) -> bytes:
        """One attachment or inline image, fetched from the mail again (``inbound``)."""
        return await self._reader().fetch_media(part)

    def _reader(self) -> inbound.Inbox:
        """This channel's reading side, made on first use."""
        if self._inbox is None:
            self._inbox = inbound.Inbox(self.config, idle_seconds=self.idle_seconds)
        return self._inbox

    @classmethod
    def address_of(cls, text: str) -> str:
        """The lower-cased email address an agent typed (``Ana <ana@example.com>`` too)."""
        return address_of(text)


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the email channel type."""
    return [EmailChannel]
