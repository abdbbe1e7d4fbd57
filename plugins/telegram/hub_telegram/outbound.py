"""Agent replies → Bot API calls: which method, which parameters, which upload.

Text goes without ``parse_mode``: the agent's text is sent exactly as typed, so a
stray ``*`` or ``<`` can never fail with "can't parse entities".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hub.contract import OutboundAttachment, OutboundMessage, PermanentFailure

from hub_telegram.client import Upload

MB = 1_000_000
# Cloud Bot API upload limits (multipart); sending by URL is smaller still.
PHOTO_UPLOAD_LIMIT = 10 * MB
UPLOAD_LIMIT = 50 * MB
CAPTION_LIMIT = 1024
# An inline keyboard button's callback_data: 1-64 bytes.
CALLBACK_DATA_LIMIT = 64

_PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
_VOICE_TYPES = {"audio/ogg", "audio/opus"}


@dataclass(frozen=True)
class BotCall:
    """One Bot API call of a reply, its file still to be read (``attachment``)."""

    method: str
    params: dict[str, Any]
    attachment: OutboundAttachment | None = None
    field: str = ""


def chat_id(recipient_id: str) -> int | str:
    """The ``chat_id`` parameter: numeric ids as integers (they may pass 32 bits)."""
    return int(recipient_id) if recipient_id.lstrip("-").isdigit() else recipient_id


def reply_parameters(message: OutboundMessage) -> dict[str, Any] | None:
    """``reply_parameters`` quoting the replied-to message of the same chat, if any.

    ``allow_sending_without_reply``: when the contact deleted that message, the reply
    still goes (unquoted) instead of failing "message to be replied not found".
    """
    target = message.reply_to_external_id
    if not target:
        return None
    chat, _, message_id = target.rpartition(":")
    if chat != message.recipient_id or not message_id.isdigit():
        return None  # not a message of this chat (e.g. a button press): send unquoted
    return {"message_id": int(message_id), "allow_sending_without_reply": True}


def plan(message: OutboundMessage) -> list[BotCall]:
    """The calls that deliver ``message``: its text, then one per attachment.

    A text short enough rides as the first attachment's caption, as a Telegram user
    would send it; the reply quote and the choices' inline keyboard go on the first call
    only.
    """
    base: dict[str, Any] = {"chat_id": chat_id(message.recipient_id)}
    quote = reply_parameters(message)
    text = message.text or ""
    calls: list[BotCall] = []
    caption_used = not text or len(text) > CAPTION_LIMIT or not message.attachments
    if text and caption_used:
        calls.append(BotCall("sendMessage", {**base, "text": text}))
    for index, attachment in enumerate(message.attachments):
        method, field, limit = _method_for(attachment)
        if attachment.size > limit:
            raise PermanentFailure(
                "attachment_too_large",
                f"{attachment.filename} is {attachment.size} bytes; Telegram accepts "
                f"at most {limit} bytes for this kind of file",
            )
        params = dict(base)
        if index == 0 and not caption_used:
            params["caption"] = text
        calls.append(BotCall(method, params, attachment, field))
    if not calls:
        raise PermanentFailure("empty_message", "the reply has neither text nor files")
    if quote is not None:
        calls[0].params["reply_parameters"] = quote
    if message.choices:
        calls[0].params["reply_markup"] = inline_keyboard(message)
    return calls


def inline_keyboard(message: OutboundMessage) -> dict[str, Any]:
    """The message's ``choices`` as an ``InlineKeyboardMarkup``, one button a row; a
    press comes back as a ``callback_query`` whose ``data`` is the choice's id."""
    for choice in message.choices:
        if not 1 <= len(choice.id.encode()) <= CALLBACK_DATA_LIMIT:
            raise PermanentFailure(
                "choice_id_too_long",
                f"a button's id may be 1-{CALLBACK_DATA_LIMIT} bytes on Telegram: {choice.id!r}",
            )
    rows = [[{"text": c.title, "callback_data": c.id}] for c in message.choices]
    return {"inline_keyboard": rows}


def _method_for(attachment: OutboundAttachment) -> tuple[str, str, int]:
    content_type = attachment.content_type.split(";")[0].strip().lower()
    if content_type in _PHOTO_TYPES:
        return "sendPhoto", "photo", PHOTO_UPLOAD_LIMIT
    if content_type in _VOICE_TYPES:
        return "sendVoice", "voice", UPLOAD_LIMIT
    if content_type.startswith("audio/"):
        return "sendAudio", "audio", UPLOAD_LIMIT
    if content_type == "video/mp4":
        return "sendVideo", "video", UPLOAD_LIMIT
    return "sendDocument", "document", UPLOAD_LIMIT


async def upload_of(
    call: BotCall, read: Callable[[OutboundAttachment], Awaitable[bytes]]
) -> Upload | None:
    """The multipart upload of a call's file, read through the hub (``read`` is
    ``ChannelContext.read_attachment``); None when the hub has no copy but a URL, which
    then goes as the parameter for Telegram to fetch."""
    attachment = call.attachment
    if attachment is None:
        return None
    try:
        content = await read(attachment)
    except FileNotFoundError:
        if attachment.url is None:
            raise PermanentFailure(
                "attachment_unreachable", f"{attachment.filename} has neither a file nor a link"
            ) from None
        call.params[call.field] = attachment.url
        return None
    return Upload(call.field, attachment.filename, attachment.content_type, content)
