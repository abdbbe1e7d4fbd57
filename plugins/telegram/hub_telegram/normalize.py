"""Telegram updates → the hub's normalized inbound messages.

Ids: ``message_id`` is unique only within a chat, so a message's external id is
``<chat id>:<message id>`` (an edit keeps it, so the core updates the stored message);
a button press is ``callback:<callback query id>``. The contact is the chat: replies go
to ``chat.id``, which for a private chat is the user's id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hub.contract import (
    ChoicePart,
    ContactCardPart,
    ContentPart,
    InboundMessage,
    LocationPart,
    MediaPart,
    SenderProfile,
    StickerPart,
    TextPart,
    UnsupportedPart,
)

from hub_telegram.payloads import CallbackQuery, Chat, Message, MessageEntity, Update, User

# Message fields that carry content the hub cannot show; named in the unsupported part.
_UNSUPPORTED = (
    "poll",
    "dice",
    "game",
    "invoice",
    "story",
    "giveaway",
    "paid_media",
    "checklist",
    "successful_payment",
    "web_app_data",
)


def message_key(chat_id: int, message_id: int) -> str:
    """The external id of message ``message_id`` of chat ``chat_id``."""
    return f"{chat_id}:{message_id}"


def normalize_update(raw: dict[str, Any], *, channel_posts: bool) -> InboundMessage | None:
    """The message an update carries, or None for updates the hub does not import."""
    update = Update.model_validate(raw)
    if update.callback_query is not None:
        return _callback(update.callback_query, raw)
    names = ["message", "edited_message"]
    if channel_posts:
        names += ["channel_post", "edited_channel_post"]
    for name in names:
        message = getattr(update, name)
        if message is not None:
            return _message(message, raw, edited=name.startswith("edited"), body=raw[name])
    return None


def _message(
    message: Message, raw: dict[str, Any], *, edited: bool, body: dict[str, Any]
) -> InboundMessage:
    reply = message.reply_to_message
    return InboundMessage(
        external_id=message_key(message.chat.id, message.message_id),
        sender_id=str(message.chat.id),
        sender=_profile(message.chat, message.from_),
        timestamp=_time(message.edit_date if edited and message.edit_date else message.date),
        reply_to_external_id=message_key(message.chat.id, reply.message_id) if reply else None,
        parts=_parts(message, body),
        edited=edited,
        # An album comes as one update per item; the core shows the items as one message.
        group_key=f"{message.chat.id}:{message.media_group_id}" if message.media_group_id else None,
        raw=raw,
    )


def _callback(query: CallbackQuery, raw: dict[str, Any]) -> InboundMessage:
    source = query.message
    chat_id = source.chat.id if source is not None else query.from_.id
    pressed = query.data or query.game_short_name or ""
    return InboundMessage(
        external_id=f"callback:{query.id}",
        sender_id=str(chat_id),
        sender=_profile(source.chat, query.from_) if source else _profile(None, query.from_),
        # A callback query carries no date; it is happening now.
        timestamp=datetime.now(UTC),
        reply_to_external_id=message_key(chat_id, source.message_id) if source else None,
        parts=(
            ChoicePart(choice_id=pressed[:200], title=_button_text(raw, pressed))
            if pressed
            else UnsupportedPart(raw_type="callback_query"),
        ),
        raw=raw,
    )


def _button_text(raw: dict[str, Any], data: str) -> str:
    """The label of the pressed button, read from the keyboard of the message it was on
    (the callback carries only its ``callback_data``); the data when it is not there."""
    message = (raw.get("callback_query") or {}).get("message") or {}
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    for row in keyboard if isinstance(keyboard, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                text = button.get("text")
                if isinstance(text, str) and text:
                    return text
    return data


def _profile(chat: Chat | None, user: User | None) -> SenderProfile:
    if chat is not None and chat.type != "private" and chat.title:
        # A group or channel is the contact; whoever spoke is in the raw update.
        return SenderProfile(name=chat.title)
    if user is not None:
        name = " ".join(p for p in (user.first_name, user.last_name) if p) or user.username
        return SenderProfile(name=name)
    if chat is not None:
        name = " ".join(p for p in (chat.first_name, chat.last_name) if p) or chat.username
        return SenderProfile(name=name)
    return SenderProfile()


def _time(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def _parts(message: Message, body: dict[str, Any]) -> tuple[ContentPart, ...]:
    parts: list[ContentPart] = []
    caption = render_entities(message.caption, message.caption_entities) or None
    media = _media(message, caption)
    if media is not None:
        parts.append(media)
    elif caption:
        parts.append(TextPart(text=caption))
    if message.text:
        parts.append(TextPart(text=render_entities(message.text, message.entities)))
    if message.venue is not None:
        venue = message.venue
        parts.append(
            LocationPart(
                latitude=venue.location.latitude,
                longitude=venue.location.longitude,
                name=venue.title,
                address=venue.address,
            )
        )
    elif message.location is not None:
        parts.append(
            LocationPart(latitude=message.location.latitude, longitude=message.location.longitude)
        )
    if message.contact is not None:
        contact = message.contact
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        parts.append(ContactCardPart(name=name, phones=(contact.phone_number,)))
    if not parts:
        parts.append(_unsupported(body))
    return tuple(parts)


def _media(message: Message, caption: str | None) -> MediaPart | StickerPart | None:
    if message.photo:
        largest = message.photo[-1]  # smallest first
        return MediaPart(
            media_kind="image",
            provider_media_id=largest.file_id,
            mime_type="image/jpeg",
            size=largest.file_size,
            caption=caption,
        )
    if message.sticker is not None:
        sticker = message.sticker
        mime = (
            "video/webm"
            if sticker.is_video
            else "application/x-tgsticker"
            if sticker.is_animated
            else "image/webp"
        )
        return StickerPart(
            provider_media_id=sticker.file_id,
            mime_type=mime,
            emoji=sticker.emoji,
            animated=sticker.is_animated or sticker.is_video,
        )
    # An animation also sets ``document``: check it first so it is not shown as a file.
    for field, kind in (
        ("animation", "animation"),
        ("voice", "voice"),
        ("audio", "audio"),
        ("video", "video"),
        ("video_note", "video"),
        ("document", "document"),
    ):
        item = getattr(message, field)
        if item is not None:
            return MediaPart(
                media_kind=kind,
                provider_media_id=item.file_id,
                # A video note has no MIME type on the wire; Telegram stores them as MP4.
                mime_type=item.mime_type or ("video/mp4" if field == "video_note" else None),
                filename=item.file_name,
                size=item.file_size,
                caption=caption,
            )
    return None


def _unsupported(body: dict[str, Any]) -> UnsupportedPart:
    kind = next((name for name in _UNSUPPORTED if name in body), None)
    return UnsupportedPart(
        raw_type=kind or "message",
        description=f"a Telegram {kind or 'message'} the hub cannot show; open it in Telegram",
    )


def render_entities(text: str | None, entities: tuple[MessageEntity, ...]) -> str:
    """The text with each ``text_link``'s URL written after its words, so no link is lost.

    Entity offsets count UTF-16 code units, not Python characters: an emoji before a
    link would otherwise shift it.
    """
    if not text:
        return ""
    links = sorted((e for e in entities if e.type == "text_link" and e.url), key=lambda e: e.offset)
    if not links:
        return text
    units = text.encode("utf-16-le")
    pieces: list[str] = []
    cursor = 0
    for entity in links:
        end = (entity.offset + entity.length) * 2
        if entity.offset * 2 < cursor or end > len(units):
            continue
        pieces.append(units[cursor:end].decode("utf-16-le", errors="replace"))
        pieces.append(f" ({entity.url})")
        cursor = end
    pieces.append(units[cursor:].decode("utf-16-le", errors="replace"))
    return "".join(pieces)
