"""The logs in a real browser: replaying a held request from the inbound log, and
retrying a dead letter once the service is back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import appkeys
from hub.channels.admin import ChannelAdmin, ChannelChanges
from hub.events.work import unit_of_work
from hub.inbox.messages import Outgoing, send_message
from hub.store.models import Conversation, Message, OutboxItem
from tests.browser.fake_service import FakeService
from tests.browser.harness import BackgroundLoop, LiveHub, serve, wait_for

SIGNATURE_HEADER = "X-Hub-Signature-256"


@pytest.fixture
def hub_overrides() -> dict[str, Any]:
    """One attempt per delivery: a failing one is dead at once."""
    return {"outbox_max_attempts": 1}


def custom_channel(hub: LiveHub, outbound_url: str, *, enabled: bool = True) -> tuple[int, str]:
    """A custom channel made through the channel service: its id and signing secret."""
    saved = hub.add_channel(
        "custom_channel", "Acme app chat", {"outbound_url": outbound_url}, enabled=enabled
    )
    assert saved.config is not None
    return saved.channel.id, str(saved.config["signing_secret"])


def post_signed(
    hub: LiveHub, channel_id: int, secret: str, external_id: str
) -> tuple[httpx.Response, str]:
    """A message from the service to the channel's webhook, signed as the service does;
    the answer and the signature sent."""
    event = {
        "type": "message",
        "id": external_id,
        "timestamp": "2026-05-01T12:00:00Z",
        "sender": {"id": "u-42", "name": "Ada Lovelace"},
        "text": "Where is my order?",
    }
    response = hub.post_event(channel_id, secret, event)
    return response, response.request.headers[SIGNATURE_HEADER]


def test_replaying_a_held_request_from_the_inbound_log(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    page = owner_page
    channel_id, secret = custom_channel(hub, "http://127.0.0.1:9/replies", enabled=False)
    held, signature = post_signed(hub, channel_id, secret, "m-1")
    assert held.status_code == 200 and held.json()["result"] == "held"
    unsigned = httpx.post(f"{hub.url}/webhooks/{channel_id}", content=b"{}")
    assert unsigned.status_code == 401
    changes = ChannelChanges(enabled=True)
    hub.run(ChannelAdmin.of(hub.app).update(hub.viewer(), channel_id, changes))

    page.goto("/admin/inbound-log")
    expect(page.get_by_role("link", name="Entry #2")).to_be_visible()  # the rejected one
    page.get_by_label("Result").select_option("held")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Entry #2")).to_have_count(0)
    expect(page.get_by_label("Result")).to_have_value("held")  # the filter is kept
    snap("held")
    page.get_by_role("link", name="Entry #1").click()

    expect(page.get_by_role("heading", name="Inbound request #1")).to_be_visible()
    signature_row = page.get_by_role("row").filter(has_text=SIGNATURE_HEADER)
    expect(signature_row).to_contain_text("********")
    html = page.content()
    assert signature.removeprefix("sha256=") not in html and secret not in html

    page.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("status")).to_contain_text("Entry #1 replayed: 1 event stored.")
    page.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("status")).to_contain_text("1 already in the inbox")
    assert hub.count(Message, Message.channel_id == channel_id) == 1


def test_retrying_a_dead_letter_once_the_service_is_back(
    owner_page: Page, hub: LiveHub, background_loop: BackgroundLoop, snap: Callable[[str], None]
) -> None:
    page = owner_page
    service = FakeService(status=500)
    server = serve(background_loop, service.app())
    try:
        channel_id, secret = custom_channel(hub, f"{server.url}/replies")
        assert post_signed(hub, channel_id, secret, "m-1")[0].status_code == 200

        async def reply(db: AsyncSession) -> int:
            conversation_id = await db.scalar(
                select(Conversation.id).where(Conversation.channel_id == channel_id)
            )
            assert conversation_id is not None
            app = hub.app
            async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
                row = await send_message(
                    work,
                    hub.viewer(),
                    conversation_id,
                    Outgoing(text="It ships today"),
                    channels=app[appkeys.CHANNELS],
                )
            return row.message.id

        message_id = hub.query(reply)

        def status() -> str | None:
            async def read(db: AsyncSession) -> str | None:
                return await db.scalar(
                    select(OutboxItem.status).where(OutboxItem.message_id == message_id)
                )

            return hub.query(read)

        wait_for(lambda: status() == "dead", "the delivery is dead")

        page.goto(f"/admin/dead-letters?channel_id={channel_id}")
        row = page.get_by_role("row").filter(has_text="Ada Lovelace")
        expect(row).to_contain_text("gave up after 1 attempts")
        expect(row).to_contain_text("server error (500): service down")
        expect(row).to_contain_text("dead")
        snap("dead-letter")

        service.status = 200
        row.get_by_role("button", name="Retry").click()
        expect(page.get_by_role("status")).to_contain_text("is queued again")
        wait_for(lambda: status() == "done", "the retried delivery is sent")

        async def message_status(db: AsyncSession) -> str | None:
            return await db.scalar(select(Message.status).where(Message.id == message_id))

        assert hub.query(message_status) == "sent"
        assert len(service.requests) == 2
        page.reload()
        expect(page.get_by_text("No dead letters match these filters.")).to_be_visible()
    finally:
        server.stop()
