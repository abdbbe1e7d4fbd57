"""The settings of one custom channel; the admin form is generated from it."""

from __future__ import annotations

from typing import Annotated, Literal

from hub.contract import PLUGIN_CONFIG, GeneratedSecret, HttpUrlCheck, generated_secret
from pydantic import BaseModel, Field

# An endpoint, not a base URL: a trailing slash may matter to the service, so it is kept.
OutboundUrl = Annotated[
    str, HttpUrlCheck(example="https://chat.example.com/hub/replies", keep_trailing_slash=True)
]


class CustomChannelConfig(BaseModel):
    """How the hub and your messaging service reach each other, and what the service can do."""

    model_config = PLUGIN_CONFIG

    outbound_url: OutboundUrl = Field(
        title="Outbound URL",
        description="Your service's URL where the hub POSTs agent replies, "
        "e.g. https://chat.example.com/hub/replies.",
    )
    signing_secret: GeneratedSecret = Field(
        default_factory=generated_secret(),
        title="Signing secret",
        description="Shared secret that signs the hub's requests to your service and your "
        "service's webhook calls to the hub. Leave it empty to have one generated.",
    )
    supports_attachments: bool = Field(
        default=True,
        title="Supports attachments",
        description="Whether your service can receive files with agent replies.",
    )
    supports_reply_to: bool = Field(
        default=False,
        title="Supports replies to a message",
        description="Whether your service can show a reply as an answer to one earlier message.",
    )
    threading: Literal["per_thread_id", "per_contact"] = Field(
        default="per_contact",
        title="Conversation threading",
        description="One conversation per contact, or one per thread: a conversation for "
        "each thread id your service sends with its messages.",
        json_schema_extra={
            "choice_labels": {
                "per_contact": "One conversation per contact",
                "per_thread_id": "One conversation per thread of your service",
            }
        },
    )
