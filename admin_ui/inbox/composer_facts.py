"""What the composer of an open conversation offers: the channel a reply goes out on (the
conversation's, or another of the contact's chosen in the channel switcher), what that
channel can carry, its customer-service window, and the user's draft, so a reload or
another device shows the composer as it was left.

The composer never offers what the channel cannot deliver: the partial reads these
facts, and the script checks files against them before uploading.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from admin_ui.i18n import gettext as _
from admin_ui.inbox.email_subject import reply_subject
from hub.auth.visibility import Viewer
from hub.contract.channel import Capabilities, ChannelType
from hub.events.work import Work
from hub.inbox.channel_plugins import ChannelPlugins, ChannelUnavailable
from hub.inbox.contacts import IdentityRow, list_identities
from hub.inbox.drafts import get_draft
from hub.inbox.outgoing_rules import last_inbound_at
from hub.inbox.snippets import VARIABLES, variable_values
from hub.media.store import MediaLimits, human_size
from hub.store.models import Attachment, Channel, Contact, Conversation, Draft, Message
from hub.store.types import utcnow

QUOTE_LENGTH = 160


@dataclass(frozen=True)
class Window:
    """A channel's customer-service window for one contact: open (with the time left)
    or closed (only a template may be sent)."""

    hours: int
    last_inbound_at: datetime | None
    now: datetime

    @property
    def left(self) -> timedelta:
        """How long it stays open (zero or less once closed)."""
        if self.last_inbound_at is None:
            return timedelta(0)
        return self.last_inbound_at + timedelta(hours=self.hours) - self.now

    @property
    def open(self) -> bool:
        """Whether a free-form reply may be sent."""
        return self.left > timedelta(0)

    @property
    def label(self) -> str:
        """ "Window open for 5 h", "… for 35 min", or "Window closed"."""
        if not self.open:
            return _("Window closed")
        minutes = int(self.left.total_seconds() // 60)
        if minutes >= 60:
            return _("Window open for %(hours)d h") % {"hours": minutes // 60}
        return _("Window open for %(minutes)d min") % {"minutes": max(minutes, 1)}


@dataclass(frozen=True)
class ChannelChoice:
    """One of the contact's channels, for the channel switcher."""

    id: int
    name: str
    type: str


@dataclass(frozen=True)
class Variable:
    """A ``$variable`` with what it becomes in this conversation."""

    name: str
    description: str
    value: str | None


@dataclass(frozen=True)
class ComposerFacts:
    """Everything the composer partial shows and its script checks."""

    channel: Channel
    home_channel_id: int
    title: str
    capabilities: Capabilities
    window: Window | None
    channels: list[ChannelChoice]
    subject: str | None
    draft: Draft | None
    files: list[Attachment]
    quote: Message | None
    variables: list[Variable] = field(default_factory=list)
    limits: MediaLimits = field(default_factory=MediaLimits)

    @property
    def switched(self) -> bool:
        """Whether the reply goes out on another channel than the conversation's."""
        return self.channel.id != self.home_channel_id

    @property
    def needs_template(self) -> bool:
        """Whether only a template may be sent as a reply (the window is closed)."""
        return self.window is not None and not self.window.open

    def quote_text(self) -> str:
        """The start of the replied-to message, as the quote above the composer."""
        text = (self.quote.text or "") if self.quote else ""
        return text if len(text) <= QUOTE_LENGTH else text[: QUOTE_LENGTH - 1] + "…"

    @staticmethod
    def size_of(file: Attachment) -> str:
        """A file's size for people ("1.5 MB")."""
        return human_size(file.size)

    def checks(self) -> dict[str, Any]:
        """What the script checks files against before uploading: the workspace's limits
        (types by extension, size, count) and the channel's (size per media kind)."""
        return {
            "types": dict(self.limits.content_types),
            "maxBytes": self.limits.max_file_bytes,
            "maxFiles": self.limits.max_files,
            "media": dict(self.capabilities.media),
            "channel": self.channel.name,
        }

    def checks_json(self) -> str:
        """``checks()`` as JSON, for a data attribute (autoescaped as any text)."""
        return json.dumps(self.checks(), separators=(",", ":"))

    def variables_json(self) -> str:
        """The variables with their values here, as JSON for the ``$`` picker."""
        return json.dumps([asdict(v) for v in self.variables], separators=(",", ":"))


async def composer_facts(
    w: Work,
    viewer: Viewer,
    conversation: Conversation,
    contact: Contact,
    home: Channel,
    channels: ChannelPlugins,
    identities: list[IdentityRow] | None = None,
) -> ComposerFacts:
    """The composer of ``conversation`` for ``viewer``, as their draft left it; the
    contact's ``identities`` when the caller has them already (the contact panel)."""
    draft = await get_draft(w, viewer, conversation.id)
    if identities is None:
        identities = await list_identities(w.db, viewer, contact.id)
    choices = await _channel_choices(w, identities, home)
    channel = home
    if draft is not None and draft.channel_id not in (None, home.id):
        # The switcher's choice holds while the contact still has that channel.
        chosen = next((c for c in choices if c.id == draft.channel_id), None)
        found = await w.db.get(Channel, chosen.id) if chosen else None
        channel = found if found is not None else home
    plugin = _plugin(channels, channel)
    capabilities = plugin.capabilities if plugin is not None else Capabilities()
    window = None
    if capabilities.window_hours is not None:
        last = await last_inbound_at(w, contact.id, channel.id)
        window = Window(capabilities.window_hours, last, utcnow())
    values = await variable_values(w.db, viewer, conversation.id)
    return ComposerFacts(
        channel=channel,
        home_channel_id=home.id,
        title=plugin.title if plugin is not None else channel.type,
        capabilities=capabilities,
        window=window,
        channels=choices,
        subject=await _reply_subject(w, conversation) if capabilities.subject else None,
        draft=draft,
        files=await _draft_files(w, viewer, draft),
        quote=await _quote(w, conversation, draft),
        variables=[Variable(f"${n}", text, values.get(n)) for n, text in VARIABLES.items()],
    )


async def _reply_subject(w: Work, conversation: Conversation) -> str:
    """What a reply's subject starts as: ``Re:`` and the subject of the conversation's
    latest message that has one (else the conversation's), never ``Re: Re:``. A
    machine's mail does not count ("Automatic reply: …" is not what the thread is
    about)."""
    latest = await w.db.scalar(
        select(Message.subject)
        .where(
            Message.conversation_id == conversation.id,
            Message.subject.is_not(None),
            Message.automated.is_(None),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    return reply_subject(latest or conversation.subject)


def _plugin(channels: ChannelPlugins, channel: Channel) -> ChannelType[Any] | None:
    try:
        return channels.for_channel(channel)
    except ChannelUnavailable:
        return None  # the outbox reports it; the composer offers plain text


async def _channel_choices(
    w: Work, identities: list[IdentityRow], home: Channel
) -> list[ChannelChoice]:
    """The conversation's channel first, then the contact's other live channels."""
    ids = {row.identity.channel_id for row in identities} - {home.id}
    others: list[Channel] = []
    if ids:
        others = list(
            await w.db.scalars(
                select(Channel)
                .where(Channel.id.in_(ids), Channel.deleted_at.is_(None), Channel.enabled.is_(True))
                .order_by(Channel.name, Channel.id)
            )
        )
    return [ChannelChoice(c.id, c.name, c.type) for c in [home, *others]]


async def _draft_files(w: Work, viewer: Viewer, draft: Draft | None) -> list[Attachment]:
    """The draft's uploads that are still the viewer's and unattached."""
    if draft is None or not draft.attachment_ids:
        return []
    rows = await w.db.scalars(
        select(Attachment)
        .where(
            Attachment.id.in_(list(draft.attachment_ids)),
            Attachment.uploaded_by == viewer.id,
            Attachment.message_id.is_(None),
            Attachment.comment_id.is_(None),
        )
        .order_by(Attachment.id)
    )
    return list(rows)


async def _quote(w: Work, conversation: Conversation, draft: Draft | None) -> Message | None:
    if draft is None or draft.reply_to_message_id is None:
        return None
    message = await w.db.get(Message, draft.reply_to_message_id)
    return message if message is not None and message.conversation_id == conversation.id else None
