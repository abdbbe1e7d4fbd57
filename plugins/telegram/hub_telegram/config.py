"""The credentials and options of one Telegram bot; the admin form is generated from it."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from hub.contract import ADVANCED, PLUGIN_CONFIG, GeneratedSecret, HttpUrlCheck, generated_secret
from pydantic import BaseModel, Field, SecretStr, field_validator

_BOT_ID = re.compile(r"[0-9]+")
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


class TelegramConfig(BaseModel):
    """Credentials and options of one Telegram bot on the Bot API."""

    model_config = PLUGIN_CONFIG

    bot_token: SecretStr = Field(
        title="Bot token",
        description="The token BotFather gave you for the bot, e.g. "
        "123456789:AAH… (send /token to @BotFather to see it again).",
    )
    mode: Literal["webhook", "polling"] = Field(
        default="webhook",
        title="Receive updates by",
        description="webhook: Telegram pushes updates to the hub (the hub must be reachable "
        "over HTTPS). polling: the hub asks Telegram for updates, for hubs behind a firewall.",
    )
    # generated_secret() is URL-safe base64, the alphabet setWebhook accepts, 43 characters.
    secret_token: GeneratedSecret = Field(
        default_factory=generated_secret(),
        title="Webhook secret",
        description="Sent by Telegram with every webhook call so the hub can tell it from a "
        "forgery. Leave it empty to have one generated.",
    )
    channel_posts: bool = Field(
        default=False,
        title="Import channel posts",
        description="Also import posts of Telegram channels the bot administers, not only "
        "messages people send to the bot.",
    )
    api_base_url: Annotated[str, HttpUrlCheck(example="https://api.telegram.org")] = Field(
        default="https://api.telegram.org",
        title="Bot API server",
        description="Where the Bot API is reached; point it at a self-hosted Bot API server "
        "to lift the 20 MB download and 50 MB upload limits.",
        json_schema_extra=ADVANCED,
    )

    @field_validator("bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr) -> SecretStr:
        """Accept a token of the form <bot id>:<secret>, saying which part is wrong."""
        bot_id, colon, secret = value.get_secret_value().partition(":")
        if not colon:
            raise ValueError("must have the form <bot id>:<secret>, with a ':' between them")
        if bot_id.startswith("bot"):
            raise ValueError("remove the leading 'bot': that belongs to the URL, not the token")
        if not _BOT_ID.fullmatch(bot_id):
            raise ValueError("the part before ':' must be the bot's numeric id")
        if not _TOKEN_ALPHABET.fullmatch(secret):
            raise ValueError("the part after ':' may contain only letters, digits, '_' and '-'")
        if not 30 <= len(secret) <= 50:
            raise ValueError(
                f"the part after ':' has {len(secret)} characters; BotFather's have about 35"
            )
        return value

    @field_validator("secret_token")
    @classmethod
    def _secret_token_shape(cls, value: SecretStr) -> SecretStr:
        """Accept what setWebhook accepts: 1 to 256 of A-Z, a-z, 0-9, '_' and '-'."""
        token = value.get_secret_value()
        if len(token) > 256 or not _TOKEN_ALPHABET.fullmatch(token):
            raise ValueError("must be 1 to 256 characters of letters, digits, '_' and '-'")
        return value
