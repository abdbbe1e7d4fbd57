"""The credentials and options of one HubSpot account; the admin form is generated from it."""

from __future__ import annotations

import re

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

_API_VERSION = re.compile(r"v3|[0-9]{4}-[0-9]{2}")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


class HubSpotConfig(BaseModel):
    """Access to one HubSpot account through a private app."""

    # Inputs are hidden in errors so a rejected token never reaches a log.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    access_token: SecretStr = Field(
        title="Private app access token",
        description="The access token of a HubSpot private app (pat-na1-…), from Settings > "
        "Integrations > Private Apps, with the crm.objects.contacts read and write scopes.",
    )
    client_secret: SecretStr | None = Field(
        default=None,
        title="Client secret",
        description="The private app's client secret, used to verify that webhook calls "
        "really come from HubSpot. Needed only to receive contact changes by webhook.",
    )
    api_version: str = Field(
        default="2026-03",
        title="CRM API version",
        description="The date-based API version in request paths, e.g. 2026-03. 'v3' "
        "selects the legacy paths, which HubSpot supports until September 2027.",
        json_schema_extra={"advanced": True},
    )
    api_base_url: str = Field(
        default="https://api.hubapi.com",
        title="API base URL",
        description="Where the HubSpot API is reached; change it only for a proxy or a "
        "test server.",
        json_schema_extra={"format": "uri", "advanced": True},
    )

    @field_validator("client_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """Treat an empty form field as 'no client secret'."""
        return None if value == "" else value

    @field_validator("api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        """Accept a date-based version (YYYY-MM) or the legacy 'v3'."""
        if not _API_VERSION.fullmatch(value):
            raise ValueError("must be a date-based version such as 2026-03, or v3")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """Accept an absolute http(s) URL and drop a trailing slash."""
        try:
            _HTTP_URL.validate_python(value)
        except ValidationError:
            msg = "must be an http:// or https:// URL, e.g. https://api.hubapi.com"
            raise ValueError(msg) from None
        return value.rstrip("/")
