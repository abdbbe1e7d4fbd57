"""The settings of one custom channel; the admin form is generated from it."""

from __future__ import annotations

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

_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def new_signing_secret() -> SecretStr:
    """Return a fresh random secret for signing requests both ways."""
    return SecretStr(secrets.token_urlsafe(32))


class CustomChannelConfig(BaseModel):
    """How the hub and your messaging service reach each other, and what the service can do."""

    # Inputs are hidden in errors so a rejected secret never reaches a log.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    outbound_url: str = Field(
        title="Outbound URL",
        description="Your service's URL where the hub POSTs agent replies, "
        "e.g. https://chat.example.com/hub/replies.",
        json_schema_extra={"format": "uri"},
    )
    signing_secret: SecretStr = Field(
        default_factory=new_signing_secret,
        title="Signing secret",
        description="Shared secret that signs the hub's requests to your service and your "
        "service's webhook calls to the hub. Leave it empty to have one generated.",
    )
    supports_attachments: bool = Field(
        default=True,
        title="Supports attachments",
        description="Whether your service can receive files with agent replies.",
    )
    supports_reply_to: bool = Field(
        default=False,
        title="Supports replies to a message",
        description="Whether your service can show a reply as an answer to one earlier message.",
    )
    threading: Literal["per_thread_id", "per_contact"] = Field(
        default="per_contact",
        title="Conversation threading",
        description="per_contact: one conversation per contact. per_thread_id: one "
        "conversation per thread id your service sends with each message.",
    )

    @field_validator("outbound_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """Accept an absolute http(s) URL."""
        try:
            _HTTP_URL.validate_python(value)
        except ValidationError:
            msg = "must be an http:// or https:// URL, e.g. https://chat.example.com/hub/replies"
            raise ValueError(msg) from None
        return value

    @field_validator("signing_secret", mode="before")
    @classmethod
    def _generate_when_empty(cls, value: object) -> object:
        """Generate a signing secret when the admin leaves the field empty."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return new_signing_secret() if value is None or str(value).strip() == "" else value
