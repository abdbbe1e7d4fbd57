"""WhatsApp Cloud API wire models: the webhook envelope, inbound messages and statuses.

Field names follow Meta's ``business-messaging-api`` OpenAPI schemas (``WebhookPayload``,
``IncomingMessage``, ``Statuses``). Unknown fields are allowed: Meta adds fields without
notice (2026: ``user_id``, ``from_user_id``), and a payload must never be refused for that.
Every ID and ``timestamp`` arrives as a string.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Wire(BaseModel):
    """Base of the wire models: extra fields kept, field aliases (``from``) accepted."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class WireError(Wire):
    """An error object, on an unsupported message, a failed status or a change value."""

    code: int | None = None
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None

    @property
    def details(self) -> str | None:
        """``error_data.details``: the most specific text Meta gives."""
        value = (self.error_data or {}).get("details")
        return value if isinstance(value, str) and value.strip() else None

    def describe(self) -> str:
        """One line for an agent: the title, then the details when they add something."""
        title = self.title or self.message or "error"
        details = self.details
        return f"{title}: {details}" if details and details != title else title


class Profile(Wire):
    """``contacts[].profile``."""

    name: str | None = None


class WaContact(Wire):
    """``value.contacts[]``: the sender's profile, matched to messages by ``wa_id``."""

    profile: Profile | None = None
    wa_id: str | None = None
    user_id: str | None = None


class Context(Wire):
    """``messages[].context``: what the message replies to, or that it was forwarded."""

    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False


class TextBody(Wire):
    """``text``."""

    body: str


class MediaBody(Wire):
    """``image`` / ``audio`` / ``video`` / ``document`` / ``sticker``."""

    id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    animated: bool = False


class LocationBody(Wire):
    """``location``; a dropped pin has neither ``name`` nor ``address``."""

    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class ContactName(Wire):
    """``contacts[].name`` of a shared contact card."""

    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class ContactPhone(Wire):
    """``contacts[].phones[]``."""

    phone: str | None = None
    wa_id: str | None = None
    type: str | None = None


class ContactEmail(Wire):
    """``contacts[].emails[]``."""

    email: str | None = None
    type: str | None = None


class SharedContact(Wire):
    """One card of a ``contacts`` message."""

    name: ContactName | None = None
    phones: list[ContactPhone] = []
    emails: list[ContactEmail] = []


class ReplyChoice(Wire):
    """``interactive.button_reply`` / ``interactive.list_reply``."""

    id: str | None = None
    title: str = ""
    description: str | None = None


class InteractiveBody(Wire):
    """``interactive``: the contact tapped a reply button or picked from a list."""

    type: str
    button_reply: ReplyChoice | None = None
    list_reply: ReplyChoice | None = None


class ButtonBody(Wire):
    """``button``: a quick-reply button of a template message."""

    payload: str | None = None
    text: str = ""


class ReactionBody(Wire):
    """``reaction``; the emoji is absent or empty when the reaction is removed."""

    message_id: str
    emoji: str | None = None


class SystemBody(Wire):
    """``system``, e.g. ``user_changed_number``."""

    body: str | None = None
    type: str | None = None


class WireMessage(Wire):
    """``value.messages[]``: one inbound message."""

    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    id: str = Field(min_length=1)
    timestamp: str
    type: str = "unknown"
    context: Context | None = None
    text: TextBody | None = None
    image: MediaBody | None = None
    audio: MediaBody | None = None
    video: MediaBody | None = None
    document: MediaBody | None = None
    sticker: MediaBody | None = None
    location: LocationBody | None = None
    contacts: list[SharedContact] | None = None
    interactive: InteractiveBody | None = None
    button: ButtonBody | None = None
    reaction: ReactionBody | None = None
    system: SystemBody | None = None
    unsupported: dict[str, Any] | None = None
    errors: list[WireError] = []


class WireStatus(Wire):
    """``value.statuses[]``: what became of one of our outbound messages."""

    id: str = Field(min_length=1)
    status: str
    timestamp: str | None = None
    recipient_id: str | None = None
    errors: list[WireError] = []


class Metadata(Wire):
    """``value.metadata``: which business number the change is for."""

    display_phone_number: str | None = None
    phone_number_id: str | None = None


class ChangeValue(Wire):
    """``changes[].value`` of a ``messages`` change. Messages and statuses are kept as
    raw dicts here and validated one by one, so one odd message never sinks a batch."""

    metadata: Metadata | None = None
    contacts: list[WaContact] = []
    messages: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    errors: list[WireError] = []


class Change(Wire):
    """``entry[].changes[]``; only ``field == "messages"`` carries messages and statuses."""

    field: str
    value: dict[str, Any] = {}


class Entry(Wire):
    """``entry[]``: one WhatsApp Business Account's changes."""

    id: str | None = None
    changes: list[Change] = []


class Envelope(Wire):
    """The webhook body: ``{"object": "whatsapp_business_account", "entry": [...]}``."""

    object: str
    entry: list[Entry] = []
