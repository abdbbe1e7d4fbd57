"""The Sent folder with real servers (Dovecot, aiosmtpd): a copy of each reply is filed,
and a retry of a mail already there is not sent again."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from dovecot import PASSWORD as IMAP_PASSWORD
from dovecot import Dovecot, dovecot, dovecot_server
from hub.contract import ChannelContext, OutboundMessage, RetryLater
from smtp_server import PASSWORD as SMTP_PASSWORD
from smtp_server import USERNAME as SMTP_USERNAME
from smtp_server import SmtpServers, free_port, smtp, smtp_servers

from hub_email import compose, sent_folder
from hub_email.channel import EmailChannel
from hub_email.config import EmailConfig

__all__ = ["dovecot", "dovecot_server", "smtp", "smtp_servers"]  # fixtures used here

CHANNEL_ID = 3
FROM = "support@acme.example.com"


@pytest.fixture(scope="module")
def mailbox(dovecot_server: Dovecot) -> str:
    """One mailbox with a Sent folder for the module; tests tell their mail apart by
    idempotency key (so by Message-ID)."""
    name: str = dovecot_server.new_user()
    dovecot_server.create_folder(name, "Sent")
    return name


def config_for(dovecot: Dovecot, smtp: SmtpServers, user: str, **overrides: Any) -> EmailConfig:
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
        "from_address": FROM,
        "sent_folder": "Sent",
    }
    return EmailConfig(**{**sample, **overrides})


def reply(key: str) -> OutboundMessage:
    return OutboundMessage(
        message_id=1,
        conversation_id=1,
        recipient_id="ana@example.com",
        idempotency_key=key,
        text="Your parcel left our warehouse.",
        subject="Parcel",
    )


async def send(config: EmailConfig, message: OutboundMessage) -> str:
    async with httpx.AsyncClient() as http:
        context = ChannelContext(
            channel_id=CHANNEL_ID, webhook_url="https://hub.example/w", http=http
        )
        return await EmailChannel(config, context).send(message)


def sent_copies(dovecot: Dovecot, user: str, message_id: str) -> list[set[str]]:
    """The flags of each mail in Sent with this Message-ID (read with the stdlib)."""
    with dovecot.imap(user) as client:
        client.select('"Sent"', readonly=True)
        status, data = client.uid("SEARCH", "HEADER", "Message-ID", f'"<{message_id}>"')
        assert status == "OK", data
        uids = [int(uid) for uid in (data[0] or b"").split()]
    return [dovecot.flags(user, uid, "Sent") for uid in uids]


async def test_a_sent_reply_is_filed_in_sent_marked_read(
    dovecot: Dovecot, smtp: SmtpServers, mailbox: str
) -> None:
    external_id = await send(config_for(dovecot, smtp, mailbox), reply("filed-1"))
    assert len(smtp.plain.messages) == 1
    assert smtp.plain.messages[0].message["Message-ID"] == f"<{external_id}>"
    [flags] = sent_copies(dovecot, mailbox, external_id)
    assert "\\Seen" in flags


async def test_a_retry_after_the_send_went_out_is_not_sent_again(
    dovecot: Dovecot, smtp: SmtpServers, mailbox: str
) -> None:
    config = config_for(dovecot, smtp, mailbox)
    first = await send(config, reply("retry-1"))
    # The outbox never recorded the outcome (the hub stopped): it sends the same again.
    again = await send(config, reply("retry-1"))
    assert again == first
    assert len(smtp.plain.messages) == 1
    assert len(sent_copies(dovecot, mailbox, first)) == 1


async def test_a_mail_filed_by_an_earlier_attempt_is_found_by_its_message_id(
    dovecot: Dovecot, smtp: SmtpServers, mailbox: str
) -> None:
    config = config_for(dovecot, smtp, mailbox)
    key = f"{config.message_id_tag}:crashed-1"  # the channel's tag, then the core's key
    message_id = compose.message_id_for(CHANNEL_ID, key, FROM)
    raw = f"Message-ID: <{message_id}>\r\nFrom: {FROM}\r\nSubject: Parcel\r\n\r\nHi\r\n"
    dovecot.append(mailbox, raw.encode(), folder="Sent")
    assert await send(config, reply("crashed-1")) == message_id
    assert smtp.plain.messages == []


async def test_without_a_reachable_sent_folder_nothing_is_sent(
    dovecot: Dovecot, smtp: SmtpServers, mailbox: str
) -> None:
    port = free_port()
    with pytest.raises(RetryLater, match=f"IMAP server 127.0.0.1:{port}: TCP connection"):
        await send(config_for(dovecot, smtp, mailbox, imap_port=port), reply("down-1"))
    assert smtp.plain.messages == []


async def test_without_a_sent_folder_no_imap_is_needed(
    dovecot: Dovecot, smtp: SmtpServers, mailbox: str
) -> None:
    config = config_for(dovecot, smtp, mailbox, sent_folder=None, imap_port=free_port())
    await send(config, reply("no-sent-1"))
    assert len(smtp.plain.messages) == 1


async def test_a_failed_filing_is_logged_not_raised(
    dovecot: Dovecot, smtp: SmtpServers, mailbox: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(dovecot, smtp, mailbox, sent_folder="Gone")
    with caplog.at_level(logging.WARNING, logger="hub_email.sent_folder"):
        filed = await sent_folder.file_copy(
            config, "x@acme.example.com", b"Subject: x\r\n\r\nx\r\n"
        )
    assert filed is False
    assert "sent mail <x@acme.example.com> not filed in 'Gone'" in caplog.text
