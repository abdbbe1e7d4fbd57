"""The custom channel type and the hook that registers it with the hub."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from hub.contract import Capabilities, ChannelType, hookimpl

from hub_custom_channel.config import CustomChannelConfig

# The hub's own cap: the service sets no limit of its own.
_ATTACHMENT_LIMIT = 25_000_000


class CustomChannel(ChannelType[CustomChannelConfig]):
    """Any messaging service you run, connected to the hub over signed HTTP."""

    name = "custom_channel"
    title = "Custom channel"
    description = (
        "Connect a messaging service of your own: it posts messages to the hub's webhook "
        "and receives agent replies at a URL you choose, both signed with a shared secret."
    )
    logo = files("hub_custom_channel").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = CustomChannelConfig
    # The contract declares capabilities per type, not per channel, so these match the
    # default settings (attachments on, reply-to off) until it can read supports_*.
    capabilities = Capabilities(
        media={
            "image": _ATTACHMENT_LIMIT,
            "audio": _ATTACHMENT_LIMIT,
            "voice": _ATTACHMENT_LIMIT,
            "video": _ATTACHMENT_LIMIT,
            "document": _ATTACHMENT_LIMIT,
        },
    )


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the custom channel type."""
    return [CustomChannel]
