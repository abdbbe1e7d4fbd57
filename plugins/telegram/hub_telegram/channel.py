"""The Telegram channel type and the hook that registers it with the hub."""

from __future__ import annotations

import hmac
import json
import logging
from importlib.resources import files
from typing import Any

from hub.contract import (
    BadCredentials,
    Capabilities,
    ChannelType,
    InboundEvent,
    InboundMessage,
    MediaPart,
    OutboundMessage,
    PermanentFailure,
    PollResult,
    RetryLater,
    StickerPart,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
    hookimpl,
)
from pydantic import ValidationError

from hub_telegram.client import BotApiClient, BotApiError
from hub_telegram.config import TelegramConfig
from hub_telegram.errors import connect_error, translated
from hub_telegram.normalize import message_key, normalize_update
from hub_telegram.outbound import chat_id, plan, upload_of
from hub_telegram.payloads import File

logger = logging.getLogger(__name__)

# Telegram says "MB"; the decimal reading is the conservative one.
_MB = 1_000_000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
CLOUD_API = "https://api.telegram.org"
# The cloud Bot API serves files up to 20 MB; a self-hosted server lifts the limit.
CLOUD_DOWNLOAD_LIMIT = 20 * _MB
# getUpdates long-poll: Telegram holds the request open this long when nothing is new.
POLL_SECONDS = 25
POLL_BATCH = 100


class TelegramChannel(ChannelType[TelegramConfig]):
    """One Telegram bot: private chats (and optionally channel posts) with its users."""

    name = "telegram"
    title = "Telegram"
    description = (
        "Chat with customers who message your Telegram bot, through the Telegram Bot API "
        "by webhook or long polling."
    )
    logo = files("hub_telegram").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = TelegramConfig
    # Upload limits of the cloud Bot API (multipart); a self-hosted server allows more.
    capabilities = Capabilities(
        media={
            "image": 10 * _MB,
            "audio": 50 * _MB,
            "voice": 50 * _MB,
            "video": 50 * _MB,
            "animation": 50 * _MB,
            "document": 50 * _MB,
        },
        reply_to=True,
        typing=True,
        edit=True,
        max_text_length=4096,
        # An inline keyboard under the message; a press is a callback_query (ChoicePart).
        choices=10,
    )

    @property
    def api(self) -> BotApiClient:
        """The Bot API client of this bot, over the hub's shared HTTP client."""
        return BotApiClient(
            self.context.http, self.config.api_base_url, self.config.bot_token.get_secret_value()
        )

    def allowed_updates(self) -> list[str]:
        """The update types this channel asks Telegram for."""
        kinds = ["message", "edited_message", "callback_query"]
        if self.config.channel_posts:
            kinds += ["channel_post", "edited_channel_post"]
        return kinds

    # --- connection -------------------------------------------------------------------

    async def connect(self) -> None:
        """Check the token with ``getMe``; then register the webhook, or remove it for
        polling (``getUpdates`` answers 409 Conflict while a webhook is set)."""
        try:
            me = await self.api.call("getMe")
            if not isinstance(me, dict) or not me.get("is_bot"):
                raise BadCredentials("the token does not belong to a bot")
            if self.config.mode == "webhook":
                await self.api.call(
                    "setWebhook",
                    {
                        "url": self.context.webhook_url,
                        "secret_token": self.config.secret_token.get_secret_value(),
                        "allowed_updates": self.allowed_updates(),
                    },
                )
            else:
                await self.api.call("deleteWebhook", {"drop_pending_updates": False})
        except BotApiError as err:
            raise connect_error(err) from err

    async def disconnect(self) -> None:
        """Remove the webhook; best effort, as disabling must not hinge on Telegram."""
        try:
            await self.api.call("deleteWebhook", {"drop_pending_updates": False})
        except BotApiError as err:
            logger.warning(
                "channel %s: deleteWebhook failed: %s", self.context.channel_id, err.description
            )

    # --- inbound ----------------------------------------------------------------------

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Check the secret token, then translate the one ``Update`` of the body.

        A button press is answered in the webhook response itself (the Bot API accepts
        a method call there), so the contact's spinner stops without another request.
        """
        if request.method.upper() != "POST":
            raise WebhookRejected(405, "Telegram webhooks are POST requests")
        self._check_secret(request)
        try:
            raw = json.loads(request.body)
        except (ValueError, RecursionError):
            raise WebhookRejected(400, "the body is not JSON") from None
        if not isinstance(raw, dict):
            raise WebhookRejected(400, "the body is not a Telegram Update object")
        try:
            message = normalize_update(raw, channel_posts=self.config.channel_posts)
        except ValidationError as err:
            where = ".".join(str(p) for p in err.errors()[0]["loc"])
            raise WebhookRejected(400, f"not a valid Telegram Update: {where}") from err
        if message is None:
            return WebhookResult()
        callback = raw.get("callback_query")
        if isinstance(callback, dict) and isinstance(callback.get("id"), str):
            answer = {"method": "answerCallbackQuery", "callback_query_id": callback["id"]}
            return WebhookResult(
                events=(message,),
                response=WebhookResponse(body=json.dumps(answer), content_type="application/json"),
            )
        return WebhookResult(events=(message,))

    def _check_secret(self, request: WebhookRequest) -> None:
        given = request.header(SECRET_HEADER)
        if given is None:
            raise WebhookRejected(401, "the X-Telegram-Bot-Api-Secret-Token header is missing")
        expected = self.config.secret_token.get_secret_value()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected(403, "the X-Telegram-Bot-Api-Secret-Token does not match")

    def polls(self) -> bool:
        """Only a channel in polling mode is polled; a webhook channel waits for Telegram."""
        return self.config.mode == "polling"

    async def poll(self, cursor: str | None) -> PollResult:
        """Fetch updates after ``cursor`` (the next ``update_id``) by long polling.

        The cursor returned is the last update's id + 1: passed next time as ``offset``,
        it confirms these updates to Telegram. The core stores it only after storing the
        events, so a crash between the two re-fetches (and dedupes) instead of skipping.
        """
        params: dict[str, Any] = {
            "limit": POLL_BATCH,
            "timeout": POLL_SECONDS,
            "allowed_updates": self.allowed_updates(),
        }
        if cursor is not None and cursor.strip().lstrip("-").isdigit():
            params["offset"] = int(cursor)
        updates = await translated(
            self.api.call("getUpdates", params, http_seconds=POLL_SECONDS + 10)
        )
        if not isinstance(updates, list):
            raise RetryLater("getUpdates answered something other than a list")
        messages: list[InboundMessage] = []
        highest: int | None = None
        for raw in updates:
            if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
                continue
            highest = max(highest or raw["update_id"], raw["update_id"])
            try:
                message = normalize_update(raw, channel_posts=self.config.channel_posts)
            except ValidationError:
                logger.warning("channel %s: skipped an unreadable update", self.context.channel_id)
                continue
            if message is not None:
                messages.append(message)
                await self._answer_callback(raw)
        events: list[InboundEvent] = list(messages)
        return PollResult(events=events, cursor=cursor if highest is None else str(highest + 1))

    async def _answer_callback(self, raw: dict[str, Any]) -> None:
        callback = raw.get("callback_query")
        if not isinstance(callback, dict) or not isinstance(callback.get("id"), str):
            return
        try:
            await self.api.call("answerCallbackQuery", {"callback_query_id": callback["id"]})
        except BotApiError as err:
            # Only the contact's spinner depends on it; the press itself is stored.
            logger.info("channel %s: answerCallbackQuery failed: %s", self.context.channel_id, err)

    # --- outbound ---------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> str:
        """Send the text and files; return the first sent message's ``<chat>:<id>``."""
        first: str | None = None
        for call in plan(message):
            upload = await upload_of(call, self.context.read_attachment)
            sent = await translated(self.api.call(call.method, call.params, upload=upload))
            if first is None:
                first = _sent_key(sent, call.method)
        assert first is not None  # plan() never returns no calls
        return first

    async def send_typing(
        self, recipient_id: str, *, last_inbound_external_id: str | None = None
    ) -> None:
        """Show "typing…" for about 5 s (or until the next message), via sendChatAction."""
        await translated(
            self.api.call("sendChatAction", {"chat_id": chat_id(recipient_id), "action": "typing"})
        )

    async def fetch_media(self, part: MediaPart | StickerPart) -> bytes:
        """``getFile`` then download, within the cloud API's 20 MB download limit."""
        if not part.provider_media_id:
            raise PermanentFailure("media_unreachable", "the part has no Telegram file_id")
        limit = CLOUD_DOWNLOAD_LIMIT if self.config.api_base_url == CLOUD_API else None
        size = part.size if isinstance(part, MediaPart) else None
        if limit is not None and size is not None and size > limit:
            raise _too_large(size, limit)
        answer = await translated(self.api.call("getFile", {"file_id": part.provider_media_id}))
        try:
            found = File.model_validate(answer)
        except ValidationError as err:
            raise PermanentFailure("media_unreachable", "getFile answered no File") from err
        if not found.file_path:
            raise PermanentFailure("media_unreachable", "Telegram has no path for the file")
        if limit is not None and found.file_size is not None and found.file_size > limit:
            raise _too_large(found.file_size, limit)
        return await translated(self.api.download(found.file_path, limit=limit))


def _sent_key(sent: Any, method: str) -> str:
    if isinstance(sent, dict):
        chat = sent.get("chat")
        message_id = sent.get("message_id")
        if (
            isinstance(chat, dict)
            and isinstance(chat.get("id"), int)
            and isinstance(message_id, int)
        ):
            return message_key(chat["id"], message_id)
    raise PermanentFailure("no_provider_id", f"{method} answered without the sent Message")


def _too_large(size: int, limit: int) -> PermanentFailure:
    return PermanentFailure(
        "media_too_large",
        f"the file is {size} bytes; the Bot API serves at most {limit} bytes "
        "(a self-hosted Bot API server lifts this)",
    )


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Register the Telegram channel type."""
    return [TelegramChannel]
