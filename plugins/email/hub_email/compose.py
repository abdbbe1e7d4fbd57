"""An outbound message as a MIME mail (STAND-IN: the email-parse helper's compose.py
replaces this file, with the same two functions and signatures).

``message_id_for`` is deterministic, so a retried send carries the same Message-ID and
the Sent-folder check can find an earlier attempt. ``build_mail`` writes From, To, Cc,
Subject (one ``Re:`` added to a reply), Message-ID, Date, In-Reply-To and References,
a plain text body with an HTML alternative, and the attachments.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from hub.contract import OutboundAttachment, OutboundMessage

MAX_REFERENCES = 20
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)(\[\d+\])?:", re.IGNORECASE)
_CONTROL = re.compile(r"[\r\n\t\x00]+")


def message_id_for(channel_id: int, idempotency_key: str, from_address: str) -> str:
    """The Message-ID (without <>) of the message with ``idempotency_key``."""
    digest = hashlib.sha256(f"{channel_id}:{idempotency_key}".encode()).hexdigest()[:32]
    domain = from_address.rpartition("@")[2].lower() or "localhost"
    return f"hub.{channel_id}.{digest}@{domain}"


def _one_line(text: str) -> str:
    """A header value without line breaks (no header injection)."""
    return _CONTROL.sub(" ", text).strip()


def _subject(message: OutboundMessage) -> str | None:
    subject = _one_line(message.subject or "")
    is_reply = bool(message.reply_to_external_id or message.references)
    if is_reply and subject and not _REPLY_PREFIX.match(subject):
        return f"Re: {subject}"
    return subject or None


def _html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    body = "".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs)
    return f"<!DOCTYPE html>\n<html><body>\n{body}</body></html>\n"


def _sender(
    from_address: str, from_name: str | None, sender_name: str | None, agent_name_in_from: bool
) -> Address:
    name = from_name or ""
    if agent_name_in_from and sender_name:
        name = f"{sender_name} via {from_name}" if from_name else sender_name
    return Address(display_name=_one_line(name), addr_spec=from_address)


def build_mail(
    message: OutboundMessage,
    *,
    from_address: str,
    from_name: str | None,
    agent_name_in_from: bool,
    message_id: str,
    attachments: Sequence[tuple[OutboundAttachment, bytes]],
    now: datetime,
) -> EmailMessage:
    """The mail of ``message``, ready to be sent."""
    mail = EmailMessage()
    mail["From"] = _sender(from_address, from_name, message.sender_name, agent_name_in_from)
    mail["To"] = message.recipient_id
    if message.cc:
        mail["Cc"] = ", ".join(message.cc)
    if subject := _subject(message):
        mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{message_id}>"
    references = list(message.references)[-MAX_REFERENCES:]
    parent = message.reply_to_external_id or (references[-1] if references else None)
    if parent:
        mail["In-Reply-To"] = f"<{parent}>"
        if parent not in references:
            references = [*references, parent][-MAX_REFERENCES:]
    if references:
        mail["References"] = " ".join(f"<{ref}>" for ref in references)
    text = message.text or ""
    mail.set_content(text)
    mail.add_alternative(_html(text), subtype="html")
    for attachment, content in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(
            content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mail
