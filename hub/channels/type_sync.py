"""Keep every hub process's declarative channel types in step with the database.

The process that changes a definition reloads at once and announces it on the bus;
the others reload when they hear of it, so a type declared through one process is
served by all of them without a restart.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.channels.definitions import load_declared
from hub.channels.registry import ChannelTypes
from hub.events.bus import EventBus
from hub.events.event import HubEvent

CHANGED = "channel_types.changed"


def types_changed() -> HubEvent:
    """The announcement: addressed to no user, so no websocket receives it."""
    return HubEvent(CHANGED, {}, user_ids=frozenset())


async def follow_type_changes(
    bus: EventBus, sessions: async_sessionmaker[AsyncSession], types: ChannelTypes
) -> None:
    """Reload the declared types whenever any process announces a change (or the bus
    asks for a resync after an outage); runs until cancelled."""
    subscription = bus.subscribe()
    try:
        async for event in subscription:
            if event.type not in (CHANGED, "resync"):
                continue
            try:
                await load_declared(sessions, types)
            except SQLAlchemyError:
                logging.getLogger(__name__).exception("reloading channel types failed")
    finally:
        subscription.close()
