"""A new conversation with someone the hub has never heard from: the agent creates the
contact in the dialog, gives their address on a channel that can write first, and the
first message reaches the service once."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Contact, ContactIdentity, Conversation
from tests.browser.conftest import log_in
from tests.browser.harness import BackgroundLoop, serve, wait_for
from tests.browser.inbox_world import InboxWorld


def identities(world: InboxWorld) -> list[tuple[str, int, str]]:
    async def rows(db: AsyncSession) -> list[tuple[str, int, str]]:
        found = await db.execute(
            select(Contact.name, ContactIdentity.channel_id, ContactIdentity.external_id).join(
                ContactIdentity, ContactIdentity.contact_id == Contact.id
            )
        )
        return [(name, channel, external) for name, channel, external in found.all()]

    return world.hub.query(rows)


def test_create_a_contact_and_write_first_on_a_channel(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    log_in(page, "owner@example.com")
    page.goto("/inbox")
    page.set_viewport_size({"width": 375, "height": 740})
    page.get_by_role("button", name="New conversation").click()
    dialog = page.get_by_role("dialog", name="New conversation")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("group", name="New contact")).to_be_hidden()
    dialog.get_by_role("button", name="New contact").click()
    expect(dialog.get_by_role("button", name="New contact")).to_have_attribute(
        "aria-expanded", "true"
    )
    # Nothing given: the dialog says what is missing and creates nobody.
    dialog.get_by_role("button", name="Create contact").click()
    expect(dialog.get_by_role("alert")).to_contain_text("name, phone or email")
    dialog.get_by_label("Name", exact=True).fill("Rosa")
    dialog.get_by_label("Email").fill("rosa@example.com")
    snap("phone-new-contact")
    dialog.get_by_role("button", name="Create contact").click()

    contact = dialog.get_by_label("Contact", exact=True)
    expect(contact.locator("option:checked")).to_have_text("Rosa · rosa@example.com")
    channel = dialog.get_by_label("Channel")
    expect(channel).to_have_value(str(world.channel_id))
    expect(channel.locator("option:checked")).to_contain_text("new address")
    address = dialog.get_by_label("Address")
    expect(address).to_be_visible()
    dialog.get_by_label("Message").fill("Hello Rosa, your table is booked.")
    # No address yet: refused in the dialog, nothing sent.
    dialog.get_by_role("button", name="Start conversation").click()
    expect(dialog).to_be_visible()
    assert world.replies() == []
    address.fill("  rosa-77 ")
    snap("phone-dialog")
    dialog.get_by_role("button", name="Start conversation").click()

    expect(dialog).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/inbox/conversations/\d+"))
    expect(page.get_by_role("log")).to_contain_text("Hello Rosa, your table is booked.")
    wait_for(lambda: len(world.replies()) == 1, "the service has the first message")
    reply = world.replies()[0]
    assert reply["text"] == "Hello Rosa, your table is booked."
    assert reply["recipient"]["id"] == "rosa-77"
    assert identities(world) == [("Rosa", world.channel_id, "rosa-77")]
    assert world.hub.count(Conversation) == 1
    snap("phone-opened")
    page.set_viewport_size({"width": 1280, "height": 900})
    # Rosa now has the channel: the dialog offers it without asking for an address.
    page.get_by_role("button", name="New conversation").click()
    dialog.get_by_label("Find a contact").fill("rosa")
    expect(contact.locator("option")).to_have_count(1)
    expect(channel.locator("option:checked")).not_to_contain_text("new address")
    expect(dialog.get_by_label("Address")).to_be_hidden()
    snap("desktop-known-channel")
    wait_for(lambda: len(world.replies()) == 1, "still one message at the service")


class FakeGraph:
    """Just enough of Meta's Graph API for a WhatsApp channel: its number (connect), one
    approved template with a parameter, and sending (recorded)."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{version}/{waba}/phone_numbers", self._numbers)
        app.router.add_get("/{version}/{waba}/message_templates", self._templates)
        app.router.add_post("/{version}/{number}/messages", self._send)
        return app

    async def _numbers(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": PHONE_NUMBER_ID, "display_phone_number": "1"}]})

    async def _templates(self, request: web.Request) -> web.Response:
        body = {"type": "BODY", "text": "Hello {{1}}, we have news about your order."}
        template = {"name": "order_news", "language": "en_US", "status": "APPROVED"}
        return web.json_response({"data": [{**template, "components": [body]}]})

    async def _send(self, request: web.Request) -> web.Response:
        self.sent.append(await request.json())
        return web.json_response({"messages": [{"id": f"wamid.{len(self.sent)}"}]})


PHONE_NUMBER_ID = "1234567890"


def test_a_new_whatsapp_number_is_written_to_with_a_template(
    page: Page,
    world: InboxWorld,
    background_loop: BackgroundLoop,
    snap: Callable[[str], None],
) -> None:
    graph = FakeGraph()
    server = serve(background_loop, graph.app())
    try:
        config = {
            "phone_number_id": PHONE_NUMBER_ID,
            "business_account_id": "9876543210",
            "access_token": "token",
            "app_secret": "secret",
            "api_base_url": server.url,
        }
        wa = world.hub.add_channel("whatsapp", "Shop WhatsApp", config).channel
        log_in(page, "owner@example.com")
        page.goto("/inbox")
        page.get_by_role("button", name="New conversation").click()
        dialog = page.get_by_role("dialog", name="New conversation")
        dialog.get_by_role("button", name="New contact").click()
        dialog.get_by_label("Name", exact=True).fill("Rosa")
        dialog.get_by_label("Phone (with country code)").fill("+49 151 23456789")
        dialog.get_by_role("button", name="Create contact").click()
        channel = dialog.get_by_label("Channel")
        expect(channel.locator("option")).to_have_count(2)  # Acme chat and WhatsApp
        channel.select_option(str(wa.id))
        # The contact's phone is offered as the address; the picker replaces free text.
        expect(dialog.get_by_label("Address")).to_have_value("+4915123456789")
        expect(dialog.get_by_label("Message")).to_be_hidden()
        expect(dialog).to_contain_text("lets you write first only with an approved template")
        dialog.get_by_label("Template", exact=True).select_option(label="order_news (en_US)")
        dialog.get_by_label("Parameter 1").fill("Rosa")
        snap("whatsapp-template")
        dialog.get_by_role("button", name="Start conversation").click()

        expect(dialog).to_be_hidden()
        expect(page).to_have_url(re.compile(r"/inbox/conversations/\d+"))
        wait_for(lambda: len(graph.sent) == 1, "Graph has the template")
        sent = graph.sent[0]
        assert sent["to"] == "4915123456789"
        assert sent["type"] == "template"
        assert sent["template"]["name"] == "order_news"
        assert ("Rosa", wa.id, "4915123456789") in identities(world)
        assert world.replies() == []
    finally:
        server.stop()
