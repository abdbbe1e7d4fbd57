"""Every inbound fixture through the real hub: webhook pipe, store, media job, REST API."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from hub.testing import eventually
from hub.testing.harness import HubApi
from telegram_helpers import API, BOT_TOKEN, fixture, update_sample

from hub_telegram.channel import TelegramChannel

pytestmark = pytest.mark.usefixtures("hub_api")

FILE_BYTES = {"AgAD-large": b"\xff\xd8photo", "BQAD-doc": b"%PDF-1.7 doc", "AwAD-voice": b"OggS"}


@pytest.fixture
def hub_plugins() -> list[object]:
    """The Telegram type under test."""
    return [TelegramChannel]


async def _channel(hub_api: HubApi, **config: Any) -> tuple[int, str]:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}/getMe").respond(200, json=fixture("get_me"))
        router.post(f"{API}/setWebhook").respond(200, json={"ok": True, "result": True})
        created = await hub_api.create_channel("telegram", {"bot_token": BOT_TOKEN, **config})
    return created.id, created.config["secret_token"]


async def _post(hub_api: HubApi, channel_id: int, secret: str, name: str) -> None:
    response = await hub_api.post_webhook(channel_id, update_sample(name, secret))
    assert response.status == 200, await response.text()


def _mock_files(router: respx.MockRouter) -> None:
    def get_file(request: Any) -> Any:
        import json

        import httpx

        file_id = json.loads(request.content)["file_id"]
        result = {"file_id": file_id, "file_unique_id": "u", "file_path": f"files/{file_id}"}
        return httpx.Response(200, json={"ok": True, "result": result})

    router.post(f"{API}/getFile").mock(side_effect=get_file)
    for file_id, content in FILE_BYTES.items():
        router.get(f"https://api.telegram.org/file/bot{BOT_TOKEN}/files/{file_id}").respond(
            200, content=content
        )


EXPECTED_KINDS = {
    "text": ["text"],
    "photo": ["media"],
    "document": ["media"],
    "voice": ["media"],
    "audio": ["media"],
    "video": ["media"],
    "video_note": ["media"],
    "sticker": ["sticker"],
    "location": ["location"],
    "venue": ["location"],
    "contact": ["contact_card"],
    "reply": ["text"],
    "callback_query": ["choice"],
    "poll": ["unsupported"],
}


async def test_every_fixture_becomes_a_message_of_one_contact_and_conversation(
    hub_api: HubApi,
) -> None:
    channel_id, secret = await _channel(hub_api)
    for name in EXPECTED_KINDS:
        await _post(hub_api, channel_id, secret, name)
    [conversation] = [c for c in await hub_api.conversations() if c["channel_id"] == channel_id]
    messages = await hub_api.messages(int(conversation["id"]))
    by_id = {m["external_id"]: m for m in messages}
    assert len(by_id) == len(EXPECTED_KINDS)
    for name, kinds in EXPECTED_KINDS.items():
        update = fixture(f"update_{name}")
        if name == "callback_query":
            key = f"callback:{update['callback_query']['id']}"
        else:
            key = f"111222333:{update['message']['message_id']}"
        stored = by_id[key]
        assert [p["kind"] for p in stored["parts"]] == kinds, name
    assert by_id["111222333:101"]["text"] == "Hi 👋 see docs (https://example.com/docs) please"
    assert by_id["111222333:112"]["reply_to"] == by_id["111222333:101"]["id"]
    assert by_id["111222333:102"]["text"] == "My receipt"
    assert by_id["callback:4382bfdwdsb323b2d9"]["text"] == "order_status"


async def test_media_is_downloaded_with_get_file_into_attachments(hub_api: HubApi) -> None:
    channel_id, secret = await _channel(hub_api)
    # Mocked before posting: the app's own media worker may fetch first.
    with respx.mock(assert_all_called=False) as router:
        _mock_files(router)
        for name in ("photo", "document", "voice"):
            await _post(hub_api, channel_id, secret, name)

        async def fetched() -> dict[str, Any]:
            await hub_api.fetch_media()
            stored = {m["external_id"]: m for m in await hub_api.channel_messages(channel_id)}
            assert all(m["attachments"] for m in stored.values()), stored
            return stored

        stored = await eventually(fetched)
    photo = stored["111222333:102"]["attachments"]
    assert [(a["content_type"], a["size"]) for a in photo] == [
        ("image/jpeg", len(FILE_BYTES["AgAD-large"]))
    ]
    [doc] = stored["111222333:103"]["attachments"]
    assert (doc["filename"], doc["size"]) == ("invoice.pdf", len(FILE_BYTES["BQAD-doc"]))
    [voice] = stored["111222333:104"]["attachments"]
    assert voice["content_type"] == "audio/ogg"


async def test_an_edit_updates_the_stored_message_and_keeps_the_earlier_text(
    hub_api: HubApi,
) -> None:
    channel_id, secret = await _channel(hub_api)
    await _post(hub_api, channel_id, secret, "text")
    await _post(hub_api, channel_id, secret, "edited")
    await _post(hub_api, channel_id, secret, "edited")  # Telegram's retry: no second edit
    [message] = await hub_api.channel_messages(channel_id)
    assert message["text"] == "Hi, corrected"
    history = await hub_api.edit_history(int(message["id"]))
    assert [h["text"] for h in history] == ["Hi 👋 see docs (https://example.com/docs) please"]


async def test_channel_posts_are_ignored_unless_enabled(hub_api: HubApi) -> None:
    off_id, off_secret = await _channel(hub_api)
    await _post(hub_api, off_id, off_secret, "channel_post")
    assert await hub_api.channel_messages(off_id) == []
    on_id, on_secret = await _channel(hub_api, channel_posts=True)
    await _post(hub_api, on_id, on_secret, "channel_post")
    [post] = await hub_api.channel_messages(on_id)
    assert post["text"] == "New arrivals"


async def test_a_forged_secret_is_refused_and_stores_nothing(hub_api: HubApi) -> None:
    channel_id, _ = await _channel(hub_api)
    response = await hub_api.post_webhook(channel_id, update_sample("text", "forged-secret"))
    assert response.status == 403
    assert await hub_api.channel_messages(channel_id) == []


async def test_a_csat_survey_goes_with_buttons_and_a_press_is_the_rating(
    hub_api: HubApi,
) -> None:
    channel_id, secret = await _channel(hub_api)
    await hub_api.call(
        "PUT", "/api/v1/csat/settings", json={"enabled": True, "question": "How did we do?"}
    )
    await _post(hub_api, channel_id, secret, "text")
    [conversation] = await hub_api.conversations()
    cid = int(conversation["id"])
    with respx.mock(assert_all_called=False) as router:
        route = router.post(f"{API}/sendMessage").respond(200, json=fixture("sent_message"))
        await hub_api.call("POST", f"/api/v1/conversations/{cid}/close", json={})

        async def asked() -> dict[str, Any]:
            found: dict[str, Any] = (
                await hub_api.call("GET", f"/api/v1/conversations/{cid}/csat")
            )["survey"]
            assert found is not None, "no survey yet"
            return found

        survey = await eventually(asked)
        await hub_api.delivered(int(survey["message_id"]))
    sent = json.loads(route.calls.last.request.content)
    assert sent["text"].startswith("How did we do?")
    keyboard = sent["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == [f"csat:{n}" for n in range(1, 6)]

    await _post(hub_api, channel_id, secret, "csat_button")
    rated = (await hub_api.call("GET", f"/api/v1/conversations/{cid}/csat"))["survey"]
    assert (rated["status"], rated["rating"], rated["answered_via"]) == ("answered", 4, "choice")
    [after] = await hub_api.conversations()
    assert after["status"] == "closed"
