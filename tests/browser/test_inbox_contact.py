"""The inbox's contact panel and notification bell in the browser: editing a contact in
place, merging a suggested duplicate, opening an earlier conversation; the bell counting
mentions and assignments live, opening their conversation; settings turning a kind off;
the contact pane on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Contact, Conversation
from hub.store.types import utcnow
from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub
from tests.browser.inbox_world import InboxWorld


@contextmanager
def second_page(browser: Browser, hub: LiveHub) -> Iterator[Page]:
    """A page in a browser context of its own (another agent's browser)."""
    context = browser.new_context(base_url=hub.url, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
    finally:
        context.close()


def contact_named(hub: LiveHub, name: str) -> Contact:
    async def find(db: AsyncSession) -> Contact:
        return (await db.scalars(select(Contact).where(Contact.name == name))).one()

    return hub.query(find)


def conversation_of(hub: LiveHub, contact_id: int) -> int:
    async def find(db: AsyncSession) -> int:
        query = select(Conversation.id).where(Conversation.contact_id == contact_id)
        return int((await db.scalars(query)).first() or 0)

    return hub.query(find)


def earlier_conversation(hub: LiveHub, subject: str) -> int:
    async def find(db: AsyncSession) -> int:
        query = select(Conversation.id).where(Conversation.subject == subject)
        return int((await db.scalars(query)).one())

    return hub.query(find)


def add_twin(hub: LiveHub, channel_id: int, phone: str) -> None:
    """Another contact with the same phone, with a closed conversation of last week."""

    async def add(db: AsyncSession) -> None:
        twin = Contact(name="Ada L.", phone=phone, fields={})
        db.add(twin)
        await db.flush()
        week_ago = utcnow() - timedelta(days=7)
        db.add(
            Conversation(
                contact_id=twin.id,
                channel_id=channel_id,
                status="closed",
                subject="Order 1041",
                last_message_at=week_ago,
                opened_at=week_ago,
                status_changed_at=week_ago,
                closed_at=week_ago,
            )
        )
        await db.commit()

    hub.query(add)


def call_api(page: Page, method: str, url: str, body: dict[str, Any]) -> Any:
    """Call the REST API from the page, with its session and CSRF token, as its
    scripts do."""
    return page.evaluate(
        """async ([method, url, body]) => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const response = await fetch(url, {
            method, credentials: "same-origin", body: JSON.stringify(body),
            headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
          });
          return [response.status, await response.json()];
        }""",
        [method, url, body],
    )


def test_edit_the_contact_merge_its_twin_and_open_an_earlier_conversation(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Where is my parcel?")
    add_twin(world.hub, world.channel_id, "+4915123456789")
    log_in(page, "owner@example.com")
    page.get_by_role("list", name="All").get_by_role("link", name="Ada Lovelace").click()
    panel = page.get_by_role("complementary", name="Contact")
    expect(panel.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    phone = panel.locator('[data-field="phone"]')
    expect(phone.locator(".field-value")).to_have_text("-")

    # A number without a country code is refused, with the reason beside the field.
    panel.get_by_role("button", name="Edit phone").click()
    field = panel.get_by_role("textbox", name="Phone")
    expect(field).to_be_focused()
    field.fill("0151 23456789")
    field.press("Enter")
    error = phone.get_by_role("alert")
    expect(error).to_contain_text("start with + and the country code")
    expect(field).to_have_attribute("aria-invalid", "true")
    snap("phone-refused")

    # A good one is saved in E.164 and shown formatted.
    field.fill("+49 (151) 234-567-89")
    phone.get_by_role("button", name="Save").click()
    expect(phone.locator(".field-value")).to_have_text("+49 1512 3456789")
    expect(panel.get_by_role("button", name="Edit phone")).to_be_focused()
    assert contact_named(world.hub, "Ada Lovelace").phone == "+4915123456789"

    # Now the twin with that phone is a suggested duplicate: merge it, after confirming.
    suggestion = panel.locator(".merge-suggestion")
    expect(suggestion).to_contain_text("Ada L.")
    expect(suggestion).to_contain_text("same phone")
    panel.get_by_role("button", name="Merge Ada L. into Ada Lovelace").click()
    dialog = page.get_by_role("dialog", name="Merge contacts?")
    expect(dialog).to_contain_text("Merge Ada L. into Ada Lovelace?")
    snap("merge-confirm")
    dialog.get_by_role("button", name="Merge").click()
    expect(suggestion).to_have_count(0)

    # The twin's conversation is Ada's now: an earlier conversation that opens in place.
    tab = panel.get_by_role("tab", name=re.compile("Earlier"))
    tab.focus()
    page.keyboard.press("ArrowLeft")  # the tabs move by arrow keys
    expect(panel.get_by_role("tab", name="Activity")).to_have_attribute("aria-selected", "true")
    expect(panel.get_by_role("tabpanel", name="Activity")).to_contain_text("merged")
    page.keyboard.press("ArrowRight")
    expect(tab).to_have_attribute("aria-selected", "true")
    earlier = panel.get_by_role("tabpanel", name=re.compile("Earlier"))
    expect(earlier).to_be_visible()
    snap("earlier")
    earlier.get_by_role("link", name=re.compile("Order 1041")).click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=2)).to_be_visible()
    expect(page.locator("#conversation .pane-sub")).to_contain_text("closed")
    ada = contact_named(world.hub, "Ada Lovelace")
    older = earlier_conversation(world.hub, "Order 1041")
    expect(page.locator(".pane")).to_have_attribute("data-conversation-id", str(older))
    expect(page.locator(".pane")).to_have_attribute("data-contact-id", str(ada.id))
    expect(page).to_have_url(re.compile(rf"/inbox/conversations/{older}\b"))


def test_the_bell_counts_mentions_and_assignments_live_and_opens_them(
    page: Page,
    browser: Browser,
    world: InboxWorld,
    snap: Callable[[str], None],
    artifacts: Path,
) -> None:
    bea_user = world.hub.add_user("bea@example.com", role="agent", name="Bea Agent")
    world.customer_writes("ada-lovelace", "Hello?")
    conversation_id = conversation_of(world.hub, contact_named(world.hub, "Ada Lovelace").id)
    log_in(page, "owner@example.com")
    with second_page(browser, world.hub) as bea:
        log_in(bea, "bea@example.com")
        bell = bea.get_by_role("button", name=re.compile("Notifications"))
        expect(bell).to_be_visible()
        expect(bea.locator("[data-bell-count]")).to_be_hidden()

        status, _ = call_api(
            page,
            "POST",
            f"/api/v1/conversations/{conversation_id}/comments",
            {"body": "@Bea Agent can you take this?", "mentions": [bea_user.id]},
        )
        assert status == 201
        expect(bea.locator("[data-bell-count]")).to_have_text(re.compile(r"^1\s*unread"))

        status, _ = call_api(
            page,
            "POST",
            f"/api/v1/conversations/{conversation_id}/assign",
            {"user_id": bea_user.id},
        )
        assert status == 200
        expect(bea.locator("[data-bell-count]")).to_have_text(re.compile(r"^2\s*unread"))

        bell.click()
        expect(bell).to_have_attribute("aria-expanded", "true")
        menu = bea.get_by_role("region", name="Notifications")
        expect(menu.locator("[data-notification]")).to_have_count(2)
        expect(menu.locator("[data-notification]").first).to_contain_text(
            "Olive Owner assigned you Ada Lovelace"
        )
        mention = menu.get_by_role("link", name=re.compile("Olive Owner mentioned you"))
        expect(mention).to_contain_text("can you take this?")
        bea.screenshot(path=str(artifacts / "test_inbox_contact-bea-bell.png"), full_page=True)
        mention.click()
        expect(bea.get_by_role("heading", name="Ada Lovelace", level=2)).to_be_visible()
        expect(bea.get_by_role("log")).to_contain_text("can you take this?")
        expect(menu).to_be_hidden()
        expect(bea.locator("[data-bell-count]")).to_have_text(re.compile(r"^1\s*unread"))

        # Escape closes the menu and gives the focus back to the bell.
        bell.click()
        expect(menu).to_be_visible()
        bea.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        expect(bell).to_be_focused()

        # Mark all read: the count goes.
        bell.click()
        menu.get_by_role("button", name="Mark all read").click()
        expect(bea.locator("[data-bell-count]")).to_be_hidden()
    snap("owner")


def test_settings_turn_mentions_off(
    page: Page, browser: Browser, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    bea_user = world.hub.add_user("bea@example.com", role="agent", name="Bea Agent")
    world.customer_writes("ada-lovelace", "Hello?")
    conversation_id = conversation_of(world.hub, contact_named(world.hub, "Ada Lovelace").id)
    log_in(page, "owner@example.com")
    with second_page(browser, world.hub) as bea:
        log_in(bea, "bea@example.com")
        bea.goto("/me")
        settings = bea.get_by_role("region", name="Notifications")
        settings.get_by_label("Mentions of me in comments").uncheck()
        settings.get_by_role("button", name="Save notification settings").click()
        expect(bea.get_by_text("Your notification settings are saved.")).to_be_visible()
        expect(bea.get_by_label("Mentions of me in comments")).not_to_be_checked()
        expect(bea.get_by_label("Conversations assigned to me", exact=True)).to_be_checked()
        bea.goto("/inbox")
        bell = bea.get_by_role("button", name=re.compile("Notifications"))

        call_api(
            page,
            "POST",
            f"/api/v1/conversations/{conversation_id}/comments",
            {"body": "psst", "mentions": [bea_user.id]},
        )
        call_api(
            page,
            "POST",
            f"/api/v1/conversations/{conversation_id}/assign",
            {"user_id": bea_user.id},
        )
        # The assignment arrives; the mention before it never does.
        expect(bea.locator("[data-bell-count]")).to_have_text(re.compile(r"^1\s*unread"))
        bell.click()
        menu = bea.get_by_role("region", name="Notifications")
        expect(menu.locator("[data-notification]")).to_have_count(1)
        expect(menu).to_contain_text("assigned you")
        expect(menu).not_to_contain_text("mentioned")


def test_the_contact_pane_on_a_phone(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Hi from my phone")
    log_in(page, "owner@example.com")
    page.set_viewport_size({"width": 375, "height": 740})
    page.get_by_role("list", name="All").get_by_role("link", name="Ada Lovelace").click()
    page.get_by_role("button", name="Contact").click()
    panel = page.get_by_role("complementary", name="Contact")
    expect(panel.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("log")).to_be_hidden()
    edit = panel.get_by_role("button", name="Edit email")
    box = edit.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    snap("contact-375")
    edit.click()
    panel.get_by_role("textbox", name="Email").fill("ada@example.com")
    panel.get_by_role("button", name="Save").click()
    expect(panel.locator('[data-field="email"] .field-value')).to_have_text("ada@example.com")
    bell = page.get_by_role("button", name=re.compile("Notifications"))
    bell.click()
    expect(page.get_by_role("region", name="Notifications")).to_be_visible()
    snap("bell-375")
    page.keyboard.press("Escape")
    panel.get_by_role("button", name="Back to the conversation").click()
    expect(page.get_by_role("log")).to_be_visible()
