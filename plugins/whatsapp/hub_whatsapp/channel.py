"""The WhatsApp channel type and the hook that registers it with the hub."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from importlib.resources import files
from typing import Any

from hub.contract import (
    BadCredentials,
    Capabilities,
    ChannelContext,
    ChannelType,
    MediaPart,
    MessageTemplate,
    OutboundMessage,
    PermanentFailure,
    RetryLater,
    StickerPart,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
    hookimpl,
)
from hub.contract.http import TooLarge

from hub_whatsapp.addresses import wa_id_of
from hub_whatsapp.client import GraphClient, GraphError, GraphUnavailable
from hub_whatsapp.config import WhatsAppConfig
from hub_whatsapp.errors import connect_error, send_error
from hub_whatsapp.normalize import parse_events
from hub_whatsapp.outbound import (
    MediaItem,
    envelope,
    interactive_body,
    media_body,
    plan_media,
    template_body,
    text_body,
)
from hub_whatsapp.signing import handshake, verify_signature

logger = logging.getLogger(__name__)

# Meta says "MB"; the decimal reading is the conservative one.
_MB = 1_000_000
STATIC_STICKER_LIMIT = 100_000
"""Static stickers may be 100 KB; animated ones 500 KB (the type-wide sticker limit)."""
_RECENT_SENDERS = 10_000


class WhatsAppChannel(ChannelType[WhatsAppConfig]):
    """A WhatsApp Business phone number, reached through Meta's Cloud API."""

    name = "whatsapp"
    title = "WhatsApp"
    description = (
        "Chat with customers on WhatsApp through the WhatsApp Business Cloud API. "
        "Free-form replies are allowed for 24 hours after the customer's last message; "
        "after that, only approved templates."
    )
    logo = files("hub_whatsapp").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = WhatsAppConfig
    capabilities = Capabilities(
        media={
            "image": 5 * _MB,
            "audio": 16 * _MB,
            "voice": 16 * _MB,
            "video": 16 * _MB,
            "document": 100 * _MB,
            # Animated stickers may reach 500 KB; fetch_media holds static ones to 100 KB.
            "sticker": 500_000,
        },
        reply_to=True,
        typing=True,
        templates=True,
        window_hours=24,
        max_text_length=4096,
        # Interactive reply buttons (up to 3) or a list (up to 10 rows).
        choices=10,
    )

    def __init__(self, config: WhatsAppConfig, context: ChannelContext) -> None:
        super().__init__(config, context)
        # The newest inbound message id per sender, for the typing indicator, which
        # WhatsApp ties to a message (see ``send_typing``).
        self._last_inbound: OrderedDict[str, str] = OrderedDict()

    @property
    def _graph(self) -> GraphClient:
        return GraphClient(
            self.context.http,
            self.config.api_base_url,
            self.config.api_version,
            self.config.access_token.get_secret_value(),
        )

    async def connect(self) -> None:
        """Check that the token sees the business account and that the number is in it."""
        number, account = self.config.phone_number_id, self.config.business_account_id
        try:
            numbers = await self._graph.phone_numbers(account)
        except (GraphError, GraphUnavailable) as err:
            raise connect_error(err, number) from err
        if not any(str(item.get("id")) == number for item in numbers):
            listed = ", ".join(
                f"{item.get('id')} ({item.get('display_phone_number', '?')})" for item in numbers
            )
            raise BadCredentials(
                f"the phone number ID {number} is not one of business account {account}'s "
                f"numbers ({listed or 'it has none'})"
            )

    async def disconnect(self) -> None:
        """Nothing to undo: the webhook subscription belongs to the Meta app, not to the hub."""

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Answer the verify-token handshake (GET) or verify and translate a delivery (POST)."""
        method = request.method.upper()
        if method == "GET":
            return WebhookResult(
                response=handshake(self.config.verify_token.get_secret_value(), request.query)
            )
        if method != "POST":
            raise WebhookRejected(405, "WhatsApp webhooks are GET (verification) or POST")
        verify_signature(self.config.app_secret.get_secret_value(), request.headers, request.body)
        events = parse_events(request.body, self.config.phone_number_id)
        for event in events:
            if event.kind == "message":
                self._remember(event.sender_id, event.external_id)
        return WebhookResult(events=tuple(events))

    async def send(self, message: OutboundMessage) -> str:
        """Send a template, or the text and attachments; the wamid of the first message."""
        to, reply_to = self._recipient(message.recipient_id), message.reply_to_external_id
        if message.template is not None:
            return await self._post(
                envelope(to, reply_to, "template", template_body(message.template))
            )
        if message.choices and not message.attachments:
            body = interactive_body(message.text or "", message.choices)
            return await self._post(envelope(to, reply_to, "interactive", body))
        text, media = plan_media(message)
        if text is None and not media:
            raise PermanentFailure("empty_message", "there is nothing to send")
        ids: list[str] = []
        if text is not None:
            ids.append(await self._post(envelope(to, reply_to, "text", text_body(text))))
        for item in media:
            media_id = await self._upload(item)
            body = media_body(item, media_id=media_id)
            ids.append(await self._post(envelope(to, None if ids else reply_to, item.type, body)))
        return ids[0]

    async def mark_read(self, external_id: str, *, typing: bool = False) -> None:
        """Mark an inbound message read (blue ticks), with the typing indicator if asked.

        Called by the core once it supports read receipts; the indicator shows for up to
        25 seconds or until the next reply.
        """
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": external_id,
        }
        if typing:
            body["typing_indicator"] = {"type": "text"}
        try:
            await self._graph.send_message(self.config.phone_number_id, body)
        except (GraphError, GraphUnavailable) as err:
            raise send_error(err) from err

    @classmethod
    def address_of(cls, text: str) -> str:
        """A phone number with its country code, as the ``wa_id`` digits WhatsApp uses."""
        return wa_id_of(text)

    async def send_typing(
        self, recipient_id: str, *, last_inbound_external_id: str | None = None
    ) -> None:
        """Show the typing indicator; WhatsApp ties it to the contact's latest message.

        The core passes that message's id; without it, the newest id this channel object
        saw from the contact is used, and with none seen nothing is sent.
        """
        external_id = last_inbound_external_id or self._last_inbound.get(recipient_id)
        if external_id is None:
            logger.debug("no recent message from %s to show typing against", recipient_id)
            return
        await self.mark_read(external_id, typing=True)

    async def list_templates(self) -> list[MessageTemplate]:
        """The business account's approved templates, for the composer."""
        try:
            found = await self._graph.templates(self.config.business_account_id)
        except (GraphError, GraphUnavailable) as err:
            raise send_error(err) from err
        return [
            template_of(item) for item in found if str(item.get("status", "")).upper() == "APPROVED"
        ]

    async def fetch_media(self, part: MediaPart | StickerPart) -> bytes:
        """Media id → short-lived URL → authenticated download, within Meta's size limits."""
        media_id = part.provider_media_id
        if not media_id:
            raise PermanentFailure("media_unreachable", "the message names no media id")
        kind = part.media_kind if isinstance(part, MediaPart) else "sticker"
        limit = self.capabilities.media.get(kind, 100 * _MB)
        if isinstance(part, StickerPart) and not part.animated:
            limit = STATIC_STICKER_LIMIT
        try:
            info = await self._graph.media_info(media_id, self.config.phone_number_id)
            if info.file_size is not None and info.file_size > limit:
                raise TooLarge(f"the file is {info.file_size} bytes; the limit is {limit}")
            return await self._graph.download(info.url, limit=limit)
        except TooLarge as err:
            raise PermanentFailure("media_too_large", str(err)) from err
        except GraphUnavailable as err:
            raise RetryLater(err.reason) from err
        except GraphError as err:
            mapped = send_error(err)
            if isinstance(mapped, RetryLater):
                raise mapped from err
            if err.status == 401 or err.code in (190, 102):
                # A token fixed by the admin makes the next attempt work.
                raise RetryLater(f"WhatsApp refused the access token: {err}") from err
            raise PermanentFailure(
                "media_unreachable", f"WhatsApp refused the media: {err}"
            ) from err

    # --- helpers -----------------------------------------------------------------------

    def _remember(self, sender_id: str, external_id: str) -> None:
        self._last_inbound[sender_id] = external_id
        self._last_inbound.move_to_end(sender_id)
        while len(self._last_inbound) > _RECENT_SENDERS:
            self._last_inbound.popitem(last=False)

    @staticmethod
    def _recipient(recipient_id: str) -> str:
        if not recipient_id.lstrip("+").isdigit():
            # A business-scoped user id (a username user without a visible number):
            # Meta's send field for those is not in the v23 API this plugin targets.
            raise PermanentFailure(
                "recipient_unsupported",
                f"{recipient_id} has no phone number on WhatsApp; the hub cannot message "
                "username-only contacts yet",
            )
        return recipient_id

    async def _post(self, body: dict[str, Any]) -> str:
        try:
            answer = await self._graph.send_message(self.config.phone_number_id, body)
        except (GraphError, GraphUnavailable) as err:
            raise send_error(err) from err
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        wamid = first.get("id") if isinstance(first, dict) else None
        if not isinstance(wamid, str) or not wamid:
            raise PermanentFailure("no_provider_id", "WhatsApp accepted the message without an id")
        return wamid

    async def _upload(self, item: MediaItem) -> str | None:
        """Upload a local file (Meta prefers ids over links); ``None`` to send the link."""
        attachment = item.attachment
        limit = self.capabilities.media.get(item.type, 100 * _MB)
        if attachment.size > limit:
            raise PermanentFailure(
                "media_too_large",
                f"{attachment.filename} is {attachment.size} bytes; WhatsApp takes {item.type} "
                f"files up to {limit} bytes",
            )
        try:
            content = await self.context.read_attachment(attachment)
        except FileNotFoundError:
            return None  # the hub keeps no copy: the signed link may still work
        try:
            return await self._graph.upload_media(
                self.config.phone_number_id, attachment.filename, attachment.content_type, content
            )
        except (GraphError, GraphUnavailable) as err:
            raise send_error(err) from err


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the WhatsApp channel type."""
    return [WhatsAppChannel]


def template_of(item: dict[str, Any]) -> MessageTemplate:
    """A Graph API template (``{name, language, status, category, components}``) for the
    composer: its body text and how many ``{{n}}`` parameters the body takes."""
    body = next(
        (
            str(component.get("text") or "")
            for component in item.get("components") or []
            if isinstance(component, dict) and component.get("type") == "BODY"
        ),
        None,
    )
    return MessageTemplate(
        name=str(item.get("name", "")),
        language=str(item.get("language", "")),
        category=item.get("category"),
        status=item.get("status"),
        body=body,
        parameters=len(set(re.findall(r"\{\{\s*(\w+)\s*\}\}", body or ""))),
        raw=item,
    )
