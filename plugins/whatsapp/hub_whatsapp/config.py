"""The credentials and options of one WhatsApp channel; the admin form is generated from it."""

from __future__ import annotations

import re
import secrets

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

_DIGITS = re.compile(r"[0-9]+")
_API_VERSION = re.compile(r"v[0-9]+\.[0-9]+")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def new_verify_token() -> SecretStr:
    """Return a fresh random verify token for Meta's webhook handshake."""
    return SecretStr(secrets.token_urlsafe(24))


class WhatsAppConfig(BaseModel):
    """Credentials of one WhatsApp Business phone number on the Cloud API."""

    # Inputs are hidden in errors so a rejected token never reaches a log.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    phone_number_id: str = Field(
        title="Phone number ID",
        description="The numeric ID of the business phone number, from WhatsApp Manager "
        "or the app's WhatsApp > API Setup page (not the phone number itself).",
    )
    business_account_id: str = Field(
        title="WhatsApp Business Account ID",
        description="The numeric ID of the WhatsApp Business Account (WABA) that owns "
        "the phone number.",
    )
    access_token: SecretStr = Field(
        title="Access token",
        description="A System User access token with the whatsapp_business_messaging "
        "permission (add whatsapp_business_management to manage templates).",
    )
    app_secret: SecretStr = Field(
        title="App secret",
        description="The Meta app's App Secret (App Dashboard > Settings > Basic); it "
        "verifies the signature of every webhook. It is not the access token.",
    )
    verify_token: SecretStr = Field(
        default_factory=new_verify_token,
        title="Webhook verify token",
        description="The token Meta echoes when you register the webhook URL. Leave it "
        "empty to have one generated, then paste it into the app's webhook settings.",
    )
    api_version: str = Field(
        default="v23.0",
        title="Graph API version",
        description="The Graph API version used in request paths, e.g. v23.0.",
        json_schema_extra={"advanced": True},
    )
    api_base_url: str = Field(
        default="https://graph.facebook.com",
        title="API base URL",
        description="Where the Graph API is reached; change it only for a proxy or a test server.",
        json_schema_extra={"format": "uri", "advanced": True},
    )

    @field_validator("phone_number_id", "business_account_id")
    @classmethod
    def _digits_only(cls, value: str) -> str:
        """Accept only the numeric IDs Meta shows, without spaces or a leading '+'."""
        if not _DIGITS.fullmatch(value):
            raise ValueError("must contain digits only (the numeric ID Meta shows)")
        return value

    @field_validator("verify_token", mode="before")
    @classmethod
    def _generate_when_empty(cls, value: object) -> object:
        """Generate a verify token when the admin leaves the field empty."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return new_verify_token() if value is None or str(value).strip() == "" else value

    @field_validator("api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        """Accept a Graph API version of the form v<major>.<minor>."""
        if not _API_VERSION.fullmatch(value):
            raise ValueError("must look like v23.0")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """Accept an absolute http(s) URL and drop a trailing slash."""
        try:
            _HTTP_URL.validate_python(value)
        except ValidationError:
            msg = "must be an http:// or https:// URL, e.g. https://graph.facebook.com"
            raise ValueError(msg) from None
        return value.rstrip("/")
