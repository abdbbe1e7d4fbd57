"""The credentials and options of one WhatsApp channel; the admin form is generated from it."""

from __future__ import annotations

import re
from typing import Annotated

from hub.contract import ADVANCED, PLUGIN_CONFIG, GeneratedSecret, HttpUrlCheck, generated_secret
from pydantic import BaseModel, Field, SecretStr, field_validator

_DIGITS = re.compile(r"[0-9]+")
_API_VERSION = re.compile(r"v[0-9]+\.[0-9]+")


class WhatsAppConfig(BaseModel):
    """Credentials of one WhatsApp Business phone number on the Cloud API."""

    model_config = PLUGIN_CONFIG

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
    verify_token: GeneratedSecret = Field(
        default_factory=generated_secret(24),
        title="Webhook verify token",
        description="The token Meta echoes when you register the webhook URL. Leave it "
        "empty to have one generated, then paste it into the app's webhook settings.",
    )
    api_version: str = Field(
        default="v23.0",
        title="Graph API version",
        description="The Graph API version used in request paths, e.g. v23.0.",
        json_schema_extra=ADVANCED,
    )
    api_base_url: Annotated[str, HttpUrlCheck(example="https://graph.facebook.com")] = Field(
        default="https://graph.facebook.com",
        title="API base URL",
        description="Where the Graph API is reached; change it only for a proxy or a test server.",
        json_schema_extra=ADVANCED,
    )

    @field_validator("phone_number_id", "business_account_id")
    @classmethod
    def _digits_only(cls, value: str) -> str:
        """Accept only the numeric IDs Meta shows, without spaces or a leading '+'."""
        if not _DIGITS.fullmatch(value):
            raise ValueError("must contain digits only (the numeric ID Meta shows)")
        return value

    @field_validator("api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        """Accept a Graph API version of the form v<major>.<minor>."""
        if not _API_VERSION.fullmatch(value):
            raise ValueError("must look like v23.0")
        return value
