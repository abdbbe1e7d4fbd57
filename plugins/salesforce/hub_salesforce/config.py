"""The connected app and options of one Salesforce org; the admin form is generated from it."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from hub.contract import ADVANCED, PLUGIN_CONFIG, EmptyIsDefault, HttpUrlText
from pydantic import BaseModel, Field, SecretStr, field_validator

_API_VERSION = re.compile(r"v[0-9]+\.[0-9]+")


class SalesforceConfig(BaseModel):
    """A connected app the admin authorizes through OAuth (web server flow with PKCE);
    the tokens it yields are kept by the hub, not in this form."""

    model_config = PLUGIN_CONFIG

    login_url: HttpUrlText = Field(
        default="https://login.salesforce.com",
        title="Login URL",
        description="Where the admin signs in and tokens are obtained: "
        "https://login.salesforce.com for production, https://test.salesforce.com for a "
        "sandbox, or your org's My Domain URL.",
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
    record_object: Literal["Contact", "Lead"] = Field(
        default="Contact",
        title="Link inbox contacts to",
        description="Salesforce Contacts, or Leads (people not yet converted to a Contact).",
    )
    api_version: str = Field(
        default="v67.0",
        title="REST API version",
        description="The REST API version used in request paths, e.g. v67.0.",
        json_schema_extra=ADVANCED,
    )
    # An empty form field means "use the instance URL".
    api_base_url: Annotated[HttpUrlText | None, EmptyIsDefault] = Field(
        default=None,
        title="API base URL",
        description="Leave empty to use the instance_url Salesforce returns with each access "
        "token, which is almost always right (it can change after a refresh). Set it only "
        "to force requests through a proxy or a test server.",
        json_schema_extra=ADVANCED,
    )

    @field_validator("api_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        """Accept a REST API version of the form v<major>.<minor>."""
        if not _API_VERSION.fullmatch(value):
            raise ValueError("must look like v67.0")
        return value
