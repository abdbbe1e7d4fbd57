"""The out-of-hours auto-reply: when a contact writes while the conversation's business
hours are closed, the hub answers on the channel with the channel's text.

In priority order:

1. **Never lose or hold the inbound message.** The reply runs after the message's
   transaction committed, as a built-in observer of ``hub_message_received`` (built-ins
   are plugins), in a background task of its own; a failure is logged and goes no
   further. The reply itself only stores a ``pending`` message and an outbox row: the
   outbox worker delivers it, with its retries, like any reply.
2. **At most once per conversation per day**, the day being the schedule's local date.
   An ``out_of_hours_replies`` row, unique on (conversation, day), is inserted in the
   same transaction as the message: a retry, a second observer or a second hub process
   loses on the unique key and sends nothing.
3. **Only where a free reply is allowed**: a channel with a customer-service window
   (WhatsApp) is checked like an agent's reply; a closed window sends nothing.
4. **Never answer a machine**: a contact's own auto-reply or a bounce gets none back,
   so two auto-responders cannot ping-pong; a blocked contact or a merged conversation
   gets none either.

The reply is sent by the hub, not an agent (``sender_user_id`` NULL), and marked
``automated = "auto_reply"``: the timeline shows it as an automatic reply. It does not
mark the conversation answered or read.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import ConversationScope
from hub.contract.channel import Capabilities
from hub.contract.hookspecs import hookimpl
from hub.contract.notices import MessageReceived
from hub.errors import HubError
from hub.events.bus import EventBus
from hub.events.event import HubEvent
from hub.events.forget import CHANNEL_UPDATED, channel_of, forget_on_change
from hub.events.work import Work, unit_of_work
from hub.inbox import business_hours, hours_calendar
from hub.inbox.channel_plugins import ChannelPlugins, ChannelUnavailable
from hub.inbox.channel_settings import ChannelSettings
from hub.inbox.messages import enqueue_delivery, message_payload
from hub.inbox.outgoing_rules import check_window, last_inbound_at
from hub.observers import Observers
from hub.store.models import Channel, Conversation, Message, OutOfHoursReply
from hub.store.shared_read import HeldRead
from hub.store.types import utcnow

log = logging.getLogger(__name__)
BUILTIN_NAME = "hub.out_of_hours"
AUTO_REPLY = "auto_reply"
# A contact's message older than this when the hub gets it gets no reply.
STALE_AFTER = timedelta(hours=6)
# How many out-of-hours checks of one hub process use the database at once.
CONCURRENT_REPLIES = 2
# How long a channel's setting is held without hearing of a change: only the safety net
# should an announcement be lost (every channel write announces ``channel.updated``).
SETTING_HELD_SECONDS = 5.0


def _capabilities(channel: Channel, channels: ChannelPlugins | None) -> Capabilities | None:
    """What the channel can carry; None when its plugin cannot be built (the outbox could
    not send the reply anyway). Without ``channels`` (tests), a plain channel's."""
    if channels is None:
        return Capabilities()
    try:
        return channels.for_channel(channel).capabilities
    except ChannelUnavailable:
        return None


async def _window_open(
    work: Work, capabilities: Capabilities, conversation: Conversation, channel_id: int
) -> bool:
    try:
        check_window(capabilities, await last_inbound_at(work, conversation.contact_id, channel_id))
    except HubError:
        return False
    return True


async def reply_if_closed(
    work: Work,
    message_id: int,
    *,
    channels: ChannelPlugins | None = None,
    at: datetime | None = None,
) -> Message | None:
    """Answer the inbound message ``message_id`` with its channel's out-of-hours text if
    the conversation's hours are closed ``at`` (now: the message just reached the hub)
    and nothing forbids it; the reply (queued), or None when none is due."""
    now = utcnow() if at is None else at
    inbound = await work.db.get(Message, message_id)
    if inbound is None or inbound.direction != "in" or inbound.automated is not None:
        return None
    if now - inbound.created_at > STALE_AFTER:
        return None  # a backlog caught up late (a poller, an outage): not worth a reply
    conversation = await work.db.get(Conversation, inbound.conversation_id)
    channel = await work.db.get(Channel, inbound.channel_id)
    if conversation is None or channel is None or channel.deleted_at is not None:
        return None
    if conversation.contact_blocked or conversation.merged_into_id is not None:
        return None
    settings = ChannelSettings.of(channel)
    text = (settings.out_of_hours_text or "").strip()
    if not settings.out_of_hours_reply or not text:
        return None
    row = await business_hours.hours_for(work.db, conversation.team_id)
    if row is None:
        return None  # no hours anywhere: always open
    hours = business_hours.weekly(row)
    if hours_calendar.is_open(hours, now):
        return None
    capabilities = _capabilities(channel, channels)
    if capabilities is None or not await _window_open(work, capabilities, conversation, channel.id):
        return None
    day = hours_calendar.local_date(hours, now).isoformat()
    claim = await _claim_day(work.db, conversation.id, day)
    if claim is None:
        return None
    reply = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction="out",
        sender_user_id=None,
        text=text,
        status="pending",
        parts=[],
        automated=AUTO_REPLY,
    )
    if capabilities.subject:
        # Mail: a reply in the thread (the plugin makes it "Re: …" with In-Reply-To).
        reply.subject = inbound.subject or conversation.subject
        reply.reply_to_id = inbound.id
    work.db.add(reply)
    await work.db.flush()
    enqueue_delivery(work, reply)
    claim.message_id = reply.id
    work.emit(
        HubEvent(
            "message.created",
            message_payload(reply, []),
            scope=ConversationScope.of(conversation),
        )
    )
    await work.db.flush()
    return reply


async def _claim_day(db: AsyncSession, conversation_id: int, day: str) -> OutOfHoursReply | None:
    """Insert the (conversation, day) row in a savepoint; None when it exists already
    (another process or a retry got there first: it sends, this one does not)."""
    claim = OutOfHoursReply(conversation_id=conversation_id, day=day)
    try:
        async with db.begin_nested():
            db.add(claim)
            await db.flush()
    except IntegrityError:
        return None
    return claim


class OutOfHoursReplies:
    """The built-in observer that sends out-of-hours replies (registered by
    ``hub.wiring_jobs`` like a plugin)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        observers: Observers | None,
        channels: ChannelPlugins | None,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._observers = observers
        self._channels = channels
        # A burst of inbound messages starts one observer task each: only a few at a time
        # take a database connection, so the pipe's own transactions never wait for one.
        self._slots = asyncio.Semaphore(CONCURRENT_REPLIES)
        # Every stored message asks for its channel's setting: held in memory until any
        # process announces a change to the channel (``follow_changes``).
        self.replies_on = HeldRead(self._replies_on, ttl=SETTING_HELD_SECONDS)

    async def follow_changes(self) -> None:
        """Drop a channel's held setting whenever any hub process announces a change to
        the channel (or announcements may have been lost); runs until cancelled."""
        await forget_on_change(self._bus, self.replies_on.forget, {CHANNEL_UPDATED}, channel_of)

    @hookimpl
    async def hub_message_received(self, notice: MessageReceived) -> None:
        """Reply if the conversation's hours are closed (after the commit, in the
        background; an exception is logged by the observer runner)."""
        await self.handle(notice.message_id, notice.channel_id)

    async def handle(self, message_id: int, channel_id: int | None = None) -> Message | None:
        """Run :func:`reply_if_closed` in a transaction of its own (none at all when the
        message's channel sends no out-of-hours reply: the common case reads nothing)."""
        # A read of the setting is one connection however many wait for it: outside the
        # slots, so a burst's checks all join it instead of a few at a time.
        if channel_id is not None and not await self.replies_on.get(channel_id):
            return None
        async with (
            self._slots,
            unit_of_work(self._sessions, self._bus, self._observers) as work,
        ):
            return await reply_if_closed(work, message_id, channels=self._channels)

    async def _replies_on(self, channel_id: int) -> bool:
        async with self._sessions() as db:
            channel = await db.get(Channel, channel_id)
            return channel is not None and ChannelSettings.of(channel).out_of_hours_reply
