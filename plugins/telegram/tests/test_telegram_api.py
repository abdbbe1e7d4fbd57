"""The Telegram plugin object against a mocked Bot API: auth, connect, poll, send, media."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from hub.contract import (
    BadCredentials,
    ChannelContext,
    Choice,
    ChoicePart,
    InboundMessage,
    MediaPart,
    OutboundAttachment,
    OutboundMessage,
    PermanentFailure,
    WebhookRejected,
)
from hub.testing import MemoryFiles
from telegram_helpers import API, BOT_TOKEN, SECRET, fixture, request_of, update_sample

from hub_telegram.channel import TelegramChannel
from hub_telegram.config import TelegramConfig


@pytest.fixture
def files() -> MemoryFiles:
    """The hub's file store the bot reads outbound files from."""
    return MemoryFiles()


@pytest.fixture
async def bot(files: MemoryFiles) -> AsyncIterator[TelegramChannel]:
    """A webhook-mode bot with the test secret."""
    async with httpx.AsyncClient() as http:
        context = ChannelContext(7, "https://hub.example.test/webhooks/7", http, files=files)
        yield TelegramChannel(TelegramConfig(bot_token=BOT_TOKEN, secret_token=SECRET), context)


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, 403)],
)
async def test_webhook_secret_is_required_and_must_match(
    bot: TelegramChannel, headers: dict[str, str], status: int
) -> None:
    sample = update_sample("text")
    request = request_of(sample).model_copy(update={"headers": headers})
    with pytest.raises(WebhookRejected) as caught:
        await bot.handle_webhook(request)
    assert caught.value.status == status


async def test_a_button_press_is_answered_in_the_webhook_response(bot: TelegramChannel) -> None:
    result = await bot.handle_webhook(request_of(update_sample("callback_query")))
    assert result.response is not None
    assert json.loads(result.response.body) == {
        "method": "answerCallbackQuery",
        "callback_query_id": "4382bfdwdsb323b2d9",
    }
    assert result.events[0].reply_to_external_id == "111222333:55"


async def test_connect_shows_telegrams_refusal_of_the_token(bot: TelegramChannel) -> None:
    with respx.mock() as router:
        router.post(f"{API}/getMe").respond(
            401, json={"ok": False, "error_code": 401, "description": "Unauthorized"}
        )
        with pytest.raises(BadCredentials, match="Unauthorized"):
            await bot.connect()


async def test_connect_sets_the_webhook_with_secret_and_allowed_updates(
    bot: TelegramChannel,
) -> None:
    with respx.mock() as router:
        router.post(f"{API}/getMe").respond(200, json=fixture("get_me"))
        hook = router.post(f"{API}/setWebhook").respond(200, json={"ok": True, "result": True})
        await bot.connect()
    sent = json.loads(hook.calls.last.request.content)
    assert sent == {
        "url": "https://hub.example.test/webhooks/7",
        "secret_token": SECRET,
        "allowed_updates": ["message", "edited_message", "callback_query"],
    }


async def test_poll_keys_album_items_into_one_group_and_returns_the_next_offset(
    bot: TelegramChannel,
) -> None:
    updates = [fixture("update_album_1"), fixture("update_album_2"), fixture("update_text")]
    with respx.mock() as router:
        route = router.post(f"{API}/getUpdates").respond(200, json={"ok": True, "result": updates})
        result = await bot.poll("900017")
    assert json.loads(route.calls.last.request.content)["offset"] == 900017
    assert result.cursor == "900019"  # the highest update_id seen + 1, whatever the order
    # Each item stays its own event; the core joins those of one group into one message.
    first, second, text = result.events
    assert isinstance(first, InboundMessage) and isinstance(second, InboundMessage)
    assert [p.provider_media_id for p in (*first.parts, *second.parts)] == [
        "AgAD-album1",
        "AgAD-album2",
    ]
    chat_id = fixture("update_album_1")["message"]["chat"]["id"]
    assert first.group_key == second.group_key == f"{chat_id}:13598765432101234"
    assert first.external_id != second.external_id
    assert isinstance(text, InboundMessage) and text.group_key is None


async def test_poll_without_updates_keeps_the_cursor(bot: TelegramChannel) -> None:
    with respx.mock() as router:
        router.post(f"{API}/getUpdates").respond(200, json={"ok": True, "result": []})
        result = await bot.poll("42")
    assert (result.events, result.cursor) == ([], "42")


async def test_a_reply_quotes_with_reply_parameters_and_uploads_a_photo(
    bot: TelegramChannel, files: MemoryFiles
) -> None:
    message = OutboundMessage(
        message_id=1,
        conversation_id=1,
        recipient_id="111222333",
        idempotency_key="k",
        text="Here *it* is <b>",
        reply_to_external_id="111222333:112",
        attachments=(
            files.attachment(b"\xff\xd8jpeg", filename="a.jpg", content_type="image/jpeg"),
        ),
    )
    with respx.mock() as router:
        route = router.post(f"{API}/sendPhoto").respond(200, json=fixture("sent_message"))
        provider_id = await bot.send(message)
    assert provider_id == "111222333:201"
    body = route.calls.last.request.content
    assert b"\xff\xd8jpeg" in body and b"Here *it* is <b>" in body
    assert b'{"message_id": 112, "allow_sending_without_reply": true}' in body
    assert b"parse_mode" not in body


async def test_a_file_the_hub_does_not_keep_goes_by_its_link_or_fails(
    bot: TelegramChannel,
) -> None:
    elsewhere = OutboundAttachment(
        filename="a.pdf",
        content_type="application/pdf",
        size=6,
        sha256="0" * 64,
        url="https://hub.example.test/m/a.pdf",
    )
    message = OutboundMessage(
        message_id=1,
        conversation_id=1,
        recipient_id="111222333",
        idempotency_key="k",
        attachments=(elsewhere,),
    )
    with respx.mock() as router:
        route = router.post(f"{API}/sendDocument").respond(200, json=fixture("sent_message"))
        await bot.send(message)
    assert json.loads(route.calls.last.request.content)["document"] == elsewhere.url
    unlinked = message.model_copy(
        update={"attachments": (elsewhere.model_copy(update={"url": None}),)}
    )
    with respx.mock() as router, pytest.raises(PermanentFailure) as caught:
        await bot.send(unlinked)
    assert caught.value.code == "attachment_unreachable" and not router.calls


async def test_typing_sends_a_chat_action(bot: TelegramChannel) -> None:
    with respx.mock() as router:
        route = router.post(f"{API}/sendChatAction").respond(200, json={"ok": True, "result": True})
        await bot.send_typing("111222333")
    assert json.loads(route.calls.last.request.content) == {
        "chat_id": 111222333,
        "action": "typing",
    }


async def test_a_file_over_20_mb_is_refused_before_any_download(bot: TelegramChannel) -> None:
    part = MediaPart(media_kind="document", provider_media_id="BQAD", size=25_000_000)
    with respx.mock() as router, pytest.raises(PermanentFailure) as caught:
        await bot.fetch_media(part)
    assert caught.value.code == "media_too_large" and not router.calls


async def test_a_too_big_answer_of_get_file_is_a_permanent_failure(bot: TelegramChannel) -> None:
    with respx.mock() as router:
        router.post(f"{API}/getFile").respond(
            400,
            json={"ok": False, "error_code": 400, "description": "Bad Request: file is too big"},
        )
        with pytest.raises(PermanentFailure) as caught:
            await bot.fetch_media(MediaPart(media_kind="video", provider_media_id="BAAD"))
    assert caught.value.code == "media_too_large"


async def test_choices_go_as_an_inline_keyboard_and_a_press_comes_back_as_a_choice(
    bot: TelegramChannel,
) -> None:
    message = OutboundMessage(
        message_id=3,
        conversation_id=1,
        recipient_id="111222333",
        idempotency_key="k",
        text="How did we do?",
        choices=(
            Choice(id="csat:1", title="1 · Very poor"),
            Choice(id="csat:5", title="5 · Great"),
        ),
    )
    with respx.mock() as router:
        route = router.post(f"{API}/sendMessage").respond(200, json=fixture("sent_message"))
        await bot.send(message)
    sent = json.loads(route.calls.last.request.content)
    assert sent["text"] == "How did we do?"
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "1 · Very poor", "callback_data": "csat:1"}],
            [{"text": "5 · Great", "callback_data": "csat:5"}],
        ]
    }

    result = await bot.handle_webhook(request_of(update_sample("csat_button")))
    [pressed] = result.events
    assert isinstance(pressed, InboundMessage)
    assert pressed.parts == (ChoicePart(choice_id="csat:4", title="4 · Good"),)
    assert pressed.reply_to_external_id == "111222333:77"
    assert result.response is not None
    assert json.loads(result.response.body)["method"] == "answerCallbackQuery"


async def test_a_choice_id_over_64_bytes_cannot_be_a_button(bot: TelegramChannel) -> None:
    message = OutboundMessage(
        message_id=4,
        conversation_id=1,
        recipient_id="111222333",
        idempotency_key="k",
        text="Pick",
        choices=(Choice(id="x" * 65, title="Too long"),),
    )
    with pytest.raises(PermanentFailure) as caught:
        await bot.send(message)
    assert caught.value.code == "choice_id_too_long"
