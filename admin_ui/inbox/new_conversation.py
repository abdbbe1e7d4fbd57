"""What the "New conversation" dialog needs from the server: the channels an agent may
reach a contact on at a new address (their plugin implements ``address_of``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hub.events.work import Work
from hub.inbox.channel_plugins import ChannelPlugins, ChannelUnavailable
from hub.store.models import Channel


@dataclass(frozen=True)
class WritableChannel:
    """An enabled channel that can write first to an address an agent types."""

    id: int
    name: str
    title: str


async def writable_channels(w: Work, channels: ChannelPlugins) -> list[WritableChannel]:
    """The enabled channels whose plugin reads new addresses, by name; a channel whose
    plugin cannot be built is left out, as nothing could be sent on it."""
    rows = await w.db.scalars(
        select(Channel)
        .where(Channel.deleted_at.is_(None), Channel.enabled.is_(True))
        .order_by(Channel.name, Channel.id)
    )
    found: list[WritableChannel] = []
    for channel in rows:
        try:
            plugin = channels.for_channel(channel)
        except ChannelUnavailable:
            continue
        if plugin.supports("address_of"):
            found.append(WritableChannel(channel.id, channel.name, plugin.title))
    return found
