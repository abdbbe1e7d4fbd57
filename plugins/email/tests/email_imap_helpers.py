"""Mail builders and channel factories shared by the IMAP-side email tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from typing import Any

import httpx
from dovecot import PASSWORD, Dovecot
from hub.contract import ChannelContext

from hub_email.channel import EmailChannel
from hub_email.config import EmailConfig

OURS = "support@example.com"


class FastEmail(EmailChannel):
    """The email type, available, with a short IDLE so an empty poll returns soon."""

    available = True
    idle_seconds = 0.05


def mail(
    subject: str,
    message_id: str | None,
    body: str = "Hello",
    *,
    sender: str = "Customer <customer@example.org>",
    attachment: tuple[str, bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A mail to our address; with a file attached when ``attachment`` is given."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = OURS
    msg["Subject"] = subject
    msg["Date"] = "Thu, 03 Dec 2026 10:00:00 +0000"
    if message_id is not None:
        msg["Message-ID"] = f"<{message_id}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if attachment is not None:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return msg.as_bytes()


def config_for(dovecot: Dovecot, user: str, **changes: Any) -> dict[str, Any]:
    """A channel config reading ``user``'s INBOX on the test Dovecot (plain IMAP)."""
    return {
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": "none",
        "imap_username": user,
        "imap_password": PASSWORD,
        "smtp_host": "127.0.0.1",
        "smtp_port": 2525,
        "smtp_security": "none",
        "from_address": OURS,
        **changes,
    }


@asynccontextmanager
async def email_channel(
    dovecot: Dovecot, user: str, channel_type: type[EmailChannel] = FastEmail, **changes: Any
) -> AsyncIterator[EmailChannel]:
    """A channel object as the hub builds it, reading ``user``'s mailbox."""
    config = EmailConfig.model_validate(config_for(dovecot, user, **changes))
    async with httpx.AsyncClient() as http:
        context = ChannelContext(
            channel_id=7, webhook_url="https://hub.example.test/w/7", http=http
        )
        yield channel_type(config, context)
