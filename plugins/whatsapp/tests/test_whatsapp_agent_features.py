"""The core's agent-side features on the real WhatsApp plugin: the 24-hour window
checked before queueing, templates listed and sent, read receipts."""

from __future__ import annotations

import json

import pytest
import respx
from hub.testing.harness import HubApi, HubApiError
from whatsapp_helpers import CONFIG, GRAPH, PHONE_NUMBER_ID, SENDER, TEXT_ID, WABA_ID, signed_sample

from hub_whatsapp.channel import WhatsAppChannel


@pytest.fixture
def hub_plugins() -> list[object]:
    """The WhatsApp type under test."""
    return [WhatsAppChannel]


async def _conversation(hub_api: HubApi) -> tuple[int, int]:
    """A WhatsApp channel with one inbound text; its id and the conversation's."""
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{GRAPH}/{WABA_ID}/phone_numbers").respond(
            200, json={"data": [{"id": PHONE_NUMBER_ID}]}
        )
        created = await hub_api.create_channel("whatsapp", CONFIG)
    response = await hub_api.post_webhook(
        created.id, signed_sample("text", created.config["app_secret"])
    )
    assert response.status == 200, await response.text()
    [conversation] = [c for c in await hub_api.conversations() if c["channel_id"] == created.id]
    return created.id, int(conversation["id"])


async def test_outside_the_window_text_is_refused_and_a_template_is_sent(
    hub_api: HubApi,
) -> None:
    _, conversation_id = await _conversation(hub_api)
    await hub_api.backdate_last_inbound(conversation_id, hours=25)
    path = f"/api/v1/conversations/{conversation_id}/messages"

    with pytest.raises(HubApiError, match="window_closed"):
        await hub_api.call("POST", path, json={"text": "still there?"}, expect=201)
    with respx.mock(assert_all_called=False) as router:
        send = router.post(f"{GRAPH}/{PHONE_NUMBER_ID}/messages").respond(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": SENDER, "wa_id": SENDER}],
                "messages": [{"id": "wamid.TEMPLATE0001"}],
            },
        )
        queued = await hub_api.call(
            "POST",
            path,
            json={"template": {"name": "order_update", "language": "en_US", "parameters": ["42"]}},
            expect=201,
        )
        sent = await hub_api.delivered(int(queued["id"]))

    assert (sent["status"], sent["external_id"]) == ("sent", "wamid.TEMPLATE0001")
    body = json.loads(send.calls.last.request.content)
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}],
    }


async def test_the_composer_lists_the_accounts_approved_templates(hub_api: HubApi) -> None:
    channel_id, _ = await _conversation(hub_api)
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{GRAPH}/{WABA_ID}/message_templates").respond(
            200,
            json={
                "data": [
                    {
                        "name": "order_update",
                        "language": "en_US",
                        "status": "APPROVED",
                        "category": "UTILITY",
                        "components": [{"type": "BODY", "text": "Order {{1}} shipped"}],
                        "id": "594425479261596",
                    },
                    {
                        "name": "draft_one",
                        "language": "en_US",
                        "status": "PENDING",
                        "category": "MARKETING",
                        "components": [{"type": "BODY", "text": "Hi"}],
                        "id": "594425479261597",
                    },
                ],
                "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}},
            },
        )
        found = await hub_api.call("GET", f"/api/v1/channels/{channel_id}/templates")

    assert [(t["name"], t["parameters"]) for t in found["items"]] == [("order_update", 1)]


async def test_marking_read_sends_blue_ticks_for_the_contacts_message(hub_api: HubApi) -> None:
    _, conversation_id = await _conversation(hub_api)
    with respx.mock(assert_all_called=False) as router:
        read = router.post(f"{GRAPH}/{PHONE_NUMBER_ID}/messages").respond(
            200, json={"success": True}
        )
        await hub_api.call("POST", f"/api/v1/conversations/{conversation_id}/read")
        await hub_api.drain_signals()

    body = json.loads(read.calls.last.request.content)
    assert body == {"messaging_product": "whatsapp", "status": "read", "message_id": TEXT_ID}
