"""The Bot API's wire models (core.telegram.org/bots/api), as much of them as the hub reads.

Unknown fields are ignored, not refused: Telegram adds fields in every Bot API release,
and an update the hub cannot fully read must still be kept.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Wire(BaseModel):
    """Base of every wire model: unknown fields ignored, values kept as sent."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class User(Wire):
    """A Telegram user or bot (``from``)."""

    id: int
    is_bot: bool = False
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None


class Chat(Wire):
    """The chat a message belongs to; ``id`` may exceed 32 bits and is negative for groups."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class MessageEntity(Wire):
    """A special span of text; ``offset`` and ``length`` count UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None


class PhotoSize(Wire):
    """One size of a photo; a message's ``photo`` lists them smallest first."""

    file_id: str
    file_unique_id: str
    width: int = 0
    height: int = 0
    file_size: int | None = None


class FileObject(Wire):
    """The fields document, audio, voice, video, video note and animation share."""

    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    duration: int | None = None


class Sticker(Wire):
    """A sticker: static WebP, animated TGS or video WebM."""

    file_id: str
    file_unique_id: str
    type: str = "regular"
    is_animated: bool = False
    is_video: bool = False
    emoji: str | None = None
    file_size: int | None = None


class Location(Wire):
    """A point on the map."""

    latitude: float
    longitude: float


class Venue(Wire):
    """A place: a location with a title and an address (the message also has ``location``)."""

    location: Location
    title: str
    address: str


class Contact(Wire):
    """A shared phone contact."""

    phone_number: str
    first_name: str
    last_name: str | None = None
    user_id: int | None = None
    vcard: str | None = None


class ReplyTo(Wire):
    """The message replied to, as far as the hub needs it: its id within the chat."""

    message_id: int


class Message(Wire):
    """A message (also an edited message or a channel post)."""

    message_id: int
    date: int
    chat: Chat
    # ``from`` is a Python keyword.
    from_: User | None = Field(default=None, alias="from")
    sender_chat: Chat | None = None
    edit_date: int | None = None
    text: str | None = None
    entities: tuple[MessageEntity, ...] = ()
    caption: str | None = None
    caption_entities: tuple[MessageEntity, ...] = ()
    photo: tuple[PhotoSize, ...] = ()
    document: FileObject | None = None
    animation: FileObject | None = None
    audio: FileObject | None = None
    voice: FileObject | None = None
    video: FileObject | None = None
    video_note: FileObject | None = None
    sticker: Sticker | None = None
    location: Location | None = None
    venue: Venue | None = None
    contact: Contact | None = None
    reply_to_message: ReplyTo | None = None
    media_group_id: str | None = None


class CallbackQuery(Wire):
    """A press on an inline keyboard button of one of the bot's messages."""

    id: str
    from_: User = Field(alias="from")
    message: Message | None = None
    data: str | None = None
    game_short_name: str | None = None


class Update(Wire):
    """One incoming update: ``update_id`` and at most one of the optional parts."""

    update_id: int
    message: Message | None = None
    edited_message: Message | None = None
    channel_post: Message | None = None
    edited_channel_post: Message | None = None
    callback_query: CallbackQuery | None = None


class File(Wire):
    """What ``getFile`` answers; ``file_path`` is absent when the file cannot be had."""

    file_id: str
    file_unique_id: str
    file_size: int | None = None
    file_path: str | None = None
