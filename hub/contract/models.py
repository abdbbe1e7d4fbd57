"""Normalized models exchanged between the core and plugins (pydantic v2, frozen).

A plugin translates a provider's wire format into these models and back; the core never
sees a provider payload except as the ``raw`` value kept beside the normalized one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import core_schema


class Frozen(BaseModel):
    """Base of every normalized model: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- content parts -------------------------------------------------------------------

MediaKind = Literal["image", "audio", "voice", "video", "document", "animation"]
"""What a ``MediaPart`` holds."""
FileKind = MediaKind | Literal["sticker"]
"""A kind of file a channel carries: a media kind, or a sticker (``StickerPart``); the
keys of ``Capabilities.media``."""


def media_kind_of(content_type: str | None) -> MediaKind:
    """The media kind of a MIME type: image, audio or video by its major type, else a
    document (voice notes and animations are told apart by the provider, not the type)."""
    major = (content_type or "").partition("/")[0]
    if major == "image":
        return "image"
    if major == "audio":
        return "audio"
    if major == "video":
        return "video"
    return "document"


class TextPart(Frozen):
    """Plain text, as the contact wrote it."""

    kind: Literal["text"] = "text"
    text: str
    html: str | None = None
    """The same content as HTML, as the sender wrote it (an email's HTML body). The hub
    sanitizes it before showing it; ``text`` stays the plain reading (lists, search)."""


class MediaPart(Frozen):
    """An image, audio, video, voice note or document, fetched later via ``fetch_media``."""

    kind: Literal["media"] = "media"
    media_kind: MediaKind
    provider_media_id: str | None = None
    url: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    size: int | None = None
    sha256: str | None = None
    caption: str | None = None
    content_id: str | None = None
    """An inline image's Content-ID, without angle brackets (email): the message's HTML
    shows it in place through ``src="cid:…"``."""


class LocationPart(Frozen):
    """A shared location or venue."""

    kind: Literal["location"] = "location"
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class ContactCardPart(Frozen):
    """A shared contact card (vCard-like)."""

    kind: Literal["contact_card"] = "contact_card"
    name: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


class StickerPart(Frozen):
    """A sticker; ``emoji`` is the one the sticker stands for, where known."""

    kind: Literal["sticker"] = "sticker"
    provider_media_id: str | None = None
    mime_type: str | None = None
    emoji: str | None = None
    animated: bool = False


class ReactionPart(Frozen):
    """A reaction to another message; an empty ``emoji`` removes the reaction."""

    kind: Literal["reaction"] = "reaction"
    target_external_id: str
    emoji: str = ""


class ChoicePart(Frozen):
    """The contact picked one of the ``choices`` of one of our messages (a WhatsApp reply
    button or list row, a Telegram inline keyboard button): ``choice_id`` is the
    ``Choice.id`` we sent, ``title`` what the contact saw on it."""

    kind: Literal["choice"] = "choice"
    choice_id: str = Field(min_length=1, max_length=200)
    title: str = ""


class UnsupportedPart(Frozen):
    """Content the plugin cannot translate; kept and shown as unsupported, never dropped."""

    kind: Literal["unsupported"] = "unsupported"
    raw_type: str
    description: str = ""


ContentPart = Annotated[
    TextPart
    | MediaPart
    | LocationPart
    | ContactCardPart
    | StickerPart
    | ReactionPart
    | ChoicePart
    | UnsupportedPart,
    Field(discriminator="kind"),
]


# --- inbound -------------------------------------------------------------------------


class SenderProfile(Frozen):
    """What the provider tells about the sender; used to create or update the contact."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    avatar_url: str | None = None


AutomatedKind = Literal["auto_reply", "bounce", "bulk"]
"""Why a message was sent by a machine: an auto-reply (out of office), a bounce (a
delivery report), or bulk or list mail."""


class ThreadHint(Frozen):
    """A key tying a message to an earlier conversation of the same contact on the channel
    (an email's normalized subject, Outlook's thread index).

    The core keeps the keys of every message it stores with its conversation; a later
    message of the same contact naming one of them joins that conversation, when its last
    message is at most ``within_hours`` old (``None``: however old).
    """

    key: str = Field(min_length=1, max_length=300)
    within_hours: int | None = Field(default=None, ge=1)


class Envelope(Frozen):
    """Who else a message was addressed to (email), as ``Name <address>`` or bare
    addresses, so the agent sees who was on it."""

    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()


class InboundMessage(Frozen):
    """One message from a contact, normalized.

    ``external_id`` is the provider's id, unique within the channel: the core dedupes
    on (channel, external_id), so a provider's retry never doubles a message.
    """

    kind: Literal["message"] = "message"
    external_id: str = Field(min_length=1)
    sender_id: str = Field(min_length=1, description="channel-scoped id of the sender")
    sender: SenderProfile = SenderProfile()
    timestamp: AwareDatetime
    thread_key: str | None = None
    reply_to_external_id: str | None = None
    subject: str | None = None
    parts: tuple[ContentPart, ...] = Field(min_length=1)
    edited: bool = False
    group_key: str | None = None
    """Messages of one channel with the same ``group_key`` are shown as one message: the
    first is stored, later ones add their parts to it (Telegram albums). Each keeps its
    own ``external_id`` for dedupe."""
    references: tuple[str, ...] = ()
    """External ids of earlier messages this one follows, nearest first (an email's
    ``In-Reply-To`` and ``References``, ours or the contact's). The core puts the message
    in the conversation of the first one it knows, when that conversation is the same
    contact's; else it tries ``thread_hints``, then ``thread_key``, then the contact's
    open conversation."""
    thread_hints: tuple[ThreadHint, ...] = ()
    envelope: Envelope | None = None
    automated: AutomatedKind | None = None
    """Set for mail sent by a machine: flagged in the timeline, never answered
    automatically, and it never reopens a closed conversation by itself."""
    raw: dict[str, Any] = Field(default_factory=dict)


DeliveryStatus = Literal["sent", "delivered", "read", "failed"]
"""How far an outbound message got, as providers report it."""


class StatusUpdate(Frozen):
    """A delivery status of one of our outbound messages, by its provider id."""

    kind: Literal["status"] = "status"
    external_id: str = Field(min_length=1)
    status: DeliveryStatus
    timestamp: AwareDatetime | None = None
    reason: str | None = None
    error_code: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


InboundEvent = Annotated[InboundMessage | StatusUpdate, Field(discriminator="kind")]


class Headers(Mapping[str, str]):
    """HTTP headers: looked up case-insensitively, read-only, kept as they were sent.

    Header names are case-insensitive and proxies change their case (HTTP/2 sends them in
    lower case), so ``headers["x-hub-signature-256"]`` and ``headers["X-Hub-Signature-256"]``
    find the same value. Iterating gives the names as received, so the inbound log shows
    the request as it came and a replay rebuilds the same request.
    """

    __slots__ = ("_folded", "_items")

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})
        # Lower-cased name → value; a name sent twice in different cases keeps the last.
        self._folded = {name.lower(): value for name, value in self._items.items()}

    def __getitem__(self, name: str) -> str:
        return self._folded[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._folded

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._items == other._items
        return isinstance(other, Mapping) and self._items == dict(other)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validated from any str → str mapping; serialized as a plain dict."""
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.dict_schema(core_schema.str_schema(), core_schema.str_schema()),
            serialization=core_schema.plain_serializer_function_ser_schema(
                dict, when_used="always"
            ),
        )


class WebhookRequest(Frozen):
    """An HTTP request to ``/webhooks/{channel_id}`` as the plugin sees it: raw bytes.

    ``headers`` looks names up case-insensitively (``Headers``); ``header(name)`` is the
    short way to read one that may be missing.
    """

    method: str
    url: str
    headers: Headers
    query: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """The value of header ``name`` in any letter case, or ``None`` when not sent."""
        return self.headers.get(name)


class WebhookResponse(Frozen):
    """A response a plugin wants sent instead of the default acknowledgement.

    Used for handshakes, e.g. WhatsApp's GET ``hub.challenge`` echo.
    """

    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


class WebhookResult(Frozen):
    """What ``handle_webhook`` returns: the events to store and an optional response."""

    events: tuple[InboundEvent, ...] = ()
    response: WebhookResponse | None = None


# --- outbound ------------------------------------------------------------------------


class OutboundAttachment(Frozen):
    """A file to send: a signed ``url`` the provider can fetch without a login, and the
    bytes through ``ChannelContext.read_attachment`` for plugins that upload them.

    ``sha256`` names the stored bytes; the plugin needs it only to pass the attachment
    back to the context (or to skip uploading the same file twice).
    """

    filename: str
    content_type: str
    size: int
    sha256: str
    url: str | None = None


class TemplateRef(Frozen):
    """A provider-approved message template to send, and the values of its body's
    ``{{1}}``, ``{{2}}``… placeholders, in order (``MessageTemplate`` lists them)."""

    name: str = Field(min_length=1)
    language: str = Field(min_length=1)
    parameters: tuple[str, ...] = ()


class Choice(Frozen):
    """One answer the contact can pick with a tap (a reply button, a keyboard button).

    ``id`` comes back as ``ChoicePart.choice_id`` when the contact picks it; ``title`` is
    the button's label (short: WhatsApp allows 20 characters on a button, 24 on a list
    row)."""

    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=60)


class OutboundMessage(Frozen):
    """One agent reply to deliver through a channel.

    ``idempotency_key`` is stable across retries of the same message; plugins pass it
    to providers that accept one.
    """

    message_id: int
    conversation_id: int
    recipient_id: str
    idempotency_key: str
    text: str | None = None
    subject: str | None = None
    thread_key: str | None = None
    reply_to_external_id: str | None = None
    attachments: tuple[OutboundAttachment, ...] = ()
    template: TemplateRef | None = None
    """Set for a template message, which then has no attachments; ``text`` is only the
    inbox's rendering of it."""
    references: tuple[str, ...] = ()
    """External ids of the conversation's earlier messages, oldest first (at most the
    last 20): an email's ``References``; the last is what the reply follows when
    ``reply_to_external_id`` names none."""
    cc: tuple[str, ...] = ()
    """Addresses the agent copied (channels whose ``Capabilities.cc`` is set)."""
    sender_name: str | None = None
    """The display name of the agent who wrote it (email's "Ana via Acme Support")."""
    choices: tuple[Choice, ...] = ()
    """Answers to offer as buttons (a CSAT survey), in order; only sent to channels whose
    ``Capabilities.choices`` is at least their number. ``text`` is the question, and also
    says how to answer in words, so a plugin may show it alone as a fallback."""


class MessageTemplate(Frozen):
    """A message template approved by the provider, as the composer lists it.

    ``parameters`` is how many ``{{n}}`` placeholders its body takes; ``body`` its text
    with the placeholders, for the agent to read; ``raw`` the provider's own description.
    """

    name: str
    language: str
    category: str | None = None
    status: str | None = None
    body: str | None = None
    parameters: int = 0
    raw: dict[str, Any] = Field(default_factory=dict)


# --- CRM -----------------------------------------------------------------------------


class CrmRecord(Frozen):
    """A contact record as a CRM holds it."""

    external_id: str
    email: str | None = None
    phone: str | None = None
    owner_external_id: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    updated_at: datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict)
