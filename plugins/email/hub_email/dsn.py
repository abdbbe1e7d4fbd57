"""Bounces: which of our mails failed, for whom, and why (RFC 3464, vendor-protocols §5.6).

A standard bounce is ``multipart/report; report-type=delivery-status``: a human part,
a ``message/delivery-status`` part with one block per recipient (``Final-Recipient``,
``Action``, ``Status``, ``Diagnostic-Code``), and the original as ``message/rfc822`` or
``text/rfc822-headers``, whose ``Message-ID`` names our mail.

Non-standard bounces (old Exchange "Undeliverable:", Postfix "Undelivered Mail Returned
to Sender", Gmail "Delivery Status Notification (Failure)", German "Unzustellbar") are
recognized by their subject or a ``MAILER-DAEMON``/``postmaster`` sender, and count only
when the original's Message-ID can be read: from an attached original, its attached
headers, or a ``Message-ID:`` line of the returned headers quoted in the text. The
status and diagnostic are then read from the text (``5.1.1``, ``550 …``).

``Action: delayed`` (and delivered, relayed, expanded) is not a failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import Message

from hub_email.mime_charset import decode_text
from hub_email.mime_headers import addresses, header_text, message_id, message_ids
from hub_email.mime_walk import leaves, read_mail

_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|returned to sender|delivery status notification"
    r"|delivery (?:has )?failed|failure notice|mail delivery failed|unzustellbar"
    r"|nicht zustellbar|non remis|non recapitabile|no se puede entregar",
    re.IGNORECASE,
)
_DELAY_SUBJECT = re.compile(r"delay|verzögert|warning", re.IGNORECASE)
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_SMTP_LINE = re.compile(r"^.*\b[45]\d\d[ -].*$", re.MULTILINE)
_QUOTED_ID = re.compile(r"^[> \t]*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_REASON_MAX = 500


@dataclass(frozen=True)
class RecipientReport:
    """What a delivery report says about one recipient."""

    recipient: str | None
    action: str
    status: str | None
    diagnostic: str | None


@dataclass(frozen=True)
class Bounce:
    """A delivery report: the original mail it reports on, and per recipient."""

    original_message_id: str | None
    recipients: tuple[RecipientReport, ...]
    human_text: str

    @property
    def failed(self) -> tuple[RecipientReport, ...]:
        """The recipients the mail could not be delivered to."""
        return tuple(r for r in self.recipients if r.action == "failed")

    @property
    def reason(self) -> str:
        """The diagnostic text (per failed recipient when several), else the human text."""
        failed = self.failed
        texts = [r.diagnostic or (f"Status {r.status}" if r.status else "") for r in failed]
        if len(failed) == 1 and texts[0]:
            return texts[0][:_REASON_MAX]
        if len(failed) > 1:
            joined = "; ".join(
                f"{r.recipient or 'unknown'}: {t}" for r, t in zip(failed, texts, strict=True)
            )
            return joined[:_REASON_MAX]
        return " ".join(self.human_text.split())[:_REASON_MAX] or "Undeliverable"

    @property
    def status(self) -> str | None:
        """The Status code of the first failed recipient (``5.1.1``)."""
        return next((r.status for r in self.failed if r.status), None)


def _after_type(value: str | None) -> str | None:
    """``rfc822; bob@example.com`` → ``bob@example.com``: the value after its type."""
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    return " ".join((rest if sep else kind).split()) or None


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a ``message/delivery-status`` part, names lower-cased."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [
            {name.lower(): " ".join(str(value).split()) for name, value in block.items()}
            for block in payload
            if isinstance(block, Message)
        ]
    raw = part.get_payload(decode=True)
    text = decode_text(raw if isinstance(raw, bytes) else b"", part.get_content_charset())
    blocks = []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text):
        parsed = message_from_string(chunk.strip() + "\n\n", policy=policy.compat32)
        blocks.append({name.lower(): " ".join(str(v).split()) for name, v in parsed.items()})
    return blocks


def _recipient_reports(part: Message) -> list[RecipientReport]:
    """One report per recipient block (the blocks that have an ``Action``)."""
    reports = []
    for block in _status_blocks(part):
        action = block.get("action", "").lower().strip()
        if not action:
            continue
        reports.append(
            RecipientReport(
                recipient=_after_type(block.get("final-recipient"))
                or _after_type(block.get("original-recipient")),
                action=action,
                status=(block.get("status") or "").strip() or None,
                diagnostic=_after_type(block.get("diagnostic-code")),
            )
        )
    return reports


def _original_id(part: Message) -> str | None:
    """The Message-ID of an attached original (``message/rfc822``) or its headers."""
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return message_id(payload[0])
    if content_type == "text/rfc822-headers":
        raw = part.get_payload(decode=True)
        text = decode_text(raw if isinstance(raw, bytes) else b"", part.get_content_charset())
        return message_id(read_mail(text.strip().encode("utf-8", "surrogateescape") + b"\n\n"))
    return None


def _is_nonstandard_bounce(msg: Message) -> bool:
    """A bounce by its subject or its sender, though not a ``multipart/report``."""
    sender = addresses(msg, "From")
    if sender and sender[0][1].partition("@")[0] in _BOUNCE_SENDERS:
        return True
    return _BOUNCE_SUBJECT.search(header_text(msg, "Subject") or "") is not None


def _text_report(msg: Message, text: str) -> RecipientReport:
    """A failed (or, by its subject, delayed) recipient read from a bounce's text."""
    status_match = _STATUS.search(text)
    smtp_line = _SMTP_LINE.search(text)
    diagnostic = smtp_line.group(0).strip() if smtp_line else None
    delayed = _DELAY_SUBJECT.search(header_text(msg, "Subject") or "") is not None
    status = status_match.group(1) if status_match else None
    if status and status.startswith("4") and not delayed:
        delayed = "retry" in text.lower() or "delayed" in text.lower()
    return RecipientReport(
        recipient=None,
        action="delayed" if delayed else "failed",
        status=status,
        diagnostic=diagnostic,
    )


def read_bounce(msg: Message, body_text: str) -> Bounce | None:
    """The delivery report in ``msg`` (whose readable text is ``body_text``), or
    ``None`` when it is not a bounce."""
    report_type = str(msg.get_param("report-type") or "").lower()
    standard = msg.get_content_type() == "multipart/report" and report_type == "delivery-status"
    if not standard and not _is_nonstandard_bounce(msg):
        return None
    recipients: list[RecipientReport] = []
    original: str | None = None
    for _section, part in leaves(msg):
        if part.get_content_type() == "message/delivery-status":
            recipients += _recipient_reports(part)
        elif original is None:
            original = _original_id(part)
    if original is None and not standard:
        quoted = _QUOTED_ID.search(body_text)
        original = message_ids(quoted.group(1))[0] if quoted else None
    if not standard and original is None:
        return None  # a "bounce" whose original cannot be named is just a mail
    if not recipients:
        recipients = [_text_report(msg, body_text)]
    return Bounce(original_message_id=original, recipients=tuple(recipients), human_text=body_text)
