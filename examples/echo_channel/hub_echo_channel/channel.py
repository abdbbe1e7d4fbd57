"""The echo channel type and the hook that registers it with the hub.

Inbound: the echo service POSTs one JSON message per request, signed like the hub's
custom channel (``X-Hub-Timestamp`` and ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of
"<timestamp>.<body>">``). Outbound: replies, prefixed with ``reply_prefix``, are POSTed
to ``<api_base_url>/messages``. This is what ``hub plugin new echo --kind channel``
generates, with the prefix added.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import httpx
from hub.contract import (
    BadCredentials,
    ChannelType,
    InboundMessage,
    OutboundMessage,
    PermanentFailure,
    RetryLater,
    SenderProfile,
    TextPart,
    UnsupportedPart,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
    hookimpl,
)
from hub.contract.http import retry_after, truncate
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hub_echo_channel.config import EchoConfig

REPLAY_WINDOW_SECONDS = 300


class Sender(BaseModel):
    """Who wrote the message, as Echo describes them."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    name: str | None = None


class Payload(BaseModel):
    """The JSON body Echo posts to the hub's webhook."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    sender: Sender
    type: str = "text"
    text: str | None = None
    timestamp: AwareDatetime | None = None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class EchoChannel(ChannelType[EchoConfig]):
    """Messages from Echo in the shared inbox, and agent replies back to it."""

    name = "echo"
    title = "Echo"
    description = "An example channel: a service posts signed JSON messages to its webhook; replies are posted back."
    logo = files("hub_echo_channel").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = EchoConfig

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify the signature, then turn the body into one inbound message."""
        self._verify(request)
        try:
            body = json.loads(request.body)
            payload = Payload.model_validate(body)
        except ValueError as err:  # ValidationError is a ValueError too
            fields = (
                ", ".join(sorted({str(e["loc"][0]) for e in err.errors() if e["loc"]}))
                if isinstance(err, ValidationError)
                else ""
            )
            if not fields:
                raise WebhookRejected(400, "the body is not valid JSON") from err
            raise WebhookRejected(400, f"missing or invalid fields: {fields}") from err
        if payload.type == "text" and payload.text:
            part: TextPart | UnsupportedPart = TextPart(text=payload.text)
        else:
            # Kept and shown as unsupported, never dropped: the agent sees something came.
            part = UnsupportedPart(raw_type=payload.type, description=f"a {payload.type} message")
        message = InboundMessage(
            external_id=payload.id,
            sender_id=payload.sender.id,
            sender=SenderProfile(name=payload.sender.name),
            timestamp=payload.timestamp or datetime.now(UTC),
            parts=(part,),
            raw=body,
        )
        return WebhookResult(events=(message,))

    def _verify(self, request: WebhookRequest) -> None:
        stamp = request.header("X-Hub-Timestamp")
        given = request.header("X-Hub-Signature-256")
        if not stamp or not given:
            raise WebhookRejected(401, "missing X-Hub-Timestamp or X-Hub-Signature-256")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > REPLAY_WINDOW_SECONDS:
            raise WebhookRejected(403, "stale or invalid timestamp: check the sender's clock")
        expected = signature(self.config.webhook_secret.get_secret_value(), stamp, request.body)
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise WebhookRejected(403, "the signature does not match the body")

    async def send(self, message: OutboundMessage) -> str:
        """POST the reply to Echo; return its message id, or raise a typed error."""
        try:
            response = await self.context.http.post(
                f"{self.config.api_base_url}/messages",
                json={
                    "to": message.recipient_id,
                    "text": f"{self.config.reply_prefix}{message.text or ''}",
                },
                headers={"Idempotency-Key": message.idempotency_key},
            )
        except httpx.HTTPError as err:
            raise RetryLater(f"Echo unreachable: {type(err).__name__}") from err
        return _provider_id(response)


def _provider_id(response: httpx.Response) -> str:
    """Translate Echo's answer: its message id, or the typed error it means."""
    status = response.status_code
    if status == 429 or status >= 500:
        raise RetryLater(f"Echo answered {status}", after=retry_after(response))
    if status in (401, 403):
        raise BadCredentials(f"Echo refused the hub ({status})")
    if status >= 400:
        raise PermanentFailure(f"http_{status}", _reason(response))
    try:
        provider_id = response.json()["id"]
    except (ValueError, KeyError, TypeError):
        raise PermanentFailure("no_id", "Echo accepted the message but gave no id") from None
    return str(provider_id)


def _reason(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return truncate(response.text) or f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("error"):
        return truncate(str(body["error"]))
    return f"HTTP {response.status_code}"


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the Echo channel type."""
    return [EchoChannel]
