"""``send``: an agent's reply as a mail, submitted over SMTP, filed in the Sent folder.

The Message-ID is deterministic (channel, idempotency key, From domain), so every retry
of one message is the same mail: with a Sent folder set, a mail already filed there is
not sent again. The envelope sender is the From address (bounces come back to the
mailbox and are matched by Message-ID); the recipients are the contact and the copied
addresses, each once.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.contract import ChannelContext, OutboundAttachment, OutboundMessage, PermanentFailure

from hub_email import compose, sent_folder, servers, smtp
from hub_email.addresses import needs_smtputf8, wire_address
from hub_email.config import EmailConfig


def recipients_of(message: OutboundMessage) -> list[str]:
    """The envelope recipients: To then Cc, checked and each address once.

    ``PermanentFailure("bad_address")`` when one is not an address: no server would take
    it, and sending to the others only would surprise the agent."""
    found: list[str] = []
    for text in (message.recipient_id, *message.cc):
        address = _wire(text)
        if address not in found:
            found.append(address)
    return found


def _wire(text: str) -> str:
    try:
        return wire_address(text)
    except ValueError as err:
        raise PermanentFailure("bad_address", str(err)) from None


def _for_headers(message: OutboundMessage) -> OutboundMessage:
    """``message`` with non-ASCII addresses in their wire form: an international domain
    in ASCII, as RFC 5322 headers need it (names typed with an ASCII address are kept)."""
    cc = tuple(text if text.isascii() else _wire(text) for text in message.cc)
    return message.model_copy(update={"recipient_id": _wire(message.recipient_id), "cc": cc})


async def _attachments(
    context: ChannelContext, message: OutboundMessage
) -> list[tuple[OutboundAttachment, bytes]]:
    loaded = []
    for attachment in message.attachments:
        try:
            content = await context.read_attachment(attachment)
        except FileNotFoundError:
            raise PermanentFailure(
                "attachment_missing",
                f"the file {attachment.filename} is no longer stored: attach it again",
            ) from None
        loaded.append((attachment, content))
    return loaded


@dataclass(frozen=True)
class Envelope:
    """Who the mail is from and to on the wire, and whether that needs SMTPUTF8."""

    sender: str
    recipients: list[str]

    @property
    def utf8(self) -> bool:
        """An address is not ASCII before the @ (RFC 6531)."""
        return any(map(needs_smtputf8, [self.sender, *self.recipients]))

    @classmethod
    def of(cls, config: EmailConfig, message: OutboundMessage) -> Envelope:
        """MAIL FROM the channel's address; RCPT TO the contact and each Cc once."""
        return cls(sender=_wire(config.from_address), recipients=recipients_of(message))


def mail_bytes(
    config: EmailConfig,
    message: OutboundMessage,
    envelope: Envelope,
    message_id: str,
    attachments: list[tuple[OutboundAttachment, bytes]],
) -> bytes:
    """The mail as sent: CRLF line ends, long lines folded; raw UTF-8 headers only when
    an address needs SMTPUTF8."""
    mail = compose.build_mail(
        _for_headers(message),
        from_address=envelope.sender,
        from_name=config.from_name,
        agent_name_in_from=config.agent_name_in_from,
        message_id=message_id,
        attachments=attachments,
        now=datetime.now(UTC),
    )
    return mail.as_bytes(policy=email.policy.SMTPUTF8 if envelope.utf8 else email.policy.SMTP)


async def send(config: EmailConfig, context: ChannelContext, message: OutboundMessage) -> str:
    """Send ``message``; return its Message-ID (without <>), the external id."""
    # The core's key restarts with a new database: the channel's own tag keeps a
    # reinstalled hub (or a second one) from reusing Message-IDs already in the mailbox.
    key = f"{config.message_id_tag}:{message.idempotency_key}"
    message_id = compose.message_id_for(context.channel_id, key, config.from_address)
    envelope = Envelope.of(config, message)  # a bad address fails before anything else
    if await sent_folder.already_sent(config, message_id):
        return message_id  # an earlier attempt went out; its status was never written
    attachments = await _attachments(context, message)
    content = mail_bytes(config, message, envelope, message_id, attachments)
    await smtp.submit(
        servers.smtp_server(config),
        sender=envelope.sender,
        recipients=envelope.recipients,
        content=content,
        utf8=envelope.utf8,
    )
    await sent_folder.file_copy(config, message_id, content)
    return message_id
