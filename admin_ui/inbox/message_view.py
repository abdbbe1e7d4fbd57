"""What a message shows in the timeline: its text (an email's folded at the quoted
history), its sanitized HTML, the parts that are not text, its files by how they play,
and its earlier versions.

Everything here is data for ``_message.html``, which escapes it; the one exception is an
email's HTML, which ``email_html`` cleans with nh3 (an allow-list sanitizer) and hands
over as ``Markup``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from admin_ui.inbox.email_html import EmailBody, email_body, split_quoted_text
from hub.media.store import human_size, shown_inline
from hub.store.models import Attachment, Message

FileKind = Literal["image", "audio", "video", "file"]
# Parts shown as a block of their own; text and media are the message's text and files,
# and a reaction is shown on the message it reacts to.
SHOWN_PARTS = frozenset({"location", "contact_card", "sticker", "unsupported", "template"})
_COORDINATE = re.compile(r"^-?\d{1,3}(\.\d+)?$")


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


def message_view(message: Message, files: list[Attachment], *, email: bool) -> MessageView:
    """How ``message`` shows: ``email`` for a channel whose messages are emails (their
    quoted history is folded)."""
    parts = [p for p in message.parts or [] if p.get("kind") in SHOWN_PARTS]
    html = next((p["html"] for p in message.parts or [] if isinstance(p.get("html"), str)), None)
    text = message.text
    if any(p.get("kind") == "template" for p in parts):
        text = None  # the template block says it better than its text rendering
    quoted = None
    if email and text and html is None:
        text, quoted = split_quoted_text(text)
    media_waiting = message.media_pending and not files
    return MessageView(
        text=text,
        quoted_text=quoted,
        email=email_body(html) if html is not None else None,
        parts=parts,
        files=[FileView(a, file_kind(a.content_type)) for a in files],
        edits=_edits(message),
        media_waiting=media_waiting,
        reaction=reaction_of(message),
    )
