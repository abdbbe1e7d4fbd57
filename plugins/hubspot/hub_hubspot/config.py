"""The credentials and options of one HubSpot account; the admin form is generated from it."""

from __future__ import annotations

import re
from typing import Annotated, Self

from hub.contract import ADVANCED, PLUGIN_CONFIG, EmptyIsDefault, HttpUrlCheck
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

_API_VERSION = re.compile(r"v3|[0-9]{4}-[0-9]{2}")


class HubSpotConfig(BaseModel):
    """Access to one HubSpot account: a private app token, or an OAuth app's client.

    With ``access_token`` set the hub uses it as is; without it, ``client_id`` and
    ``client_secret`` name the OAuth app the admin authorizes in HubSpot.
    """

    model_config = PLUGIN_CONFIG

    # An empty form field means "connect through OAuth instead".
    access_token: Annotated[SecretStr | None, EmptyIsDefault] = Field(
        default=None,
        title="Private app access token",
        description="The access token of a HubSpot private app (pat-na1-…), from Settings > "
        "Integrations > Private Apps, with the crm.objects.contacts read and write scopes "
        "and crm.objects.owners.read. Leave it empty to connect through an OAuth app.",
    )
    client_id: Annotated[str | None, EmptyIsDefault] = Field(
        default=None,
        title="OAuth client ID",
        description="The client ID of your HubSpot app, to connect through OAuth instead of "
        "a private app token.",
    )
    # An empty form field means "no client secret".
    client_secret: Annotated[SecretStr | None, EmptyIsDefault] = Field(
        default=None,
        title="Client secret",
        description="The app's client secret: needed for OAuth, and to verify that webhook "
        "calls really come from HubSpot (receiving contact changes by webhook).",
    )
    portal_id: Annotated[str | None, EmptyIsDefault] = Field(
        default=None,
        title="Hub ID",
        description="The account's Hub ID (in the account menu), for 'open in HubSpot' links "
        "with a private app token; when empty the hub asks HubSpot for it.",
        json_schema_extra=ADVANCED,
    )
    api_version: str = Field(
        default="2026-03",
        title="CRM API version",
        description="The date-based API version in request paths, e.g. 2026-03. 'v3' "
        "selects the legacy paths, which HubSpot supports until September 2027.",
        json_schema_extra=ADVANCED,
    )
    api_base_url: Annotated[str, HttpUrlCheck(example="https://api.hubapi.com")] = Field(
        default="https://api.hubapi.com",
        title="API base URL",
        description="Where the HubSpot API is reached; change it only for a proxy or a "
        "test server.",
        json_schema_extra=ADVANCED,
    )

    @field_validator("api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        """Accept a date-based version (YYYY-MM) or the legacy 'v3'."""
        if not _API_VERSION.fullmatch(value):
            raise ValueError("must be a date-based version such as 2026-03, or v3")
        return value

    @field_validator("portal_id")
    @classmethod
    def _portal_digits(cls, value: str | None) -> str | None:
        """A Hub ID is a number."""
        if value is not None and not value.isdigit():
            raise ValueError("must be the Hub ID's digits, e.g. 62515")
        return value

    @model_validator(mode="after")
    def _token_or_oauth_app(self) -> Self:
        """Either a private app token, or an OAuth app's client id and secret."""
        if self.access_token is None and (self.client_id is None or self.client_secret is None):
            raise ValueError(
                "give a private app access token, or an OAuth app's client ID and client secret"
            )
        return self

    @property
    def uses_oauth(self) -> bool:
        """True when the account connects through the OAuth app (no private app token)."""
        return self.access_token is None
