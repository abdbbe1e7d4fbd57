"""The settings of one echo channel; the admin form is generated from it."""

from __future__ import annotations

from typing import Annotated

from hub.contract import ADVANCED, PLUGIN_CONFIG, HttpUrlText
from pydantic import BaseModel, Field, StringConstraints


class EchoConfig(BaseModel):
    """Settings of an echo channel; every field has a default, so the form may stay empty."""

    model_config = PLUGIN_CONFIG

    api_base_url: HttpUrlText = Field(
        default="http://localhost",
        title="API base URL",
        description="Where a real echo service would be reached.",
        json_schema_extra=ADVANCED,
    )
    # PLUGIN_CONFIG trims every text field; this one keeps its spaces, as in "echo: ".
    reply_prefix: Annotated[str, StringConstraints(strip_whitespace=False)] = Field(
        default="echo: ",
        title="Reply prefix",
        description="Text the echo service puts before every reply it echoes.",
    )
