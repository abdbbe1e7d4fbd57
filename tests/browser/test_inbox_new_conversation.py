"""A new conversation with someone the hub has never heard from: the agent creates the
contact in the dialog, gives their address on a channel that can write first, and the
first message reaches the service once."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Contact, ContactIdentity, Conversation
from tests.browser.conftest import log_in
from tests.browser.harness import wait_for
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
