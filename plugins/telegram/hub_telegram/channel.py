"""The Telegram channel type and the hook that registers it with the hub."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from hub.contract import Capabilities, ChannelType, hookimpl

from hub_telegram.config import TelegramConfig

# Telegram says "MB"; the decimal reading is the conservative one.
_MB = 1_000_000


class TelegramChannel(ChannelType[TelegramConfig]):
    """One Telegram bot: private chats (and optionally channel posts) with its users."""

    name = "telegram"
    title = "Telegram"
    description = (
        "Chat with customers who message your Telegram bot, through the Telegram Bot API "
        "by webhook or long polling."
    )
    logo = files("hub_telegram").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = TelegramConfig
    # Upload limits of the cloud Bot API (multipart); a self-hosted server allows more.
    capabilities = Capabilities(
        media={
            "image": 10 * _MB,
            "audio": 50 * _MB,
            "voice": 50 * _MB,
            "video": 50 * _MB,
            "animation": 50 * _MB,
            "document": 50 * _MB,
        },
        reply_to=True,
        typing=True,
        edit=True,
        max_text_length=4096,
    )


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the Telegram channel type."""
    return [TelegramChannel]
