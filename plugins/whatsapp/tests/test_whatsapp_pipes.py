"""Every inbound fixture through the real hub: webhook pipe, store, media job, REST API."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from hub.testing import eventually
from hub.testing.harness import HubApi
from hub.testing.webhooks import WebhookSample
from whatsapp_helpers import (
    CONFIG,
    GRAPH,
    INBOUND_FIXTURES,
    PHONE_NUMBER_ID,
    SENDER,
    TEXT_ID,
    WABA_ID,
    first_message,
    load,
    signed_sample,
)

from hub_whatsapp.channel import WhatsAppChannel

MEDIA = {
    "1003383421387256": ("image/jpeg", b"\xff\xd8\xff\xe0photo"),
    "1003383421387257": ("audio/ogg", b"OggS\x00voice-note"),
    "1003383421387258": ("audio/mpeg", b"ID3\x04music"),
    "1003383421387259": ("video/mp4", b"\x00\x00\x00\x18ftypmp42video"),
    "1003383421387260": ("application/pdf", b"%PDF-1.7 invoice"),
    "1003383421387261": ("image/webp", b"RIFF\x1a\x00\x00\x00WEBPVP8 sticker"),
}
EXPECTED_KINDS = {
    "text": ["text"],
    "image": ["media"],
    "audio_voice": ["media"],
    "audio": ["media"],
    "video": ["media"],
    "document": ["media"],
    "sticker": ["sticker"],
    "location": ["location"],
    "contacts": ["contact_card"],
    "interactive_button_reply": ["choice"],
    "interactive_list_reply": ["choice"],
    "button": ["text"],
    "reaction": ["reaction"],
    "unsupported": ["unsupported"],
    "reply_context": ["text"],
}


@pytest.fixture
def hub_plugins() -> list[object]:
    """The WhatsApp type under test."""
    return [WhatsAppChannel]


async def _channel(hub_api: HubApi) -> tuple[int, str]:
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{GRAPH}/{WABA_ID}/phone_numbers").respond(
            200, json={"data": [{"id": PHONE_NUMBER_ID}]}
        )
        created = await hub_api.create_channel("whatsapp", CONFIG)
    return created.id, created.config["app_secret"]


async def _post(hub_api: HubApi, channel_id: int, sample: WebhookSample) -> None:
    response = await hub_api.post_webhook(channel_id, sample)
    assert response.status == 200, await response.text()


def _mock_media(router: respx.MockRouter) -> None:
    for media_id, (mime, content) in MEDIA.items():
        url = f"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid={media_id}"
        router.get(f"{GRAPH}/{media_id}").respond(
            200,
            json={
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": mime,
                "sha256": "x",
                "file_size": str(len(content)),
                "id": media_id,
            },
        )
        router.get(url).respond(200, content=content)


async def _by_external_id(hub_api: HubApi, channel_id: int) -> dict[str, dict[str, Any]]:
    return {m["external_id"]: m for m in await hub_api.channel_messages(channel_id)}


async def test_every_fixture_becomes_the_right_contact_conversation_message_and_files(
    hub_api: HubApi,
) -> None:
    channel_id, secret = await _channel(hub_api)
    # Mocked before posting: the app's own media worker may fetch first.
    with respx.mock(assert_all_called=False) as router:
        _mock_media(router)
        for name in INBOUND_FIXTURES:
            await _post(hub_api, channel_id, signed_sample(name, secret))
            await _post(hub_api, channel_id, signed_sample(name, secret))  # Meta's retry

        async def fetched() -> None:
            await hub_api.fetch_media()
            pending = [
                m
                for m in await hub_api.channel_messages(channel_id)
                if any(p.get("kind") in ("media", "sticker") for p in m["parts"])
                and not m["attachments"]
            ]
            assert not pending

        await eventually(fetched)
    [conversation] = [c for c in await hub_api.conversations() if c["channel_id"] == channel_id]
    contact = await hub_api.call("GET", f"/api/v1/contacts/{conversation['contact']['id']}")
    assert contact["name"] == "Sheena Nelson"
    assert contact["phone"] == "+16505551234"

    stored = await _by_external_id(hub_api, channel_id)
    assert len(stored) == len(INBOUND_FIXTURES)  # each message once despite the retries
    for name in INBOUND_FIXTURES:
        message = stored[first_message(name)["id"]]
        assert message["direction"] == "in"
        assert message["conversation_id"] == conversation["id"]
        assert [p["kind"] for p in message["parts"]] == EXPECTED_KINDS[name], name
        wire = first_message(name).get(first_message(name)["type"])
        if isinstance(wire, dict) and wire.get("id") in MEDIA:
            mime, content = MEDIA[wire["id"]]
            assert len(message["attachments"]) == 1, (name, message["parts"])
            [attachment] = message["attachments"]
            assert attachment["size"] == len(content), name
            assert attachment["content_type"].startswith(mime.split(";")[0]), (name, attachment)
        else:
            assert message["attachments"] == [], name

    assert stored[first_message("text")["id"]]["text"] == "Grüße! Is my order on its way? 👋"
    assert stored["wamid.IMAGE0001"]["text"] == "The box arrived like this"
    assert stored["wamid.VOICE0001"]["parts"][0]["media_kind"] == "voice"
    text_id = stored[TEXT_ID]["id"]
    assert stored["wamid.REACTION0001"]["reply_to"] == text_id  # attached to its target
    assert stored["wamid.REPLY0001"]["reply_to"] == text_id
    unsupported = stored["wamid.UNSUPPORTED0001"]["parts"][0]
    assert unsupported["raw_type"] == "unsupported:edit"
    assert "not supported" in unsupported["description"]


async def test_a_batch_makes_one_conversation_per_contact(hub_api: HubApi) -> None:
    channel_id, secret = await _channel(hub_api)
    await _post(hub_api, channel_id, signed_sample("batch", secret))
    conversations = [c for c in await hub_api.conversations() if c["channel_id"] == channel_id]
    texts: dict[str, list[str]] = {}
    for conversation in conversations:
        contact = await hub_api.call("GET", f"/api/v1/contacts/{conversation['contact']['id']}")
        texts[contact["name"]] = [
            m["text"] for m in await hub_api.messages(int(conversation["id"]))
        ]
    assert texts == {
        "Sheena Nelson": ["first from Sheena", "second from Sheena"],
        "Jon Doe": ["hallo from Jon"],
        "Ana Silva": ["olá"],
    }


async def test_statuses_move_our_reply_to_delivered_read_and_failed(hub_api: HubApi) -> None:
    channel_id, secret = await _channel(hub_api)
    await _post(hub_api, channel_id, signed_sample("text", secret))
    [conversation] = [c for c in await hub_api.conversations() if c["channel_id"] == channel_id]
    with respx.mock(assert_all_called=False) as router:
        send = router.post(f"{GRAPH}/{PHONE_NUMBER_ID}/messages").respond(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": SENDER, "wa_id": SENDER}],
                "messages": [{"id": "wamid.OUTBOUND0001"}],
            },
        )
        reply = await hub_api.reply(int(conversation["id"]), "It ships today")
        sent = await hub_api.delivered(int(reply["id"]))
    assert (sent["status"], sent["external_id"]) == ("sent", "wamid.OUTBOUND0001")
    assert b'"to":"16505551234"' in send.calls.last.request.content.replace(b" ", b"")

    for status in ("delivered", "read"):
        await _post(hub_api, channel_id, signed_sample(f"status_{status}", secret))
        assert (await hub_api.message(int(reply["id"])))["status"] == status
    await _post(
        hub_api, channel_id, signed_sample("status_delivered", secret)
    )  # late, out of order
    assert (await hub_api.message(int(reply["id"])))["status"] == "read"


async def test_a_window_failure_status_shows_the_reason_on_the_reply(hub_api: HubApi) -> None:
    channel_id, secret = await _channel(hub_api)
    await _post(hub_api, channel_id, signed_sample("text", secret))
    [conversation] = [c for c in await hub_api.conversations() if c["channel_id"] == channel_id]
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{GRAPH}/{PHONE_NUMBER_ID}/messages").respond(
            200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUTBOUND0001"}]}
        )
        reply = await hub_api.reply(int(conversation["id"]), "Are you still there?")
        await hub_api.delivered(int(reply["id"]))
    await _post(hub_api, channel_id, signed_sample("status_failed", secret))
    failed = await hub_api.message(int(reply["id"]))
    assert failed["status"] == "failed"
    assert "Re-engagement message" in failed["failure_reason"]


async def test_the_pipe_answers_the_verification_handshake(hub_api: HubApi) -> None:
    channel_id, _ = await _channel(hub_api)
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": CONFIG["verify_token"],
        "hub.challenge": "1158201444",
    }
    response = await hub_api.post_webhook(channel_id, WebhookSample(b"", method="GET", query=query))
    assert response.status == 200
    assert await response.text() == "1158201444"
    wrong = WebhookSample(b"", method="GET", query={**query, "hub.verify_token": "nope"})
    assert (await hub_api.post_webhook(channel_id, wrong)).status == 403


async def test_a_wrong_signature_leaves_the_inbox_untouched(hub_api: HubApi) -> None:
    channel_id, _ = await _channel(hub_api)
    response = await hub_api.post_webhook(channel_id, signed_sample("text", "not-the-app-secret"))
    assert response.status == 403
    assert await hub_api.channel_messages(channel_id) == []


async def _close_and_wait_for_the_survey(hub_api: HubApi, cid: int) -> dict[str, Any]:
    await hub_api.call("POST", f"/api/v1/conversations/{cid}/close", json={})

    async def surveyed() -> dict[str, Any]:
        found: dict[str, Any] = (await hub_api.call("GET", f"/api/v1/conversations/{cid}/csat"))[
            "survey"
        ]
        assert found is not None, "no survey yet"
        return found

    return await eventually(surveyed)


async def test_a_csat_survey_goes_as_a_list_and_the_pick_is_the_rating(hub_api: HubApi) -> None:
    channel_id, secret = await _channel(hub_api)
    await hub_api.call(
        "PUT", "/api/v1/csat/settings", json={"enabled": True, "question": "How did we do?"}
    )
    await _post(hub_api, channel_id, signed_sample("text", secret))
    [conversation] = await hub_api.conversations()
    cid = int(conversation["id"])
    with respx.mock(assert_all_called=False) as router:
        route = router.post(f"{GRAPH}/{PHONE_NUMBER_ID}/messages").respond(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": SENDER, "wa_id": SENDER}],
                "messages": [{"id": "wamid.SURVEY1"}],
            },
        )
        survey = await _close_and_wait_for_the_survey(hub_api, cid)
        await hub_api.delivered(int(survey["message_id"]))
    sent = json.loads(route.calls.last.request.content)
    assert sent["type"] == "interactive" and sent["interactive"]["type"] == "list"
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [f"csat:{n}" for n in range(1, 6)]

    # The contact picks "4 · Good" (a documented list_reply, naming the survey).
    pick = load("interactive_list_reply")
    message = pick["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = "wamid.CSATPICK1"
    message["interactive"]["list_reply"] = {"id": "csat:4", "title": "4 · Good"}
    message["context"] = {"from": "15550783881", "id": "wamid.SURVEY1"}
    await _post(hub_api, channel_id, signed_sample(json.dumps(pick).encode(), secret))
    rated = (await hub_api.call("GET", f"/api/v1/conversations/{cid}/csat"))["survey"]
    assert (rated["status"], rated["rating"], rated["answered_via"]) == ("answered", 4, "choice")
    [after] = await hub_api.conversations()
    assert after["status"] == "closed"


async def test_no_survey_outside_the_24_hour_window(hub_api: HubApi) -> None:
    channel_id, secret = await _channel(hub_api)
    await hub_api.call(
        "PUT", "/api/v1/csat/settings", json={"enabled": True, "question": "How did we do?"}
    )
    await _post(hub_api, channel_id, signed_sample("text", secret))
    [conversation] = await hub_api.conversations()
    cid = int(conversation["id"])
    await hub_api.backdate_last_inbound(cid, hours=25)
    survey = await _close_and_wait_for_the_survey(hub_api, cid)
    assert survey["status"] == "skipped"
    assert survey["skip_reason"] == "outside the channel's 24-hour customer-service window"
    assert survey["message_id"] is None
