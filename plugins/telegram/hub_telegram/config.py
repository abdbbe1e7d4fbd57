"""The credentials and options of one Telegram bot; the admin form is generated from it."""

from __future__ import annotations

import re
import secrets
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)

_BOT_ID = re.compile(r"[0-9]+")
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def new_secret_token() -> SecretStr:
    """Return a fresh random webhook secret in the alphabet Telegram allows."""
    return SecretStr(secrets.token_urlsafe(32))


class TelegramConfig(BaseModel):
    """Credentials and options of one Telegram bot on the Bot API."""

    # Inputs are hidden in errors so a rejected token never reaches a log.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

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
    secret_token: SecretStr = Field(
        default_factory=new_secret_token,
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
    api_base_url: str = Field(
        default="https://api.telegram.org",
        title="Bot API server",
        description="Where the Bot API is reached; point it at a self-hosted Bot API server "
        "to lift the 20 MB download and 50 MB upload limits.",
        json_schema_extra={"format": "uri", "advanced": True},
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

    @field_validator("secret_token", mode="before")
    @classmethod
    def _generate_when_empty(cls, value: object) -> object:
        """Generate a webhook secret when the admin leaves the field empty."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return new_secret_token() if value is None or str(value).strip() == "" else value

    @field_validator("secret_token")
    @classmethod
    def _secret_token_shape(cls, value: SecretStr) -> SecretStr:
        """Accept what setWebhook accepts: 1 to 256 of A-Z, a-z, 0-9, '_' and '-'."""
        token = value.get_secret_value()
        if len(token) > 256 or not _TOKEN_ALPHABET.fullmatch(token):
            raise ValueError("must be 1 to 256 characters of letters, digits, '_' and '-'")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """Accept an absolute http(s) URL and drop a trailing slash."""
        try:
            _HTTP_URL.validate_python(value)
        except ValidationError:
            msg = "must be an http:// or https:// URL, e.g. https://api.telegram.org"
            raise ValueError(msg) from None
        return value.rstrip("/")
