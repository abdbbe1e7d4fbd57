"""What agents do that the contact sees on the provider: typing indicators, read
receipts, and the message templates the composer lists.

Typing and read receipts are fire-and-forget: they run as background tasks after the
agent's action, never hold up the websocket or the HTTP answer, and a failure is only
logged (the contact missing a typing bubble is no reason to bother the agent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.channels.registry import ChannelInstances
from hub.contract import BadCredentials, PermanentFailure, RetryLater
from hub.contract.channel import ChannelType
from hub.contract.models import MessageTemplate
from hub.errors import HubError, NotFound
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.store.models import Channel, ContactIdentity, Conversation, Message

log = logging.getLogger(__name__)

# Providers show a typing indicator for several seconds (WhatsApp up to 25 s, Telegram
# 5 s) and WhatsApp's also marks the message read: one call per conversation this
# often keeps the bubble up without a request per keystroke.
TYPING_RELAY_SECONDS = 5.0
# Conversations remembered by the throttle and the receipts; the oldest are forgotten
# beyond this, so a long-running process does not grow without end.
MEMORY_LIMIT = 10_000


class ProviderSignals:
    """Relays agents' typing and reading to the channel plugins, in the background.

    One per app (see ``signals_of``): the typing throttle and the receipts already sent
    are per process, which is what they protect (the provider's rate limits).
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], channels: ChannelInstances
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._typing_at: dict[int, float] = {}
        # conversation id → the inbound external id last marked read there
        self._receipted: dict[int, str] = {}
        self._running: set[asyncio.Task[None]] = set()

    def typing(self, conversation_id: int, now: float | None = None) -> bool:
        """An agent is typing in the conversation: tell the contact, at most once per
        ``TYPING_RELAY_SECONDS``. True when a relay was started."""
        now = time.monotonic() if now is None else now
        last = self._typing_at.get(conversation_id)
        if last is not None and now - last < TYPING_RELAY_SECONDS:
            return False
        self._typing_at[conversation_id] = now
        if len(self._typing_at) > MEMORY_LIMIT:
            # Only recent entries throttle anything; forget the rest.
            self._typing_at = {
                cid: at for cid, at in self._typing_at.items() if now - at < TYPING_RELAY_SECONDS
            }
        self._spawn(self._relay_typing(conversation_id))
        return True

    def read(self, conversation_id: int) -> None:
        """An agent marked the conversation read: send the provider a read receipt for
        the contact's latest message (once per message)."""
        self._spawn(self._relay_read(conversation_id))

    async def drain(self) -> None:
        """Wait for the relays still running (tests, shutdown)."""
        while self._running:
            await asyncio.gather(*set(self._running), return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _relay_typing(self, conversation_id: int) -> None:
        try:
            target = await self._target(conversation_id, "send_typing")
            if target is None:
                return
            plugin, recipient, last_inbound = target
            if not plugin.capabilities.typing or recipient is None:
                return
            await plugin.send_typing(recipient, last_inbound_external_id=last_inbound)
        except Exception:  # a plugin bug or an outage must not reach the websocket
            log.warning("typing relay for conversation %s failed", conversation_id, exc_info=True)

    async def _relay_read(self, conversation_id: int) -> None:
        try:
            target = await self._target(conversation_id, "mark_read")
            if target is None:
                return
            plugin, _, last_inbound = target
            if last_inbound is None or self._receipted.get(conversation_id) == last_inbound:
                return
            self._receipted.pop(conversation_id, None)
            self._receipted[conversation_id] = last_inbound
            if len(self._receipted) > MEMORY_LIMIT:
                del self._receipted[next(iter(self._receipted))]
            await plugin.mark_read(last_inbound)
        except Exception:  # the agent's read is stored; the receipt is a courtesy
            log.warning("read receipt for conversation %s failed", conversation_id, exc_info=True)

    async def _target(
        self, conversation_id: int, method: str
    ) -> tuple[ChannelType[Any], str | None, str | None] | None:
        """The plugin object, the contact's id on the channel and their latest message's
        id; None when the channel is gone, disabled or its type lacks ``method``."""
        async with self._sessions() as db:
            conversation = await db.get(Conversation, conversation_id)
            if conversation is None or conversation.contact_blocked:
                return None
            channel = await db.get(Channel, conversation.channel_id)
            if channel is None or channel.deleted_at is not None or not channel.enabled:
                return None
            try:
                plugin = self._channels.for_channel(channel)
            except ChannelUnavailable:
                return None
            if not plugin.supports(method):
                return None
            # The oldest identity, as the outbox picks it (a merged contact has several).
            recipient = await db.scalar(
                select(ContactIdentity.external_id)
                .where(
                    ContactIdentity.contact_id == conversation.contact_id,
                    ContactIdentity.channel_id == channel.id,
                )
                .order_by(ContactIdentity.id)
                .limit(1)
            )
            last_inbound = await db.scalar(
                select(Message.external_id)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction == "in",
                    Message.external_id.is_not(None),
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
        return plugin, recipient, last_inbound


def signals_of(app: web.Application) -> ProviderSignals:
    """The app's relay (set up with the app's channels, drained when it stops)."""
    return app[appkeys.SIGNALS]


async def list_templates(
    sessions: async_sessionmaker[AsyncSession], channels: ChannelInstances, channel_id: int
) -> list[MessageTemplate]:
    """The provider's approved templates for a live channel (404 otherwise); 409
    ``not_supported`` when its type has none, the provider's errors as 422/502.

    The provider is asked after the session is closed: no connection waits on it."""
    async with sessions() as db:
        channel = await db.get(Channel, channel_id)
        if channel is None or channel.deleted_at is not None:
            raise NotFound("channel")
        try:
            plugin = channels.for_channel(channel)
        except ChannelUnavailable as err:
            raise HubError(409, "channel_unavailable", err.reason) from None
        channel_type = channel.type
    if not plugin.supports("list_templates"):
        raise HubError(409, "not_supported", f"{plugin.title} channels have no message templates")
    try:
        return await plugin.list_templates()
    except BadCredentials as err:
        raise HubError(422, "bad_credentials", str(err) or "credentials refused") from None
    except (RetryLater, httpx.HTTPError) as err:
        raise HubError(
            502, "provider_unavailable", f"the provider could not be reached: {err}"
        ) from None
    except PermanentFailure as err:
        raise HubError(502, "provider_unavailable", err.message) from None
    except Exception as err:  # a plugin bug is the plugin's failure, never a 500
        log.exception("channel %s: list_templates raised", channel_id)
        raise HubError(
            502, "plugin_error", f"the {channel_type} plugin failed: {type(err).__name__}"
        ) from None
