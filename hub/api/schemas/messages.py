"""Bodies of the message, attachment and timeline endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.comments import AttachmentRef, CommentOut, SafeText
from hub.api.schemas.conversations import ConversationOut
from hub.inbox.comments import CommentRow
from hub.inbox.email_addresses import MAX_CC, MAX_LENGTH
from hub.inbox.messages import MessageRow, Outgoing
from hub.inbox.outgoing_rules import TemplateChoice
from hub.inbox.timeline import TimelineEntry
from hub.store.models import Attachment, Comment, ConversationEvent, Message
from hub.store.types import DbId

TEXT_LIMIT = 65_536


class AttachmentOut(BaseModel):
    """``POST /api/v1/attachments``: the upload, ready to attach to a message or comment."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        """Serialize a stored attachment."""
        return cls.model_validate(attachment, from_attributes=True)


class MessageOut(BaseModel):
    """A message as the API shows it. ``status``: ``received`` (inbound), ``pending``,
    ``sent``, ``delivered``, ``read`` or ``failed`` (with ``failure_reason``)."""

    id: int
    conversation_id: int
    direction: Literal["in", "out"]
    text: str | None
    subject: str | None
    status: str
    external_id: str | None
    sender_user_id: int | None
    reply_to: int | None
    attachments: list[AttachmentRef]
    parts: list[dict[str, Any]] = Field(
        default_factory=list,
        description="content parts as the channel normalized them: text, media, location, "
        "contact_card, sticker, reaction, unsupported (with its raw_type); template (an "
        "agent's template message: name, language, parameters)",
    )
    failure_reason: str | None
    error_code: str | None = Field(
        None, description="the provider's code for a failure, e.g. an email bounce's `5.1.1`"
    )
    envelope: dict[str, list[str]] | None = Field(
        None,
        description="who else an email was addressed to: `to`, `cc` and `bcc` lists "
        "(an outgoing message: the `cc` it was sent with)",
    )
    automated: Literal["auto_reply", "bounce", "bulk"] | None = Field(
        None, description="sent by a machine: an auto-reply, a bounce or bulk mail"
    )
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None

    @classmethod
    def of(cls, row: MessageRow) -> MessageOut:
        """Serialize a stored message with its attachments."""
        return cls.of_message(row.message, row.attachments)

    @classmethod
    def of_message(cls, m: Message, attachments: list[Attachment]) -> MessageOut:
        """Serialize a stored message and the given attachments."""
        return cls(
            id=m.id,
            conversation_id=m.conversation_id,
            direction=m.direction,
            text=m.text,
            subject=m.subject,
            status=m.status,
            external_id=m.external_id,
            sender_user_id=m.sender_user_id,
            reply_to=m.reply_to_id,
            attachments=[AttachmentRef.of(a) for a in attachments],
            parts=list(m.parts or []),
            failure_reason=m.failure_reason,
            error_code=m.error_code,
            envelope=_envelope(m.envelope),
            automated=m.automated if m.automated in ("auto_reply", "bounce", "bulk") else None,
            created_at=m.created_at,
            sent_at=m.sent_at,
            delivered_at=m.delivered_at,
            read_at=m.read_at,
        )


def _envelope(stored: dict[str, Any] | None) -> dict[str, list[str]] | None:
    """The stored envelope's address lists (None when there is none)."""
    if not isinstance(stored, dict):
        return None
    return {
        key: [str(a) for a in value]
        for key, value in stored.items()
        if key in ("to", "cc", "bcc") and isinstance(value, list)
    }


class TemplateBody(BaseModel):
    """A provider-approved message template (``GET /api/v1/channels/{id}/templates``)
    and the values of its body's ``{{1}}``, ``{{2}}``… placeholders, in order."""

    model_config = ConfigDict(extra="forbid")

    name: SafeText = Field(min_length=1, max_length=512, pattern=r"\S")
    language: SafeText = Field(min_length=1, max_length=20, pattern=r"\S")
    parameters: list[Annotated[SafeText, Field(max_length=1024)]] = Field(
        default_factory=list, max_length=50
    )

    def choice(self) -> TemplateChoice:
        """The template as the inbox stores it."""
        return TemplateChoice(self.name.strip(), self.language.strip(), list(self.parameters))


class _Outgoing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: TemplateBody | None = Field(
        None,
        description="send a template instead of text and attachments (channels whose "
        "capabilities have `templates`; required outside a customer-service window)",
    )

    def _template(self) -> TemplateChoice | None:
        return self.template.choice() if self.template is not None else None

    text: SafeText | None = Field(None, max_length=TEXT_LIMIT)
    attachments: list[DbId] = Field(
        default_factory=list, description="ids of the caller's uploads to attach"
    )
    subject: SafeText | None = Field(None, max_length=1000)
    cc: list[Annotated[str, Field(max_length=MAX_LENGTH)]] = Field(
        default_factory=list,
        max_length=MAX_CC,
        description="addresses that get a copy (email): bare addresses like "
        "`name@example.com`, at most 20; only on a channel whose capabilities have `cc` "
        "(422 elsewhere, and for an entry that is not an address, naming it: `cc.2`)",
    )


class SendMessageBody(_Outgoing):
    """``POST /api/v1/conversations/{id}/messages``: text and/or attachments."""

    reply_to: DbId | None = Field(None, description="id of a message of this conversation")

    def outgoing(self) -> Outgoing:
        """The message this body describes."""
        return Outgoing(
            self.text,
            list(self.attachments),
            self.reply_to,
            self.subject,
            self._template(),
            list(self.cc),
        )


class StartConversationBody(_Outgoing):
    """``POST /api/v1/conversations``: a contact, a channel and the first message."""

    contact_id: DbId
    channel_id: DbId

    def outgoing(self) -> Outgoing:
        """The first message this body describes."""
        return Outgoing(
            self.text, list(self.attachments), None, self.subject, self._template(), list(self.cc)
        )


class StartedConversationOut(ConversationOut):
    """A conversation just started, with its first message."""

    message: MessageOut


class PageQuery(BaseModel):
    """Paging of a conversation's messages, comments or timeline."""

    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=100)
    order: Literal["asc", "desc"] = Field("asc", description="asc: oldest first")


class TimelineMessage(MessageOut):
    """A message in the timeline."""

    type: Literal["message"] = "message"
    at: datetime


class TimelineComment(CommentOut):
    """An internal comment in the timeline."""

    type: Literal["comment"] = "comment"
    at: datetime


class TimelineEvent(BaseModel):
    """A state change in the timeline: ``kind`` is e.g. ``created``, ``assigned``,
    ``closed``, ``reopened``, ``snoozed``; ``data`` its details."""

    type: Literal["event"] = "event"
    at: datetime
    id: int
    kind: str
    actor_id: int | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: ConversationEvent) -> TimelineEvent:
        """Serialize a stored event."""
        return cls(
            at=event.created_at,
            id=event.id,
            kind=event.kind,
            actor_id=event.actor_id,
            data=dict(event.data),
        )


TimelineItem = Annotated[
    TimelineMessage | TimelineComment | TimelineEvent, Field(discriminator="type")
]


def timeline_item(
    entry: TimelineEntry, attachments: dict[tuple[str, int], list[Attachment]]
) -> TimelineMessage | TimelineComment | TimelineEvent:
    """Serialize one timeline entry."""
    row = entry.row
    if isinstance(row, Message):
        found = attachments.get(("message", row.id), [])
        return TimelineMessage(at=entry.at, **MessageOut.of_message(row, found).model_dump())
    if isinstance(row, Comment):
        found = attachments.get(("comment", row.id), [])
        return TimelineComment(at=entry.at, **CommentOut.of(CommentRow(row, found)).model_dump())
    return TimelineEvent.of(row)
