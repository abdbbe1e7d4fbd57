"""The WhatsApp channel type and the hook that registers it with the hub."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from hub.contract import Capabilities, ChannelType, hookimpl

from hub_whatsapp.config import WhatsAppConfig

# Meta says "MB"; the decimal reading is the conservative one.
_MB = 1_000_000


class WhatsAppChannel(ChannelType[WhatsAppConfig]):
    """A WhatsApp Business phone number, reached through Meta's Cloud API."""

    name = "whatsapp"
    title = "WhatsApp"
    description = (
        "Chat with customers on WhatsApp through the WhatsApp Business Cloud API. "
        "Free-form replies are allowed for 24 hours after the customer's last message; "
        "after that, only approved templates."
    )
    logo = files("hub_whatsapp").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = WhatsAppConfig
    capabilities = Capabilities(
        media={
            "image": 5 * _MB,
            "audio": 16 * _MB,
            "voice": 16 * _MB,
            "video": 16 * _MB,
            "document": 100 * _MB,
            # Static stickers: animated ones may reach 500 KB, static ones only 100 KB.
            "sticker": 100_000,
        },
        reply_to=True,
        typing=True,
        templates=True,
        window_hours=24,
        max_text_length=4096,
    )


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the WhatsApp channel type."""
    return [WhatsAppChannel]
