"""An agent's reply (``OutboundMessage``) → a MIME mail ready for SMTP.

- The Message-ID is deterministic (``message_id_for``): built from the channel, the
  message's idempotency key and the From domain, so a retry after a crash sends the same
  Message-ID, and the Sent folder and the recipient's server can tell it is the same mail.
- From is the channel's address, named ``from_name``, or "Ana via Acme Support" when
  ``agent_name_in_from`` is on and the agent's name is known.
- A reply gets ``In-Reply-To`` (``reply_to_external_id``, else the last reference) and
  ``References`` (the conversation's ids, oldest first; at most 20: the first and the
  latest 19, as RFC 5322 §3.6.4 readers expect the thread's root first), and its subject
  one ``Re: `` unless it already has a reply prefix. A new mail without subject has none.
- The body is ``multipart/alternative`` (plain text, and HTML made from it: escaped,
  paragraphs, line breaks, clickable links), inside ``multipart/mixed`` with the
  attachments (non-ASCII file names as RFC 2231, which ``policy.default`` writes).
- Header injection is impossible: CR, LF and other control characters in the subject
  and names become spaces (the email library would raise on them otherwise).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape

from hub.contract import OutboundAttachment, OutboundMessage

from hub_email.mime_html import text_to_html
from hub_email.threading import has_reply_prefix

MAX_REFERENCES = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _one_line(value: str | None) -> str:
    """A header value on one line: control characters (CR, LF…) made single spaces."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _domain_of(address: str) -> str:
    """The address's domain for a Message-ID, IDNA-encoded (a Message-ID is ASCII)."""
    _local, at, domain = address.rpartition("@")
    domain = domain.strip().lower() if at else ""
    try:
        encoded = domain.encode("idna").decode("ascii")
    except UnicodeError:
        encoded = ""
    return encoded if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)*", encoded) else "inbox-hub.invalid"


_HUB_MESSAGE_ID = re.compile(r"hub\.\d+\.[0-9a-f]{32}@[a-z0-9.-]+")


def is_hub_message_id(message_id: str) -> bool:
    """Whether a Message-ID (without ``<>``) has the form ``message_id_for`` makes, so a
    bounce naming it reports on a mail the hub sent."""
    return _HUB_MESSAGE_ID.fullmatch(message_id.lower()) is not None


def message_id_for(channel_id: int, idempotency_key: str, from_address: str) -> str:
    """The Message-ID (without ``<>``) of the outbound message with this idempotency
    key: the same on every retry, different for every message and channel."""
    digest = hashlib.sha256(f"{channel_id}\x00{idempotency_key}".encode()).hexdigest()[:32]
    return f"hub.{channel_id}.{digest}@{_domain_of(from_address)}"


def _display_name(from_name: str | None, sender_name: str | None, agent_name_in_from: bool) -> str:
    """ "Ana via Acme Support", or the channel's name."""
    team = _one_line(from_name)
    agent = _one_line(sender_name)
    if agent_name_in_from and agent:
        return f"{agent} via {team}" if team else agent
    return team


def _references(message: OutboundMessage, in_reply_to: str | None) -> list[str]:
    """The References ids, oldest first, ending with the one replied to; at most 20."""
    ids = [_one_line(i).strip("<>") for i in message.references if _one_line(i)]
    if in_reply_to:
        ids = [i for i in ids if i != in_reply_to] + [in_reply_to]
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return ids


def _subject(message: OutboundMessage, is_reply: bool) -> str:
    subject = _one_line(message.subject)
    if is_reply and subject and not has_reply_prefix(subject):
        return f"Re: {subject}"
    return subject


# Images every mail client shows inline; others (TIFF, HEIC, SVG) stay attachments.
_INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def _shows_inline(attachment: OutboundAttachment) -> bool:
    return attachment.content_type.lower() in _INLINE_IMAGES


def build_mail(
    message: OutboundMessage,
    *,
    from_address: str,
    from_name: str | None,
    agent_name_in_from: bool,
    message_id: str,
    attachments: list[tuple[OutboundAttachment, bytes]],
    now: datetime,
) -> EmailMessage:
    """The mail for ``message``, with its attachments' bytes, dated ``now``."""
    mail = EmailMessage()
    mail["From"] = Address(
        display_name=_display_name(from_name, message.sender_name, agent_name_in_from),
        addr_spec=from_address,
    )
    mail["To"] = _one_line(message.recipient_id)
    cc = [_one_line(address) for address in message.cc if _one_line(address)]
    if cc:
        mail["Cc"] = ", ".join(cc)
    irt_source = message.reply_to_external_id or (
        message.references[-1] if message.references else None
    )
    in_reply_to = _one_line(irt_source).strip("<>") or None
    subject = _subject(message, is_reply=in_reply_to is not None)
    if subject:
        mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
        mail["References"] = " ".join(f"<{i}>" for i in _references(message, in_reply_to))
    text = message.text or ""
    inline = [(a, data) for a, data in attachments if _shows_inline(a)]
    images = [(f"image{n}.{message_id}", a, data) for n, (a, data) in enumerate(inline, 1)]
    html = text_to_html(text) + "".join(
        f'<p><img src="cid:{cid}" alt="{escape(_one_line(a.filename))}"></p>'
        for cid, a, _ in images
    )
    # Quoted-printable keeps the mail 7-bit: no server needs 8BITMIME to relay it.
    mail.set_content(text, cte="quoted-printable")
    mail.add_alternative(html, subtype="html", cte="quoted-printable")
    html_part = mail.get_body(("html",))
    for cid, attachment, data in images:
        # Pictures show in the mail itself, as a mail client's pasted images do.
        assert html_part is not None  # just added
        maintype, _, subtype = attachment.content_type.partition("/")
        html_part.add_related(
            data,
            maintype=maintype,
            subtype=subtype,
            cid=f"<{cid}>",
            disposition="inline",
            filename=_one_line(attachment.filename) or "image",
        )
    for attachment, data in attachments:
        if _shows_inline(attachment):
            continue
        maintype, _, subtype = attachment.content_type.partition("/")
        if not subtype or maintype == "multipart":
            maintype, subtype = "application", "octet-stream"
        mail.add_attachment(
            data,
            maintype=maintype,
            subtype=subtype,
            filename=_one_line(attachment.filename) or "attachment",
        )
    for part in mail.walk():
        # set_content writes MIME-Version on every part it makes; only the mail needs it.
        if part is not mail:
            del part["MIME-Version"]
    return mail
