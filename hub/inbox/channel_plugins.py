"""What the inbox needs of the live channels: the plugin object serving a channel, to
check a message against what it can carry. ``hub.channels.registry.ChannelInstances``
provides it; the inbox names only this protocol, so it never imports the pipes above it."""

from __future__ import annotations

from typing import Any, Protocol

from hub.contract.channel import ChannelType
from hub.store.models import Channel


class ChannelUnavailable(Exception):
    """A channel's plugin object cannot be built: its type is not installed, or its
    stored config no longer validates. ``reason`` says which, for the admin."""

    def __init__(self, channel_id: int, reason: str) -> None:
        super().__init__(f"channel {channel_id}: {reason}")
        self.channel_id = channel_id
        self.reason = reason


class ChannelPlugins(Protocol):
    """The plugin objects of the hub's channels."""

    def for_channel(self, channel: Channel) -> ChannelType[Any]:
        """The plugin object serving ``channel``; raises ``ChannelUnavailable``."""
        ...
