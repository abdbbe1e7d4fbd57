"""What a message shows in the timeline: its text (an email's folded at the quoted
history and signature), its sanitized HTML with inline images in place, who else an
email went to, whether a machine sent it, the parts that are not text, its files by how
they play, and its earlier versions.

Everything here is data for ``_message.html``, which escapes it; the one exception is an
email's HTML, which ``email_html`` cleans with nh3 (an allow-list sanitizer) and hands
over as ``Markup``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.inbox.email_html import EmailBody, Images, email_body, normalize_cid, showable
from admin_ui.inbox.email_split import split_text
from hub.media.store import human_size, shown_inline
from hub.store.models import Attachment, Message

FileKind = Literal["image", "audio", "video", "file"]
# Parts shown as a block of their own; text and media are the message's text and files,
# and a reaction is shown on the message it reacts to.
SHOWN_PARTS = frozenset(
    {"location", "contact_card", "sticker", "unsupported", "template", "choices"}
)
_COORDINATE = re.compile(r"^-?\d{1,3}(\.\d+)?$")
# ``messages.automated`` as the timeline's badge says it, and what its tooltip explains.
# (Marked for the catalog only: translated when a message is shown.)
AUTOMATED_LABELS = {"auto_reply": N_("Auto-reply"), "bounce": N_("Bounce"), "bulk": N_("Bulk mail")}
AUTOMATED_HINTS = {
    "auto_reply": N_(
        "Sent automatically (an out-of-office or an acknowledgement): no answer needed"
    ),
    "bounce": N_("A mail server's report that a mail could not be delivered"),
    "bulk": N_("A newsletter or mailing-list mail, sent to many"),
}
# The hub's own auto-reply (out of hours, ``hub.inbox.out_of_hours``).
OUR_AUTO_REPLY_HINT = N_("Sent by the hub, not an agent: the channel's out-of-hours reply")
# The inbox's file route (``admin_ui.inbox.files``), for an inline image's source.
FILE_URL = "/inbox/files/{}"


@dataclass(frozen=True)
class FileView:
    """An attachment and how the timeline offers it."""

    attachment: Attachment
    kind: FileKind

    @property
    def size(self) -> str:
        """The size for people (``1.5 MB``)."""
        return human_size(self.attachment.size)


@dataclass(frozen=True)
class Edit:
    """An earlier version of an edited message."""

    text: str
    replaced_at: datetime | None


@dataclass(frozen=True)
class Recipients:
    """Who an email was addressed to (``messages.envelope``), each as the mail named
    them (``Ada <ada@example.com>`` or a bare address)."""

    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, envelope: dict[str, Any] | None) -> Recipients | None:
        """The stored envelope's lists (None when there is none or it names nobody)."""
        if not isinstance(envelope, dict):
            return None

        def names(key: str) -> list[str]:
            value = envelope.get(key)
            return [str(v) for v in value if str(v).strip()] if isinstance(value, list) else []

        found = cls(names("to"), names("cc"), names("bcc"))
        return found if found.to or found.cc or found.bcc else None

    @staticmethod
    def short(names: list[str]) -> str:
        """The first recipient and how many more, as the summary line says it: ``Ada
        +2`` (the display name when the mail gave one, else the address)."""
        first = names[0]
        name = first.partition("<")[0].strip().strip('"') if "<" in first else ""
        shown = name or first
        return f"{shown} +{len(names) - 1}" if len(names) > 1 else shown


@dataclass(frozen=True)
class MessageView:
    """A message as the timeline shows it."""

    text: str | None
    quoted_text: str | None
    email: EmailBody | None
    parts: list[dict[str, Any]]
    files: list[FileView]
    edits: list[Edit]
    media_waiting: bool
    reaction: dict[str, Any] | None = None
    signature_text: str | None = None
    recipients: Recipients | None = None
    automated: str | None = None
    automated_hint: str = ""


def _translated(message: str | None) -> str | None:
    """A table's marked words in the viewer's language (None stays None)."""
    return _(message) if message else None


def file_kind(content_type: str) -> FileKind:
    """Image, audio and video play in place when the browser may show them safely
    (``hub.media.store.INLINE_TYPES``: never SVG); anything else is a download."""
    if not shown_inline(content_type):
        return "file"
    major = content_type.partition("/")[0]
    return major if major in ("image", "audio", "video") else "file"  # type: ignore[return-value]


def map_link(part: dict[str, Any]) -> str | None:
    """An OpenStreetMap link to a shared location (None when its coordinates are not
    numbers: a provider's text never becomes part of a URL unchecked)."""
    lat, lon = str(part.get("latitude", "")), str(part.get("longitude", ""))
    if not (_COORDINATE.match(lat) and _COORDINATE.match(lon)):
        return None
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"


def _edits(message: Message) -> list[Edit]:
    edits = []
    for old in message.edit_history or []:
        at = old.get("replaced_at")
        try:
            when = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            when = None
        edits.append(Edit(str(old.get("text") or ""), when))
    return edits


def reaction_of(message: Message) -> dict[str, Any] | None:
    """The reaction part of a message that is only a reaction, else None."""
    parts = message.parts or []
    if len(parts) == 1 and parts[0].get("kind") == "reaction":
        return parts[0]
    return None


def inline_images(message: Message, files: list[Attachment], *, remote: bool = False) -> Images:
    """The message's inline images by Content-ID: the URL of the stored file of each
    media part that has one (only a file of this message), None while it has none."""
    own = {a.id for a in files if shown_inline(a.content_type)}
    by_cid: dict[str, str | None] = {}
    for part in message.parts or []:
        cid = part.get("content_id")
        if part.get("kind") != "media" or not isinstance(cid, str) or not cid.strip():
            continue
        attachment_id = part.get("attachment_id")
        url = FILE_URL.format(attachment_id) if attachment_id in own else None
        by_cid[normalize_cid(cid)] = url
    return Images(by_cid, remote)


def _inline_attachment_ids(message: Message, cids: frozenset[str]) -> set[int]:
    """The files shown in place in the HTML (by these Content-IDs)."""
    return {
        p["attachment_id"]
        for p in message.parts or []
        if isinstance(p.get("content_id"), str)
        and normalize_cid(p["content_id"]) in cids
        and isinstance(p.get("attachment_id"), int)
    }


def html_of(message: Message) -> str | None:
    """The message's HTML body (an email's), if it has one that can be shown: HTML too
    big or nested too deep to clean in reasonable time is left out (its plain text
    shows)."""
    html = next((p["html"] for p in message.parts or [] if isinstance(p.get("html"), str)), None)
    return html if html is not None and showable(html) else None


def message_view(message: Message, files: list[Attachment], *, email: bool) -> MessageView:
    """How ``message`` shows: ``email`` for a channel whose messages are emails (their
    quoted history and signature are folded, their recipients shown)."""
    parts = [p for p in message.parts or [] if p.get("kind") in SHOWN_PARTS]
    html = html_of(message)
    text = message.text
    if any(p.get("kind") == "template" for p in parts):
        text = None  # the template block says it better than its text rendering
    quoted = signature = None
    if email and text and html is None:
        pieces = split_text(text)
        text, signature, quoted = pieces.own, pieces.signature or None, pieces.quoted or None
    body = email_body(html, inline_images(message, files)) if html is not None else None
    # An image shown in place in the HTML is not listed again among the files.
    shown = _inline_attachment_ids(message, body.inline_cids) if body else set()
    media_waiting = message.media_pending and not files
    return MessageView(
        text=text,
        quoted_text=quoted,
        email=body,
        parts=parts,
        files=[FileView(a, file_kind(a.content_type)) for a in files if a.id not in shown],
        edits=_edits(message),
        media_waiting=media_waiting,
        reaction=reaction_of(message),
        signature_text=signature,
        recipients=Recipients.of(message.envelope) if email else None,
        automated=_translated(AUTOMATED_LABELS.get(message.automated or "")),
        automated_hint=_translated(
            OUR_AUTO_REPLY_HINT
            if message.direction == "out" and message.automated == "auto_reply"
            else AUTOMATED_HINTS.get(message.automated or "")
        )
        or "",
    )
