"""The settings of one echo channel; the admin form is generated from it."""

from __future__ import annotations

from typing import Annotated

from hub.contract import ADVANCED, PLUGIN_CONFIG, GeneratedSecret, HttpUrlText, generated_secret
from pydantic import BaseModel, Field, StringConstraints


class EchoConfig(BaseModel):
    """Settings of an echo channel; every field has a default, so the form may stay empty."""

    model_config = PLUGIN_CONFIG

    webhook_secret: GeneratedSecret = Field(
        default_factory=generated_secret(),
        title="Webhook secret",
        description="Signs the echo service's webhook calls to the hub. Leave it empty to "
        "have one generated.",
    )
    api_base_url: HttpUrlText = Field(
        default="http://localhost",
        title="API base URL",
        description="Where the echo service receives replies (at /messages).",
        json_schema_extra=ADVANCED,
    )
    # PLUGIN_CONFIG trims every text field; this one keeps its spaces, as in "echo: ".
    reply_prefix: Annotated[str, StringConstraints(strip_whitespace=False)] = Field(
        default="echo: ",
        title="Reply prefix",
        description="Text put before every reply sent to the echo service.",
    )
