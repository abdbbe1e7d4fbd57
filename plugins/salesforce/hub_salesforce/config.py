"""The credentials and options of one Salesforce org; the admin form is generated from it."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)

_API_VERSION = re.compile(r"v[0-9]+\.[0-9]+")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _http_url(value: str) -> str:
    """Accept an absolute http(s) URL and drop a trailing slash."""
    try:
        _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError("must be an http:// or https:// URL, e.g. https://example.com") from None
    return value.rstrip("/")


Url = Annotated[str, AfterValidator(_http_url)]


class SalesforceConfig(BaseModel):
    """Access to one Salesforce org through a connected app and a refresh token."""

    # Inputs are hidden in errors so a rejected secret never reaches a log.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    login_url: Url = Field(
        default="https://login.salesforce.com",
        title="Login URL",
        description="Where tokens are obtained: https://login.salesforce.com for production, "
        "https://test.salesforce.com for a sandbox, or your org's My Domain URL.",
        json_schema_extra={"format": "uri"},
    )
    client_id: str = Field(
        min_length=1,
        title="Consumer key",
        description="The consumer key (client ID) of the connected app the hub signs in with.",
    )
    client_secret: SecretStr = Field(
        title="Consumer secret",
        description="The consumer secret (client secret) of the same connected app.",
    )
    refresh_token: SecretStr = Field(
        title="Refresh token",
        description="A refresh token issued to the connected app for the integration user "
        "(OAuth scopes 'api refresh_token'); the hub exchanges it for access tokens.",
    )
    api_version: str = Field(
        default="v67.0",
        title="REST API version",
        description="The REST API version used in request paths, e.g. v67.0.",
        json_schema_extra={"advanced": True},
    )
    api_base_url: Url | None = Field(
        default=None,
        title="API base URL",
        description="Leave empty to use the instance_url Salesforce returns with each access "
        "token, which is almost always right (it can change after a refresh). Set it only "
        "to force requests through a proxy or a test server.",
        json_schema_extra={"format": "uri", "advanced": True},
    )

    @field_validator("api_base_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """Treat an empty form field as 'use the instance URL'."""
        return None if value == "" else value

    @field_validator("api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        """Accept a REST API version of the form v<major>.<minor>."""
        if not _API_VERSION.fullmatch(value):
            raise ValueError("must look like v67.0")
        return value
