"""An IMAP message (raw bytes) → the hub's inbound events.

Decisions (see also docs/decisions.md, "Email: parsing and threading keys"):

- ``external_id`` is the Message-ID without angle brackets; a mail without one gets
  ``"sha256:" + sha256(raw)``, so the same mail imported again (after a UIDVALIDITY
  change) dedupes in the core.
- The sender is the ``From`` address, lower-cased (``Reply-To`` is ignored: it would let
  anyone's mail land in someone else's conversation). Mail from one of our own
  addresses (our Sent copy, a loop) gives no event.
- ``thread_key`` is ``"mid:" + external_id``; references and hints come from
  ``hub_email.threading``; ``automated`` from ``hub_email.automated``.
- A bounce that fails a mail the hub sent (its Message-ID has ``message_id_for``'s
  form) gives a ``StatusUpdate`` instead of a message (``hub_email.dsn``); a delay
  notice, a bounce of a mail sent from elsewhere (its original's id first in its
  references, so it joins that thread) or of an unknown mail is a message flagged
  ``automated="bounce"``.
- Files are ``MediaPart``s whose ``provider_media_id`` is
  ``"{uidvalidity}:{uid}:{section}"`` (sections: ``hub_email.mime_walk``);
  ``extract_part`` reads one back from the raw mail.
- ``raw`` is a small JSON dict (ids, addresses, subject, date, size and the threading
  and automation headers), never the body: the inbound log keeps the whole mail.
- ``parse_mail`` reads part by part and turns a broken part into an ``UnsupportedPart``;
  when the mail cannot be read at all it raises, and the caller stores
  ``unparsed_message`` (the whole mail as a file) and retries after ``PARSER_VERSION``
  changes.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from hub.contract import (
    AutomatedKind,
    ContentPart,
    Envelope,
    InboundEvent,
    InboundMessage,
    MediaPart,
    SenderProfile,
    StatusUpdate,
    TextPart,
    UnsupportedPart,
)

from hub_email.automated import automated_kind
from hub_email.compose import is_hub_message_id
from hub_email.dsn import read_bounce
from hub_email.mime_body import read_body
from hub_email.mime_headers import addresses, date_of, formatted, header_text, message_id
from hub_email.mime_walk import find_part, part_bytes, read_mail
from hub_email.threading import references_of, thread_hints

PARSER_VERSION = 1
"""Increased with every fix that changes what a mail parses to: mail that failed
before (the cursor's ``retry`` list) is then fetched and parsed again."""

UNKNOWN_SENDER = "unknown@invalid"
# Threading and automation headers kept in ``raw`` for the inbound log and debugging.
_RAW_HEADERS = (
    "In-Reply-To",
    "References",
    "Thread-Index",
    "Thread-Topic",
    "Auto-Submitted",
    "Precedence",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "List-Id",
    "List-Unsubscribe",
    "Return-Path",
    "Content-Type",
)
_RAW_VALUE_MAX = 2000


def _external_id(msg_id: str | None, raw: bytes) -> str:
    return msg_id if msg_id else "sha256:" + hashlib.sha256(raw).hexdigest()


def _timestamp(msg: Message, received_at: datetime | None) -> datetime:
    """Date header, else the server's receipt time, else now (a future Date is kept:
    the core clamps it)."""
    return date_of(msg) or received_at or datetime.now(UTC)


def _envelope(msg: Message, ours: frozenset[str]) -> Envelope | None:
    """To, Cc and Bcc as ``Name <address>``, our own addresses left out."""

    def listed(name: str) -> tuple[str, ...]:
        return tuple(formatted(n, a) for n, a in addresses(msg, name) if a not in ours)

    envelope = Envelope(to=listed("To"), cc=listed("Cc"), bcc=listed("Bcc"))
    return envelope if envelope.to or envelope.cc or envelope.bcc else None


def _raw_summary(
    msg: Message, *, uidvalidity: int, uid: int, msg_id: str | None, size: int
) -> dict[str, Any]:
    """The small JSON-able record kept beside the normalized message."""
    headers = {}
    for name in _RAW_HEADERS:
        value = header_text(msg, name)
        if value is not None:
            headers[name] = value[:_RAW_VALUE_MAX]
    return {
        "uid": uid,
        "uidvalidity": uidvalidity,
        "message_id": msg_id,
        "from": [formatted(n, a) for n, a in addresses(msg, "From")],
        "to": [formatted(n, a) for n, a in addresses(msg, "To")],
        "cc": [formatted(n, a) for n, a in addresses(msg, "Cc")],
        "subject": header_text(msg, "Subject"),
        "date": header_text(msg, "Date"),
        "size": size,
        "headers": headers,
    }


def _message(
    msg: Message,
    *,
    external_id: str,
    parts: list[ContentPart],
    uidvalidity: int,
    uid: int,
    size: int,
    mailbox_addresses: frozenset[str],
    subject_thread_hours: int | None,
    received_at: datetime | None,
    automated: AutomatedKind | None,
    first_references: tuple[str, ...] = (),
) -> InboundMessage:
    """The InboundMessage of a mail whose content parts are already read;
    ``first_references`` go before its own (a bounce's original)."""
    sender = addresses(msg, "From")
    name, address = sender[0] if sender else ("", UNKNOWN_SENDER)
    subject = header_text(msg, "Subject")
    return InboundMessage(
        external_id=external_id,
        sender_id=address,
        sender=SenderProfile(name=name or None, email=address if sender else None),
        timestamp=_timestamp(msg, received_at),
        thread_key=f"mid:{external_id}",
        subject=subject or None,
        parts=tuple(parts),
        references=tuple(dict.fromkeys(first_references + references_of(msg, own_id=external_id))),
        thread_hints=thread_hints(
            address, subject, header_text(msg, "Thread-Index"), subject_thread_hours
        ),
        envelope=_envelope(msg, mailbox_addresses),
        automated=automated,
        raw=_raw_summary(msg, uidvalidity=uidvalidity, uid=uid, msg_id=message_id(msg), size=size),
    )


def parse_mail(
    raw: bytes,
    *,
    uidvalidity: int,
    uid: int,
    mailbox_addresses: frozenset[str],
    subject_thread_hours: int | None,
    received_at: datetime | None,
) -> list[InboundEvent]:
    """The events of one mail: usually one ``InboundMessage``; a ``StatusUpdate`` for a
    bounce of one of our mails; nothing for mail we sent ourselves. Raises only when
    the mail cannot be read at all (the caller then stores ``unparsed_message``)."""
    msg = read_mail(raw)
    sender = addresses(msg, "From")
    if sender and sender[0][1] in mailbox_addresses:
        return []
    external_id = _external_id(message_id(msg), raw)
    body = read_body(msg, f"{uidvalidity}:{uid}:")
    automated: AutomatedKind | None = automated_kind(msg)
    bounced_references: tuple[str, ...] = ()
    bounce = read_bounce(msg, body.text)
    if bounce is not None:
        automated = "bounce"
        original = bounce.original_message_id
        # Only a mail the hub sent has a status to fail: the core drops a status for any
        # other id (a mail an agent sent from their own client), so such a bounce, like
        # a delay notice, stays a message, in the thread of the mail it reports on.
        if bounce.failed and original and is_hub_message_id(original):
            return [
                StatusUpdate(
                    external_id=bounce.original_message_id,
                    status="failed",
                    timestamp=_timestamp(msg, received_at),
                    reason=bounce.reason,
                    error_code=bounce.status,
                    raw=_raw_summary(
                        msg,
                        uidvalidity=uidvalidity,
                        uid=uid,
                        msg_id=message_id(msg),
                        size=len(raw),
                    ),
                )
            ]
        bounced_references = (original,) if original else ()
    parts: list[ContentPart] = []
    if body.text or body.html or not body.files:
        parts.append(TextPart(text=body.text, html=body.html))
    parts.extend(body.files)
    return [
        _message(
            msg,
            external_id=external_id,
            parts=parts,
            uidvalidity=uidvalidity,
            uid=uid,
            size=len(raw),
            mailbox_addresses=mailbox_addresses,
            subject_thread_hours=subject_thread_hours,
            received_at=received_at,
            automated=automated,
            first_references=bounced_references,
        )
    ]


_RAW_FROM_LINE = re.compile(rb"^From:([^\r\n]*)", re.M | re.I)
_RAW_ADDRESS = re.compile(rb"[A-Za-z0-9._%+'=-]+@[A-Za-z0-9.-]+")
_RAW_MSG_ID = re.compile(rb"^Message-ID:\s*<([^<>\s]+)>", re.M | re.I)


def _raw_sender(from_value: bytes) -> str | None:
    """The address of a raw From value: the one in ``<>`` when there is one (the name
    may look like an address too), else the first address-like word."""
    bracketed = re.search(rb"<\s*(" + _RAW_ADDRESS.pattern + rb")\s*>", from_value)
    found = bracketed.group(1) if bracketed else None
    if found is None:
        bare = _RAW_ADDRESS.search(from_value)
        found = bare.group(0) if bare else None
    return found.decode("ascii").lower() if found else None


def unparsed_message(
    raw: bytes,
    *,
    uidvalidity: int,
    uid: int,
    error: str,
    received_at: datetime | None = None,
) -> InboundMessage:
    """A mail the parser could not read, kept whole: an ``UnsupportedPart`` saying why
    and the raw mail as ``message.eml`` for the agent. The headers are read with plain
    patterns here, since the parser is what failed."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found_id = _RAW_MSG_ID.search(head)
    from_line = _RAW_FROM_LINE.search(head)
    sender = _raw_sender(from_line.group(1)) if from_line else None
    external_id = _external_id(
        found_id.group(1).decode("ascii", "replace") if found_id else None, raw
    )
    return InboundMessage(
        external_id=external_id,
        sender_id=sender or UNKNOWN_SENDER,
        sender=SenderProfile(email=sender),
        timestamp=received_at or datetime.now(UTC),
        thread_key=f"mid:{external_id}",
        parts=(
            UnsupportedPart(raw_type="message/rfc822", description=error),
            MediaPart(
                media_kind="document",
                mime_type="message/rfc822",
                filename="message.eml",
                size=len(raw),
                provider_media_id=f"{uidvalidity}:{uid}:",
            ),
        ),
        raw={"uid": uid, "uidvalidity": uidvalidity, "size": len(raw), "error": error},
    )


def extract_part(raw: bytes, section: str) -> bytes:
    """The decoded bytes of the part at ``section`` (``""``: the whole raw mail);
    ``KeyError`` when the mail has no such part."""
    if section == "":
        return raw
    return part_bytes(find_part(read_mail(raw), section))


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}".rstrip("0").rstrip(".")


def parse_headers_only(
    raw_headers: bytes,
    *,
    size: int,
    limit: int,
    uidvalidity: int,
    uid: int,
    mailbox_addresses: frozenset[str] = frozenset(),
    subject_thread_hours: int | None = None,
    received_at: datetime | None = None,
) -> InboundMessage:
    """A mail over the channel's size limit (``size`` and ``limit`` in bytes), from its
    headers alone: the sender, subject and threading as usual, and a note that the mail
    stays in the mailbox. Its id is the Message-ID (else a hash of the headers)."""
    msg = read_mail(raw_headers)
    note = (
        f"This email is {_megabytes(size)} MB, larger than this channel's limit of "
        f"{_megabytes(limit)} MB, so only its sender, recipients and subject were "
        "imported. The whole email stays in the mailbox: open it there with a mail "
        "program."
    )
    return _message(
        msg,
        external_id=_external_id(message_id(msg), raw_headers),
        parts=[TextPart(text=note)],
        uidvalidity=uidvalidity,
        uid=uid,
        size=size,
        mailbox_addresses=mailbox_addresses,
        subject_thread_hours=subject_thread_hours,
        received_at=received_at,
        automated=automated_kind(msg),
    )
