"""The credentials and options of one HubSpot account; the admin form is generated from it."""

from __future__ import annotations

import re
from typing import Annotated

from hub.contract import ADVANCED, PLUGIN_CONFIG, EmptyIsDefault, HttpUrlCheck
from pydantic import BaseModel, Field, SecretStr, field_validator

_API_VERSION = re.compile(r"v3|[0-9]{4}-[0-9]{2}")


class HubSpotConfig(BaseModel):
    """Access to one HubSpot account through a private app."""

    model_config = PLUGIN_CONFIG

    access_token: SecretStr = Field(
        title="Private app access token",
        description="The access token of a HubSpot private app (pat-na1-…), from Settings > "
        "Integrations > Private Apps, with the crm.objects.contacts read and write scopes.",
    )
    # An empty form field means "no client secret".
    client_secret: Annotated[SecretStr | None, EmptyIsDefault] = Field(
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
