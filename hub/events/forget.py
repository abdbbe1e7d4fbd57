"""Dropping what a hub process holds in memory when any hub process announces a change.

The rules of an event, a channel's out-of-hours setting and the channels' rows are read
for every stored message, and change a few times a day: they are held in memory
(``hub.store.shared_read.HeldRead``, ``hub.channels.registry``; the sidebar's shared
counts too) and dropped when the process that changed them announces it on the bus, which reaches every hub process (the Redis bus too). When
announcements may have been lost (the Redis bus reconnected and asks for a resync, or
this listener fell behind and was cut off), everything held is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Hashable
from typing import TypeVar

from hub.events.bus import EventBus
from hub.events.event import HubEvent
from hub.events.redis_target import RESYNC

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
# A channel created, changed or deleted (``hub.channels.admin.channel_event``): what the
# channel registry and the out-of-hours replies hold of it is dropped.
CHANNEL_UPDATED = "channel.updated"


def everything(event: HubEvent) -> None:
    """The key of an announcement that concerns everything held (None: drop it all)."""
    return None


def channel_of(event: HubEvent) -> int | None:
    """The channel a ``channel.updated`` names (None: drop every channel's)."""
    channel_id = event.data.get("id")
    return channel_id if isinstance(channel_id, int) else None


async def forget_on_change(
    bus: EventBus,
    forget: Callable[[K | None], None],
    types: Collection[str],
    key: Callable[[HubEvent], K | None],
) -> None:
    """Call ``forget(key(event))`` for every announced event of one of ``types``, and
    ``forget(None)`` on a resync or when this listener fell behind; runs until cancelled
    or the bus stops."""
    while True:
        subscription = bus.subscribe()
        try:
            async for event in subscription:
                if event.type in types:
                    forget(key(event))
                elif event.type == RESYNC:
                    forget(None)
        finally:
            subscription.close()
        # Cut off for falling behind (or the bus stopping): trust nothing held.
        forget(None)
        if not subscription.overflowed:
            return
        log.warning("change listener for %s fell behind; resubscribed", sorted(types))
