"""The custom channel type and the hook that registers it with the hub."""

from __future__ import annotations

import base64
import binascii
import logging
from importlib.resources import files
from typing import Any
from urllib.parse import unquote_to_bytes

from hub.contract import (
    BadCredentials,
    Capabilities,
    ChannelType,
    MediaPart,
    OutboundMessage,
    PermanentFailure,
    RetryLater,
    StickerPart,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
    hookimpl,
)
from pydantic import SecretStr
from pydantic_core import to_jsonable_python

from hub_custom_channel.client import (
    MediaTooLarge,
    ServiceClient,
    ServiceRefused,
    ServiceUnavailable,
)
from hub_custom_channel.config import CustomChannelConfig
from hub_custom_channel.normalize import parse_events
from hub_custom_channel.payloads import OutboundAttachmentBody, OutboundBody
from hub_custom_channel.signing import verify

logger = logging.getLogger(__name__)

# The hub's own cap: the service sets no limit of its own.
_ATTACHMENT_LIMIT = 25_000_000
ADDRESS_LIMIT = 300
"""The longest sender id the service may post (``payloads``), so the longest to write to."""


class CustomChannel(ChannelType[CustomChannelConfig]):
    """Any messaging service you run, connected to the hub over signed HTTP."""

    name = "custom_channel"
    title = "Custom channel"
    description = (
        "Connect a messaging service of your own: it posts messages to the hub's webhook "
        "and receives agent replies at a URL you choose, both signed with a shared secret."
    )
    logo = files("hub_custom_channel").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = CustomChannelConfig
    # The contract declares capabilities per type, not per channel, so these match the
    # default settings (attachments on, reply-to off); ``send`` enforces each channel's
    # own supports_* settings.
    capabilities = Capabilities(
        media={
            "image": _ATTACHMENT_LIMIT,
            "audio": _ATTACHMENT_LIMIT,
            "voice": _ATTACHMENT_LIMIT,
            "video": _ATTACHMENT_LIMIT,
            "document": _ATTACHMENT_LIMIT,
        },
    )
    # Declarative channel types run on this behaviour with credential fields of their own.
    # Nothing to check for a plain custom channel; a declared type with credentials
    # has them checked by its service (the core sets it so for such a definition).
    checks_credentials = False
    extensible = True

    @property
    def _client(self) -> ServiceClient:
        return ServiceClient(
            self.context.http,
            self.config.outbound_url,
            self.config.signing_secret.get_secret_value(),
        )

    @classmethod
    def address_of(cls, text: str) -> str:
        """Any id the service knows its users by: what its inbound ``sender.id`` says."""
        address = text.strip()
        if not address:
            raise ValueError("write the id the service knows this person by")
        if len(address) > ADDRESS_LIMIT:
            raise ValueError(f"an id on this channel has at most {ADDRESS_LIMIT} characters")
        return address

    def declared_credentials(self) -> dict[str, Any]:
        """The fields a declarative type added to the Config, secrets revealed."""
        own = CustomChannelConfig.model_fields
        added = [name for name in type(self.config).model_fields if name not in own]
        credentials: dict[str, Any] = {}
        for name in added:
            value = getattr(self.config, name)
            credentials[name] = (
                value.get_secret_value()
                if isinstance(value, SecretStr)
                else to_jsonable_python(value)
            )
        return credentials

    async def connect(self) -> None:
        """For a declarative type, hand the service its credentials to check; else nothing.

        A plain custom channel needs no handshake: the service learns the secret from
        the admin. A declared type's service answers 2xx to accept the credentials.
        """
        credentials = self.declared_credentials()
        if not credentials:
            return
        payload = {
            "type": "connect",
            "channel_id": self.context.channel_id,
            "webhook_url": self.context.webhook_url,
            "credentials": credentials,
        }
        try:
            await self._client.post(payload)
        except ServiceUnavailable as err:
            raise RetryLater(err.reason, after=err.retry_after) from err
        except ServiceRefused as err:
            raise BadCredentials(f"the service refused the credentials: {err.reason}") from err

    async def disconnect(self) -> None:
        """Tell a declarative type's service the channel is gone; best effort, never raises."""
        if not self.declared_credentials():
            return
        try:
            await self._client.post({"type": "disconnect", "channel_id": self.context.channel_id})
        except (ServiceRefused, ServiceUnavailable) as err:
            # Disabling or deleting must not hinge on the service being up.
            logger.warning(
                "channel %s: the disconnect call failed: %s", self.context.channel_id, err.reason
            )

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify the signature, then translate the body's events."""
        if request.method.upper() != "POST":
            raise WebhookRejected(405, "custom channel webhooks are POST requests")
        verify(self.config.signing_secret.get_secret_value(), request.headers, request.body)
        events = parse_events(request.body, threading=self.config.threading)
        return WebhookResult(events=tuple(events))

    async def send(self, message: OutboundMessage) -> str:
        """POST the reply to the service; return the id it answers with."""
        payload = self.outbound_body(message)
        try:
            reply = await self._client.post(
                payload.model_dump(mode="json"),
                headers={"Idempotency-Key": message.idempotency_key},
            )
        except ServiceUnavailable as err:
            raise RetryLater(err.reason, after=err.retry_after) from err
        except ServiceRefused as err:
            raise PermanentFailure(f"http_{err.status}", err.reason) from err
        provider_id = reply.json.get("id") if isinstance(reply.json, dict) else None
        if isinstance(provider_id, int) and not isinstance(provider_id, bool):
            provider_id = str(provider_id)
        if not isinstance(provider_id, str) or not provider_id.strip():
            raise PermanentFailure(
                "no_provider_id",
                f"the service answered {reply.status} without an id: it must answer "
                '{"id": "<its id for the message>"}',
            )
        return provider_id.strip()[:300]

    def outbound_body(self, message: OutboundMessage) -> OutboundBody:
        """The JSON body for one reply, per this channel's settings."""
        if message.attachments and not self.config.supports_attachments:
            # Dropping the files silently would tell the agent they were sent.
            raise PermanentFailure(
                "attachments_unsupported",
                "this channel does not accept attachments: send the text alone",
            )
        attachments = []
        for attachment in message.attachments:
            if attachment.url is None:
                raise PermanentFailure(
                    "attachment_unreachable", f"{attachment.filename} has no link to send"
                )
            attachments.append(
                OutboundAttachmentBody(
                    url=attachment.url,
                    filename=attachment.filename,
                    content_type=attachment.content_type,
                    size=attachment.size,
                )
            )
        return OutboundBody(
            id=str(message.message_id),
            conversation_id=message.conversation_id,
            recipient={"id": message.recipient_id},
            thread_id=message.thread_key,
            text=message.text,
            attachments=attachments,
            # Without reply-to support the reply still goes, just not as a quote. A
            # declared type's manifest may promise it for every channel of the type.
            reply_to=message.reply_to_external_id
            if self.config.supports_reply_to or self.capabilities.reply_to
            else None,
        )

    async def fetch_media(self, part: MediaPart | StickerPart) -> bytes:
        """The bytes of an inbound file: decoded from a data: URL, or downloaded."""
        if isinstance(part, StickerPart):
            # The wire format has no stickers; a part like this never came from here.
            raise PermanentFailure("media_unreachable", "the custom channel sends no stickers")
        limit = self.capabilities.media.get(part.media_kind, _ATTACHMENT_LIMIT)
        url = part.url or ""
        if url.startswith("data:"):
            return _decode_data_url(url, limit)
        if not url.lower().startswith(("http://", "https://")):
            raise PermanentFailure("media_unreachable", "the attachment has no http(s) URL")
        try:
            return await self._client.download(url, limit=limit)
        except MediaTooLarge as err:
            raise PermanentFailure("media_too_large", err.reason) from err
        except ServiceRefused as err:
            raise PermanentFailure(f"http_{err.status}", err.reason) from err
        except ServiceUnavailable as err:
            raise RetryLater(err.reason, after=err.retry_after) from err


def _decode_data_url(url: str, limit: int) -> bytes:
    header, comma, data = url.partition(",")
    if not comma:
        raise PermanentFailure("media_unreadable", "the data: URL has no data")
    try:
        content = (
            base64.b64decode(data, validate=True)
            if header.endswith(";base64")
            else unquote_to_bytes(data)
        )
    except (binascii.Error, ValueError) as err:
        raise PermanentFailure("media_unreadable", "the data: URL is not valid base64") from err
    if len(content) > limit:
        raise PermanentFailure(
            "media_too_large", f"the file is {len(content)} bytes; the limit is {limit}"
        )
    return content


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the custom channel type."""
    return [CustomChannel]
