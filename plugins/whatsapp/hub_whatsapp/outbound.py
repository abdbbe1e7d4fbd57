"""Hub replies → ``POST /{phone-number-id}/messages`` bodies: text, media, templates, replies.

WhatsApp carries one media item per message, so a reply with several attachments becomes
several messages; the text rides as the caption of a single image, video or document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.contract import (
    Choice,
    FileKind,
    OutboundAttachment,
    OutboundMessage,
    PermanentFailure,
    TemplateRef,
)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_CAPTIONED = ("image", "video", "document")
# The formats Meta's media table lists per message type; anything else goes as a document.
_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
_AUDIO_TYPES = frozenset(
    {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/x-m4a"}
)
_VIDEO_TYPES = frozenset({"video/mp4", "video/3gpp"})
_STICKER_TYPES = frozenset({"image/webp"})


def media_type(content_type: str) -> FileKind:
    """The WhatsApp message type for a file: image, audio, video, sticker or document."""
    base = content_type.split(";")[0].strip().lower()
    if base in _IMAGE_TYPES:
        return "image"
    if base in _AUDIO_TYPES:
        return "audio"
    if base in _VIDEO_TYPES:
        return "video"
    if base in _STICKER_TYPES:
        return "sticker"
    return "document"


@dataclass(frozen=True)
class MediaItem:
    """One attachment to send, with the WhatsApp type and the caption it carries."""

    attachment: OutboundAttachment
    type: FileKind
    caption: str | None


def envelope(
    recipient: str, reply_to: str | None, kind: str, body: dict[str, Any]
) -> dict[str, Any]:
    """A message body for ``recipient``, quoting ``reply_to`` when given."""
    message: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient,
        "type": kind,
        kind: body,
    }
    if reply_to:
        message["context"] = {"message_id": reply_to}
    return message


def text_body(text: str) -> dict[str, Any]:
    """``text``; link previews off, since agents paste links that need no card."""
    if len(text) > TEXT_LIMIT:
        raise PermanentFailure(
            "text_too_long", f"WhatsApp takes at most {TEXT_LIMIT} characters; this has {len(text)}"
        )
    return {"body": text, "preview_url": False}


def plan_media(message: OutboundMessage) -> tuple[str | None, list[MediaItem]]:
    """The text to send on its own (if any) and the media messages, in order."""
    items = [MediaItem(a, media_type(a.content_type), None) for a in message.attachments]
    text = message.text.strip() if message.text and message.text.strip() else None
    if (
        text is not None
        and len(items) == 1
        and items[0].type in _CAPTIONED
        and len(text) <= CAPTION_LIMIT
    ):
        return None, [MediaItem(items[0].attachment, items[0].type, text)]
    return text, items


def media_body(item: MediaItem, *, media_id: str | None) -> dict[str, Any]:
    """``{id | link, caption?, filename?}`` for one attachment."""
    if media_id is not None:
        body: dict[str, Any] = {"id": media_id}
    elif item.attachment.url:
        body = {"link": item.attachment.url}
    else:
        raise PermanentFailure(
            "attachment_unreachable", f"{item.attachment.filename} has neither a file nor a link"
        )
    if item.caption:
        body["caption"] = item.caption
    if item.type == "document":
        body["filename"] = item.attachment.filename
    return body


def template_body(template: TemplateRef) -> dict[str, Any]:
    """A ``template`` object: name, language code, and the body's ``{{1}}``, ``{{2}}``…
    values as text parameters of its ``body`` component."""
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if template.parameters:
        body["components"] = [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": p} for p in template.parameters],
            }
        ]
    return body


# Interactive messages: at most 3 reply buttons (titles up to 20 characters) or a list
# of up to 10 rows (titles up to 24); the body text up to 1024 characters.
BUTTONS_MAX, BUTTON_TITLE_MAX = 3, 20
ROWS_MAX, ROW_TITLE_MAX = 10, 24
INTERACTIVE_TEXT_LIMIT = 1024
LIST_BUTTON = "Choose"


def interactive_body(text: str, choices: tuple[Choice, ...]) -> dict[str, Any]:
    """``interactive``: reply buttons for up to three choices, else a list message, so
    a 1-5 rating fits; the contact's pick comes back as a ``button_reply`` or a
    ``list_reply`` carrying the choice's id."""
    if not text or len(text) > INTERACTIVE_TEXT_LIMIT:
        raise PermanentFailure(
            "text_too_long",
            f"a message with buttons takes 1-{INTERACTIVE_TEXT_LIMIT} characters of text",
        )
    if len(choices) > ROWS_MAX:
        raise PermanentFailure("too_many_choices", f"WhatsApp shows at most {ROWS_MAX} choices")
    buttons = len(choices) <= BUTTONS_MAX
    limit = BUTTON_TITLE_MAX if buttons else ROW_TITLE_MAX
    for choice in choices:
        if len(choice.title) > limit:
            raise PermanentFailure(
                "choice_title_too_long",
                f"WhatsApp allows {limit} characters on this button: {choice.title!r}",
            )
    if buttons:
        return {
            "type": "button",
            "body": {"text": text},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": c.id, "title": c.title}} for c in choices
                ]
            },
        }
    return {
        "type": "list",
        "body": {"text": text},
        "action": {
            "button": LIST_BUTTON,
            "sections": [{"rows": [{"id": c.id, "title": c.title} for c in choices]}],
        },
    }
