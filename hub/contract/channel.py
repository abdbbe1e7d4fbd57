"""The base class of every channel plugin: one provider's wire format and transport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict

from hub.contract.models import (
    FileKind,
    InboundEvent,
    MediaPart,
    MessageTemplate,
    OutboundAttachment,
    OutboundMessage,
    StickerPart,
    WebhookRequest,
    WebhookResult,
)

ConfigT = TypeVar("ConfigT", bound=BaseModel)


class Capabilities(BaseModel):
    """What a channel can carry; the core and UI check these before sending.

    ``media`` maps a file kind (a ``MediaPart.media_kind``, or ``sticker``) to its size
    limit in bytes; a kind left out is one the channel cannot carry. ``window_hours`` is the
    provider's customer-service window
    (WhatsApp: 24), ``None`` when free-form messages are always allowed.
    """

    model_config = ConfigDict(frozen=True)

    media: dict[FileKind, int] = {}
    reply_to: bool = False
    typing: bool = False
    subject: bool = False
    cc: bool = False
    edit: bool = False
    templates: bool = False
    window_hours: int | None = None
    max_text_length: int | None = None
    choices: int = 0
    """How many ``OutboundMessage.choices`` the channel can show as buttons (0: none; the
    core then sends the text alone and reads the contact's typed answer). A contact's
    tap comes back as a ``ChoicePart``."""


class FileReader(Protocol):
    """Where the core keeps the files of outbound messages (its media store)."""

    async def read(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; ``FileNotFoundError`` when there are none."""
        ...


@dataclass(frozen=True)
class ChannelContext:
    """What the core hands a channel instance: who it is and how to reach the world.

    ``http`` is the hub's shared outbound HTTP client; plugins use it rather than
    opening their own, so tests can mock it at the transport layer. ``files`` is the
    core's file store, read through ``read_attachment``; ``None`` where the core keeps
    no files (then only an attachment's ``url`` is there).
    """

    channel_id: int
    webhook_url: str
    http: httpx.AsyncClient
    files: FileReader | None = None

    async def read_attachment(self, attachment: OutboundAttachment) -> bytes:
        """The bytes of an outbound attachment, for plugins that upload files themselves.

        Raises ``FileNotFoundError`` when the core has no copy of it (no file store, or
        the file is gone); a plugin then sends ``attachment.url`` or fails the message.
        """
        if self.files is None:
            raise FileNotFoundError(f"no file store holds {attachment.filename}")
        return await self.files.read(attachment.sha256)


@dataclass(frozen=True)
class PollResult:
    """Events fetched by ``poll`` and the cursor to resume from next time.

    ``problems`` are what an admin should know of this poll though nothing was lost (a
    mail that could not be parsed and was kept as a file): the inbound log shows them.
    """

    events: list[InboundEvent]
    cursor: str | None
    problems: tuple[str, ...] = ()


class ChannelType(Generic[ConfigT]):
    """A channel plugin. Subclass it, fill the class attributes, implement the methods.

    Parametrize it with the Config model (``class Mine(ChannelType[MineConfig])``) so
    ``self.config`` is typed as that model.

    The core builds one instance per connected channel with its validated ``Config``
    and a :class:`ChannelContext`. A channel never touches the database: it verifies,
    translates and transports, and raises the typed errors of ``hub.contract.errors``.
    """

    name: ClassVar[str]
    """Unique type name, e.g. ``"whatsapp"``; stored with every channel of this type."""
    title: ClassVar[str]
    """Human name shown in the admin UI."""
    description: ClassVar[str]
    """One or two sentences for the admin's channel picker."""
    logo: ClassVar[str]
    """An SVG document (text); the UI shows it as an image, so it can never run script."""
    Config: ClassVar[type[BaseModel]]
    """Credentials and options; the admin form is generated from it."""
    capabilities: ClassVar[Capabilities] = Capabilities()
    available: ClassVar[bool] = True
    """False while the plugin is not built yet: the type is listed, marked "not available
    yet", and the core refuses to create or connect a channel of it."""
    checks_credentials: ClassVar[bool] = True
    """Whether ``connect`` checks the credentials with the provider; the connect page
    promises that check only where this is true (the plain custom channel has none)."""
    extensible: ClassVar[bool] = False
    """Whether declarative channel definitions (JSON manifests registered through the API)
    may name this type as their ``base``: they then run on its behaviour under their own
    name, logo and credential form, their credential fields added to its ``Config``."""

    def __init__(self, config: ConfigT, context: ChannelContext) -> None:
        self.config: ConfigT = config
        self.context = context

    async def connect(self) -> None:
        """Validate the credentials against the provider and register webhooks.

        Raise ``BadCredentials`` with a message the admin can act on when they fail.
        """

    async def disconnect(self) -> None:
        """Undo ``connect`` (e.g. remove the webhook) after the channel was deleted; an
        exception is logged, as the channel is gone either way.

        Not called when a channel is disabled: a disabled channel keeps its webhook so the
        core can acknowledge and hold what arrives, for replay once it is enabled again."""

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify one webhook request and translate it into normalized events.

        Raise ``WebhookRejected`` for unsigned, wrongly signed, stale or malformed input.
        """
        raise NotImplementedError(f"{self.name} does not receive webhooks")

    async def send(self, message: OutboundMessage) -> str:
        """Deliver one outbound message; return the provider's id for it."""
        raise NotImplementedError(f"{self.name} cannot send")

    async def poll(self, cursor: str | None) -> PollResult:
        """Fetch new events for channels that pull (IMAP, Telegram long polling)."""
        raise NotImplementedError(f"{self.name} does not poll")

    async def fetch_media(self, part: MediaPart | StickerPart) -> bytes:
        """Download the bytes of an inbound media or sticker part.

        Raise ``PermanentFailure`` when the file cannot be had (gone, refused, too large)
        and ``RetryLater`` for a transient failure; the core retries with backoff.
        """
        raise NotImplementedError(f"{self.name} cannot fetch media")

    def polls(self) -> bool:
        """Whether the core should call ``poll`` for this channel rather than wait for
        webhooks. By default whenever the type implements ``poll``; a type that can do
        both (Telegram) answers from its config."""
        return self.supports("poll")

    async def send_typing(
        self, recipient_id: str, *, last_inbound_external_id: str | None = None
    ) -> None:
        """Show the contact a typing indicator while an agent types, where the channel
        supports it. ``last_inbound_external_id`` is the contact's latest message, for
        providers that tie the indicator to one (WhatsApp)."""

    async def mark_read(self, external_id: str) -> None:
        """Tell the provider that an agent has read the contact's message ``external_id``
        (and those before it): read receipts, where the channel has them."""

    async def list_templates(self) -> list[MessageTemplate]:
        """The message templates the provider has approved for this channel, for the
        composer (WhatsApp: required outside the customer-service window)."""
        raise NotImplementedError(f"{self.name} has no message templates")

    @classmethod
    def address_of(cls, text: str) -> str:
        """The recipient id this channel sends to, from an address an agent typed to
        reach a contact on it for the first time (a phone number, a user name…).

        It is stored as the contact's identity on the channel, so it must equal the
        ``sender_id`` the channel's inbound events give that person. Raise ``ValueError``
        with a message for the agent when ``text`` is not one. By default the channel
        cannot write first (a Telegram bot cannot message a user who has not written)."""
        raise ValueError("this channel cannot write first to a new address")

    @classmethod
    def supports(cls, method: str) -> bool:
        """Whether this type overrides an optional method such as ``poll``."""
        mine, base = getattr(cls, method), getattr(ChannelType, method)
        # A classmethod is bound anew on each access: compare the functions beneath.
        return getattr(mine, "__func__", mine) is not getattr(base, "__func__", base)
