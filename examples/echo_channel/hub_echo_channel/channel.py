"""The echo channel type and the hook that registers it with the hub."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from hub.contract import (
    ChannelType,
    InboundMessage,
    OutboundMessage,
    TextPart,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
    hookimpl,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub_echo_channel.config import EchoConfig


class EchoPayload(BaseModel):
    """The JSON body the echo service posts to the hub's webhook."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    sender: str = Field(min_length=1)
    text: str = Field(min_length=1)


class EchoChannel(ChannelType[EchoConfig]):
    """A channel that takes plain JSON messages and pretends to deliver replies."""

    name = "echo"
    title = "Echo"
    description = "An example channel: post JSON messages to its webhook; replies go nowhere."
    logo = files("hub_echo_channel").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = EchoConfig

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Turn one posted {"id", "sender", "text"} object into one inbound message."""
        try:
            body = json.loads(request.body)
        except ValueError:
            raise WebhookRejected(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise WebhookRejected(400, "the body must be a JSON object")
        try:
            payload = EchoPayload.model_validate(body)
        except ValidationError as err:
            fields = ", ".join(sorted({str(error["loc"][0]) for error in err.errors()}))
            raise WebhookRejected(400, f"missing or invalid fields: {fields}") from None
        message = InboundMessage(
            external_id=payload.id,
            sender_id=payload.sender,
            timestamp=datetime.now(UTC),
            parts=(TextPart(text=payload.text),),
            raw=body,
        )
        return WebhookResult(events=(message,))

    async def send(self, message: OutboundMessage) -> str:
        """Pretend to deliver the reply; the id is stable, so a retry gets the same one."""
        return f"echo-{message.message_id}"


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the echo channel type."""
    return [EchoChannel]
