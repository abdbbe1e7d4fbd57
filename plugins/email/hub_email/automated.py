"""Is a mail from a machine? (vendor-protocols §5.7; RFC 3834, 2369, 2919, 3464)

The kind decides how the inbox treats it: flagged in the timeline, never answered by
anything automatic, never reopening a closed conversation by itself. The plugin itself
never answers any mail.

- ``auto_reply``: ``Auto-Submitted: auto-replied``, ``X-Autoreply``, ``X-Autorespond``,
  ``Precedence: auto_reply``, Microsoft's ``X-Auto-Response-Suppress`` (set on its
  out-of-office replies), an "Automatic reply:" subject, or a null ``Return-Path: <>``
  without any other sign (RFC 3834 asks responders to send with a null sender).
- ``bounce``: a ``multipart/report`` delivery report, or mail from ``MAILER-DAEMON`` or
  ``postmaster``.
- ``bulk``: ``Auto-Submitted: auto-generated`` or ``auto-notified`` (notifications),
  ``Precedence: bulk|list|junk``, ``List-Id``, ``List-Unsubscribe``, or a ``noreply``
  sender.
"""

from __future__ import annotations

import re
from email.message import Message

from hub.contract import AutomatedKind

from hub_email.mime_headers import addresses, header_text

_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_NOREPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|donotreply)(?:[+.-].*)?$")
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matische)? ?(?:antwort|reply)|out of (?:the )?office"
    r"|abwesenheitsnotiz|réponse automatique)\b",
    re.IGNORECASE,
)


def automated_kind(msg: Message) -> AutomatedKind | None:
    """Why ``msg`` was sent by a machine, or ``None`` for mail a person wrote."""
    content_type = msg.get_content_type()
    report_type = str(msg.get_param("report-type") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        return "bounce"
    sender = addresses(msg, "From")
    local_part = sender[0][1].partition("@")[0] if sender else ""
    if local_part in _BOUNCE_SENDERS:
        return "bounce"
    submitted = (header_text(msg, "Auto-Submitted") or "").lower()
    if submitted.startswith("auto-replied"):
        return "auto_reply"
    precedence = (header_text(msg, "Precedence") or "").lower().strip()
    if precedence == "auto_reply":
        return "auto_reply"
    if any(header_text(msg, name) is not None for name in ("X-Autoreply", "X-Autorespond")):
        return "auto_reply"
    if header_text(msg, "X-Auto-Response-Suppress") is not None:
        return "auto_reply"
    if _AUTO_REPLY_SUBJECT.match(header_text(msg, "Subject") or ""):
        return "auto_reply"
    if submitted and not submitted.startswith("no"):
        return "bulk"
    if precedence in ("bulk", "list", "junk"):
        return "bulk"
    if any(header_text(msg, name) is not None for name in ("List-Id", "List-Unsubscribe")):
        return "bulk"
    if _NOREPLY.match(local_part):
        return "bulk"
    if (header_text(msg, "Return-Path") or "").replace(" ", "") == "<>":
        return "auto_reply"
    return None
