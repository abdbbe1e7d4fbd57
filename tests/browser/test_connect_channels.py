"""Connecting channels in a real browser: a custom channel end to end (cards → form →
routing → done page → a signed webhook stored), a Telegram bot against a fake Bot API,
a refused bot token shown inline, and editing credentials."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.crypto import ConfigCipher
from hub.store.models import Channel, Message
from hub.testing.webhooks import signed_headers
from tests.browser.fake_telegram import FakeTelegram
from tests.browser.harness import BackgroundLoop, LiveHub, serve

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
OTHER_TOKEN = "123456789:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw2"
WRONG_TOKEN = "555555555:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@pytest.fixture
def fake_telegram(background_loop: BackgroundLoop) -> Iterator[tuple[FakeTelegram, str]]:
    """The fake Bot API, accepting ``TOKEN`` and ``OTHER_TOKEN``; and its URL."""
    fake = FakeTelegram(tokens={TOKEN, OTHER_TOKEN})
    server = serve(background_loop, fake.app())
    yield fake, server.url
    server.stop()


def stored_config(hub: LiveHub, channel_id: int) -> dict[str, object]:
    """A channel's config as stored, decrypted."""

    async def read(db: AsyncSession) -> str:
        channel = await db.get(Channel, channel_id)
        assert channel is not None
        return channel.config_encrypted

    return ConfigCipher(hub.settings.secret_key).decrypt(hub.query(read))


def channel_id_in(url: str) -> int:
    match = re.search(r"/admin/channels/(\d+)/", url)
    assert match, url
    return int(match.group(1))


def finish_routing(page: Page) -> None:
    """The routing step (the channels helper's page): keep its defaults."""
    expect(page.get_by_role("heading", name="Step 2 of 3: routing")).to_be_visible()
    page.get_by_role("button", name="Save and finish").click()
    expect(page.get_by_role("heading", name="Channel connected")).to_be_visible()


def test_connect_a_custom_channel_end_to_end(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    page = owner_page
    page.goto("/admin/channels/new")
    expect(page.get_by_role("heading", name="Connect a channel")).to_be_visible()
    snap("cards")
    page.get_by_role("link", name=re.compile("^Custom channel")).click()
    expect(page.get_by_role("heading", name="Connect a custom channel")).to_be_visible()

    page.get_by_label("Channel name").fill("Acme app chat")
    page.get_by_label("Outbound URL").fill("http://127.0.0.1:9/hub/replies")
    expect(page.get_by_label("Conversation threading")).to_have_value("per_contact")
    snap("form")
    page.get_by_role("button", name="Connect").click()

    channel_id = channel_id_in(page.url)
    assert page.url.endswith(f"/admin/channels/{channel_id}/routing?setup=1")
    finish_routing(page)

    webhook = f"{hub.url}/webhooks/{channel_id}"
    expect(page.get_by_role("textbox", name="Webhook URL")).to_have_value(webhook)
    secret_input = page.get_by_role("textbox", name="Signing secret")
    secret = secret_input.input_value()
    assert secret == stored_config(hub, channel_id)["signing_secret"]
    expect(page.get_by_text("they will not be shown again")).to_be_visible()
    page.get_by_role("button", name="Copy Signing secret").click()
    expect(page.get_by_role("button", name="Copy Signing secret")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    snap("done")

    # The service, given the URL and secret, posts a signed message: the hub stores it.
    event = {
        "type": "message",
        "id": "m-1001",
        "timestamp": "2026-05-01T12:00:00Z",
        "sender": {"id": "u-42", "name": "Ada Lovelace"},
        "text": "Hello from the service",
    }
    body = json.dumps(event).encode()
    response = httpx.post(webhook, content=body, headers=signed_headers(secret, body))
    assert response.status_code == 200, response.text

    async def texts(db: AsyncSession) -> list[str | None]:
        query = select(Message.text).where(Message.channel_id == channel_id)
        return list(await db.scalars(query))

    assert hub.query(texts) == ["Hello from the service"]

    # Once left, the page no longer shows the secret.
    page.reload()
    expect(page.get_by_text("no longer shown")).to_be_visible()
    expect(page.get_by_role("textbox", name="Signing secret")).to_have_count(0)


def test_connect_a_telegram_bot_against_a_fake_bot_api(
    owner_page: Page,
    hub: LiveHub,
    fake_telegram: tuple[FakeTelegram, str],
    snap: Callable[[str], None],
) -> None:
    fake, api_url = fake_telegram
    page = owner_page
    page.goto("/admin/channels/new")
    page.get_by_role("link", name=re.compile("^Telegram")).click()
    page.get_by_label("Channel name").fill("Shop bot")
    page.get_by_label("Bot token").fill(TOKEN)
    page.get_by_text("Advanced settings").click()
    page.get_by_label("Bot API server").fill(api_url)
    page.get_by_role("button", name="Connect").click()
    channel_id = channel_id_in(page.url)
    finish_routing(page)

    webhook = f"{hub.url}/webhooks/{channel_id}"
    assert [call.method for call in fake.calls] == ["getMe", "setWebhook"]
    set_webhook = fake.calls_to("setWebhook")[0]
    assert set_webhook.token == TOKEN and set_webhook.params["url"] == webhook
    secret_token = set_webhook.params["secret_token"]
    assert isinstance(secret_token, str) and len(secret_token) > 30
    # The generated webhook secret is the one Telegram was given, shown once.
    expect(page.get_by_role("textbox", name="Webhook secret")).to_have_value(secret_token)
    expect(page.get_by_role("textbox", name="Webhook URL")).to_have_value(webhook)
    snap("done")


def test_a_refused_bot_token_is_shown_beside_the_form(
    owner_page: Page,
    hub: LiveHub,
    fake_telegram: tuple[FakeTelegram, str],
    snap: Callable[[str], None],
) -> None:
    fake, api_url = fake_telegram
    page = owner_page
    page.goto("/admin/channels/new/telegram")
    page.get_by_label("Channel name").fill("Shop bot")
    page.get_by_label("Bot token").fill(WRONG_TOKEN)
    page.get_by_text("Advanced settings").click()
    page.get_by_label("Bot API server").fill(api_url)
    page.get_by_role("button", name="Connect").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The provider refused these credentials")
    expect(alert).to_contain_text("Telegram refused the bot token (401 Unauthorized)")
    expect(page.get_by_label("Channel name")).to_have_value("Shop bot")
    expect(page.get_by_label("Bot token")).to_have_value("")  # secrets are typed again
    expect(page.get_by_label("Bot API server")).to_have_value(api_url)
    assert [call.token for call in fake.calls] == [WRONG_TOKEN]

    async def count(db: AsyncSession) -> int:
        return len(list(await db.scalars(select(Channel.id))))

    assert hub.query(count) == 0

    # At a phone's width the form and its message still fit.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    snap("phone")


def test_edit_a_channels_credentials(
    owner_page: Page,
    hub: LiveHub,
    fake_telegram: tuple[FakeTelegram, str],
    snap: Callable[[str], None],
) -> None:
    fake, api_url = fake_telegram
    config = {"bot_token": TOKEN, "api_base_url": api_url}
    channel_id = hub.add_channel("telegram", "Shop bot", config).channel.id
    before = stored_config(hub, channel_id)
    fake.calls.clear()

    page = owner_page
    page.goto(f"/admin/channels/{channel_id}/edit")
    expect(page.get_by_role("heading", name="Edit Shop bot")).to_be_visible()
    expect(page.get_by_label("Bot token")).to_have_value("")
    expect(page.get_by_text("Leave empty to keep the current value.").first).to_be_visible()
    page.get_by_label("Channel name").fill("Shop bot (new token)")
    page.get_by_label("Bot token").fill(OTHER_TOKEN)
    snap("form")
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(f"{hub.url}/admin/channels/{channel_id}")
    expect(page.get_by_text("Saved the changes to Shop bot (new token).")).to_be_visible()
    after = stored_config(hub, channel_id)
    assert after["bot_token"] == OTHER_TOKEN
    assert after["secret_token"] == before["secret_token"]  # left empty: kept
    assert [(call.token, call.method) for call in fake.calls] == [
        (OTHER_TOKEN, "getMe"),
        (OTHER_TOKEN, "setWebhook"),
    ]
