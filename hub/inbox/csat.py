"""CSAT surveys: ask the contact of a closed conversation for a rating, once, on the
conversation's channel; take their answer.

Invariants, in priority order:

1. **Once per conversation.** ``csat_surveys.conversation_id`` is unique and each survey
   is written in its own transaction with its message and outbox row: a re-close, a
   retry or a second hub process that races to the same conversation fails on the
   constraint and rolls its message back, so the contact is asked at most once.
2. **Never in the way of a close.** Closing writes nothing here; the survey job
   (``hub.inbox.jobs.send_surveys``) finds closed conversations after the commit.
3. **Within the channel's rules.** A channel with a customer-service window (WhatsApp)
   is asked only inside it; otherwise the survey is ``skipped`` with the reason.
4. **An answer is not new work.** A rating taken from a contact's message files the
   message in the surveyed conversation without reopening it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import ConversationScope
from hub.contract.models import ChoicePart, InboundMessage
from hub.errors import HubError, Invalid, NotFound
from hub.events.bus import EventBus
from hub.events.event import HubEvent
from hub.events.work import Work, unit_of_work
from hub.inbox.channel_plugins import ChannelPlugins, ChannelUnavailable
from hub.inbox.conversations import record
from hub.inbox.csat_settings import (
    WORDS,
    CsatSettings,
    choices_part,
    load_csat_settings,
    rating_of_choice,
    rating_of_text,
)
from hub.inbox.messages import enqueue_delivery, message_payload
from hub.inbox.outgoing_rules import last_inbound_at
from hub.observers import Observers
from hub.store.models import Channel, Contact, Conversation, CsatSurvey, Message
from hub.store.types import utcnow

log = logging.getLogger(__name__)

# A conversation closed longer ago than this is not surveyed (the job was down, or the
# survey was turned on later): a late question reads as spam.
ASK_WITHIN = timedelta(hours=24)
# A contact's typed number counts as the answer this long after the question.
ANSWER_WITHIN = timedelta(days=3)
# Surveys one run of the job sends at most.
BATCH = 50

PageUrl = Callable[[str], str]
"""The public answer page's address for a survey token (``/csat/{token}``)."""


def new_token() -> str:
    """An unguessable key for the public answer page (256 bits)."""
    return secrets.token_urlsafe(32)


def survey_text(settings: CsatSettings, page: str | None) -> str:
    """The question as sent: it always says how to answer in words, so it reads right
    on a channel that shows no buttons (or drops them)."""
    how = f"Reply with a number from 1 to {settings.scale} ({settings.scale} is best)."
    if page is not None:
        return f"{settings.question}\n\nRate us here: {page}\n\nOr {how[0].lower()}{how[1:]}"
    return f"{settings.question}\n\n{how}"


async def due_conversations(db: AsyncSession, settings: CsatSettings) -> list[Conversation]:
    """Closed conversations not yet surveyed, closed after surveys were turned on and
    within ``ASK_WITHIN``, oldest close first."""
    if not settings.enabled or settings.since is None:
        return []
    oldest = max(settings.since, utcnow() - ASK_WITHIN)
    surveyed = exists().where(CsatSurvey.conversation_id == Conversation.id)
    rows = await db.scalars(
        select(Conversation)
        .where(
            Conversation.status == "closed",
            Conversation.status_changed_at >= oldest,
            Conversation.merged_into_id.is_(None),
            ~surveyed,
        )
        .order_by(Conversation.status_changed_at, Conversation.id)
        .limit(BATCH)
    )
    return list(rows)


async def _skip_reason(
    work: Work,
    conversation: Conversation,
    channel: Channel | None,
    plugin: Any,
    settings: CsatSettings,
) -> str | None:
    """Why this conversation's contact is not asked, or None to ask."""
    if channel is None or channel.deleted_at is not None:
        return "the channel was deleted"
    if channel.id in settings.off_channel_ids:
        return "surveys are off for this channel"
    if not channel.enabled:
        # Its outbox holds messages until it is enabled: a rating asked days late is noise.
        return "the channel is disabled"
    if conversation.contact_blocked:
        return "the contact is blocked"
    contact = await work.db.get(Contact, conversation.contact_id)
    if contact is None or contact.blocked:
        return "the contact is blocked"
    if plugin is None:
        return "the channel's plugin is not available"
    if not type(plugin).supports("send"):
        return "the channel cannot send"
    hours = plugin.capabilities.window_hours
    if hours is not None:
        last = await last_inbound_at(work, conversation.contact_id, conversation.channel_id)
        if last is None or utcnow() - last >= timedelta(hours=hours):
            return f"outside the channel's {hours}-hour customer-service window"
    return None


async def survey(
    work: Work,
    conversation: Conversation,
    settings: CsatSettings,
    channels: ChannelPlugins,
    page_url: PageUrl | None = None,
) -> CsatSurvey:
    """Ask one closed conversation's contact (or record why not): the survey row, and
    the question as a pending message with its outbox row. The caller commits; a unique
    violation then means someone else asked first."""
    channel = await work.db.get(Channel, conversation.channel_id)
    plugin = None
    if channel is not None:
        try:
            plugin = channels.for_channel(channel)
        except ChannelUnavailable:
            plugin = None
    reason = await _skip_reason(work, conversation, channel, plugin, settings)
    row = CsatSurvey(
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        channel_id=conversation.channel_id,
        scale=settings.scale,
        status="skipped" if reason else "sent",
        skip_reason=reason,
    )
    if reason is not None or plugin is None:
        work.db.add(row)
        await work.db.flush()
        record(work, conversation, "csat_skipped", None, reason=reason)
        return row
    row.token = new_token()
    capabilities = plugin.capabilities
    buttons = capabilities.choices >= settings.scale
    # Mail-like channels (with subjects) get the answer page's link as well.
    page = page_url(row.token) if page_url is not None and capabilities.subject else None
    message = Message(
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction="out",
        sender_user_id=None,
        text=survey_text(settings, page),
        status="pending",
        parts=[choices_part(settings.scale)] if buttons else [],
    )
    work.db.add(message)
    await work.db.flush()
    enqueue_delivery(work, message)
    row.message_id = message.id
    work.db.add(row)
    await work.db.flush()
    scope = ConversationScope.of(conversation)
    work.emit(HubEvent("message.created", message_payload(message, []), scope=scope))
    record(work, conversation, "csat_sent", None, scale=settings.scale, buttons=buttons)
    return row


async def send_surveys(
    sessions: async_sessionmaker[AsyncSession],
    bus: EventBus,
    observers: Observers | None,
    channels: ChannelPlugins,
    page_url: PageUrl | None = None,
) -> int:
    """Survey every due conversation, each in its own transaction, a batch at a time
    until none is left (a bulk close of hundreds); how many this process did (asked or
    skipped). Each one leaves a row, so the batches always move on."""
    done = 0
    while True:
        async with sessions() as db:
            settings = await load_csat_settings(db)
            due = [c.id for c in await due_conversations(db, settings)]
        for conversation_id in due:
            try:
                async with unit_of_work(sessions, bus, observers) as work:
                    conversation = await work.db.get(Conversation, conversation_id)
                    if conversation is None or conversation.status != "closed":
                        continue
                    await survey(work, conversation, settings, channels, page_url)
                done += 1
            except IntegrityError:
                # Another process surveyed it first; our message was rolled back with it.
                log.info("conversation %s was surveyed by another process", conversation_id)
        if len(due) < BATCH:
            return done


# --- answers ----------------------------------------------------------------------------


@dataclass
class Answer:
    """A contact's message read as the answer to their open survey."""

    survey: CsatSurvey
    conversation: Conversation
    rating: int
    via: str

    async def record(self, work: Work) -> bool:
        """Store the rating (once) and show it in the conversation's timeline."""
        return await rate(work, self.survey, self.conversation, self.rating, None, self.via)


def rating_in(event: InboundMessage, scale: int) -> tuple[int, str] | None:
    """The rating a message gives and how (a tapped button, or a lone typed number)."""
    for part in event.parts:
        if isinstance(part, ChoicePart):
            rating = rating_of_choice(part.choice_id, scale)
            return (rating, "choice") if rating is not None else None
    if len(event.parts) != 1 or event.parts[0].kind != "text":
        return None
    rating = rating_of_text(getattr(event.parts[0], "text", None), scale)
    return (rating, "text") if rating is not None else None


async def answer_of(
    work: Work, channel: Channel, contact: Contact, event: InboundMessage
) -> Answer | None:
    """The answer ``event`` gives to the contact's latest open survey on this channel
    (asked within ``ANSWER_WITHIN``, its conversation still closed), or None."""
    # Most messages are no rating on any scale: told without a query (intake's hot path).
    if event.automated is not None or event.edited or rating_in(event, max(WORDS)) is None:
        return None
    row = await work.db.scalar(
        select(CsatSurvey)
        .where(
            CsatSurvey.contact_id == contact.id,
            CsatSurvey.channel_id == channel.id,
            CsatSurvey.status == "sent",
            CsatSurvey.created_at >= utcnow() - ANSWER_WITHIN,
        )
        .order_by(CsatSurvey.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    found = rating_in(event, row.scale)
    if found is None:
        return None
    conversation = await work.db.get(Conversation, row.conversation_id)
    if conversation is None or conversation.status != "closed":
        return None
    return Answer(row, conversation, found[0], found[1])


async def rate(
    work: Work,
    row: CsatSurvey,
    conversation: Conversation,
    rating: int,
    comment: str | None,
    via: str,
) -> bool:
    """Store an answer on a ``sent`` survey and add it to the timeline; False (nothing
    written) when the survey was answered already: a survey takes one answer, even
    when two arrive at once (the update is conditional on the status)."""
    now = utcnow()
    changed = await work.db.execute(
        update(CsatSurvey)
        .where(CsatSurvey.id == row.id, CsatSurvey.status == "sent")
        .values(
            status="answered", rating=rating, comment=comment, answered_via=via, answered_at=now
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await work.db.refresh(row)
    record(
        work,
        conversation,
        "csat_rated",
        None,
        rating=rating,
        scale=row.scale,
        comment=comment,
        via=via,
    )
    return True


async def survey_of(db: AsyncSession, conversation_id: int) -> CsatSurvey | None:
    """The conversation's survey, if it had one."""
    found: CsatSurvey | None = await db.scalar(
        select(CsatSurvey).where(CsatSurvey.conversation_id == conversation_id)
    )
    return found


# --- the public answer page ------------------------------------------------------------

COMMENT_MAX = 1000


async def survey_by_token(db: AsyncSession, token: str) -> CsatSurvey:
    """The survey a public page link names; 404 for a token that names none."""
    if not token or len(token) > 64:
        raise NotFound("survey")
    row: CsatSurvey | None = await db.scalar(select(CsatSurvey).where(CsatSurvey.token == token))
    if row is None:
        raise NotFound("survey")
    return row


async def answer_on_page(work: Work, token: str, rating: int, comment: str | None) -> CsatSurvey:
    """Take an answer from the public page: 404 for an unknown token, 409 once the
    survey has its answer (the page works once), 422 for a rating off the scale."""
    row = await survey_by_token(work.db, token)
    if not 1 <= rating <= row.scale:
        raise Invalid("rating", f"choose a rating from 1 to {row.scale}")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > COMMENT_MAX:
        raise Invalid("comment", f"at most {COMMENT_MAX} characters")
    if comment is not None and "\x00" in comment:
        raise Invalid("comment", "the comment holds a character that cannot be kept")
    conversation = await work.db.get(Conversation, row.conversation_id)
    if row.status != "sent" or conversation is None:
        raise HubError(409, "answered", "this survey has been answered already")
    if not await rate(work, row, conversation, rating, comment, "page"):
        raise HubError(409, "answered", "this survey has been answered already")
    return row
