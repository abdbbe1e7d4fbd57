"""The settings of one echo channel; the admin form is generated from it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EchoConfig(BaseModel):
    """Settings of an echo channel; every field has a default, so the form may stay empty."""

    model_config = ConfigDict(extra="forbid")

    api_base_url: str = Field(
        default="http://localhost",
        title="API base URL",
        description="Where a real echo service would be reached.",
        json_schema_extra={"format": "uri", "advanced": True},
    )
    reply_prefix: str = Field(
        default="echo: ",
        title="Reply prefix",
        description="Text the echo service puts before every reply it echoes.",
    )
