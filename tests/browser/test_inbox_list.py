"""The inbox's sidebar and list in the browser: live counts and dots, paging by scrolling,
custom inboxes (made and edited by their creator, read-only for others), search, what a
restricted agent gets, and the list on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Conversation, Message, User
from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub
from tests.browser.inbox_world import InboxWorld


def inbox_link(page: Page, name: str) -> Locator:
    return page.locator("#inbox-sidebar").get_by_role("link", name=re.compile(rf"^{name}\b"))


def dot_of(page: Page, name: str) -> Locator:
    return inbox_link(page, name).locator("[data-dot]")


def api(page: Page, method: str, path: str, body: object = None) -> object:
    """Call the REST API from the page, as the logged-in user (session + CSRF token)."""
    return page.evaluate(
        """async ([method, path, body]) => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const response = await fetch(path, {method, headers: {"Content-Type": "application/json",
            "X-CSRF-Token": token}, body: body === null ? undefined : JSON.stringify(body)});
          return response.status;
        }""",
        [method, path, body],
    )


def set_visibility(hub: LiveHub, email: str, visibility: str) -> None:
    async def change(db: AsyncSession) -> None:
        await db.execute(update(User).where(User.email == email).values(visibility=visibility))
        await db.commit()

    hub.query(change)


def test_counts_and_dots_follow_new_messages_and_opening_an_inbox_clears_its_dot(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    log_in(page, "owner@example.com")
    expect(inbox_link(page, "All")).to_have_attribute("aria-current", "page")
    expect(page.locator("#rows")).to_contain_text("all caught up")

    world.customer_writes("ada-lovelace", "Hello, is anyone there?")
    row = page.locator("#rows .row")
    expect(row).to_have_count(1)
    # The counts and the dot follow live: an unread, unassigned conversation dots
    # Unassigned (above All in priority).
    expect(inbox_link(page, "Unassigned").locator("[data-count]")).to_have_text(re.compile(r"^1"))
    expect(inbox_link(page, "All").locator("[data-count]")).to_have_text(re.compile(r"^1"))
    expect(dot_of(page, "Unassigned")).to_have_count(1)
    expect(dot_of(page, "All")).to_have_count(0)
    expect(dot_of(page, "Mine")).to_have_count(0)
    snap("unassigned-dot")

    # Assigned to me: the dot moves to Mine.
    conversation_id = row.get_attribute("data-conversation-id")
    owner_id = page.locator("#inbox").get_attribute("data-user-id")
    assert owner_id is not None
    status = api(
        page, "POST", f"/api/v1/conversations/{conversation_id}/assign", {"user_id": int(owner_id)}
    )
    assert status == 200
    expect(dot_of(page, "Mine")).to_have_count(1)
    expect(dot_of(page, "Unassigned")).to_have_count(0)
    expect(inbox_link(page, "Mine").locator("[data-count]")).to_have_text(re.compile(r"^1"))

    # Opening Mine puts its dot out, for good (a reload keeps it out)...
    inbox_link(page, "Mine").click()
    expect(inbox_link(page, "Mine")).to_have_attribute("aria-current", "page")
    expect(dot_of(page, "Mine")).to_have_count(0)
    page.reload()
    expect(page.locator("#rows .row")).to_have_count(1)
    expect(dot_of(page, "Mine")).to_have_count(0)
    # ...until a new message arrives while the user looks elsewhere.
    inbox_link(page, "All").click()
    expect(inbox_link(page, "All")).to_have_attribute("aria-current", "page")
    world.customer_writes("ada-lovelace", "Still waiting")
    expect(dot_of(page, "Mine")).to_have_count(1)
    snap("mine-dot-back")


def test_the_list_pages_as_it_scrolls_through_60_conversations(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    for n in range(60):
        world.customer_writes(f"customer-{n:02d}", f"Message number {n}")
    log_in(page, "owner@example.com")
    rows = page.locator("#rows .row")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("Customer 59")
    for shown in (50, 60):
        page.locator("#rows").evaluate("list => { list.scrollTop = list.scrollHeight; }")
        expect(rows).to_have_count(shown)
    expect(page.locator("#rows [data-more]")).to_have_count(0)
    names = rows.locator(".row-name").all_inner_texts()
    assert names == [f"Customer {n:02d}" for n in range(59, -1, -1)]
    snap("scrolled")


def test_a_custom_inbox_is_made_and_edited_by_its_creator_and_read_only_for_others(
    page: Page,
    world: InboxWorld,
    browser: Browser,
    hub: LiveHub,
    artifacts: Path,
    snap: Callable[[str], None],
) -> None:
    hub.add_user("mia@example.com", role="manager", name="Mia Manager")
    world.customer_writes("ada-lovelace", "First question")
    log_in(page, "owner@example.com")
    expect(page.locator("#rows .row")).to_have_count(1)

    page.get_by_role("button", name="New custom inbox from the current filters").click()
    dialog = page.get_by_role("dialog", name="New custom inbox")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill("Acme open")
    dialog.get_by_role("group", name="Channels").get_by_label("Acme chat").check()
    dialog.get_by_role("group", name="Share with people").get_by_label("Mia Manager").check()
    # From the current filters: the Open tab.
    expect(dialog.get_by_role("group", name="Status").get_by_label("Open")).to_be_checked()
    snap("new-dialog")
    dialog.get_by_role("button", name="Create").click()

    expect(page.get_by_role("heading", name="Acme open", level=1)).to_be_visible()
    expect(page.locator("#rows .row")).to_have_count(1)
    expect(page.locator("[data-custom-list]")).to_contain_text("Last updated just now")
    # A custom inbox does not update live: Refresh brings the new conversation.
    world.customer_writes("grace-hopper", "Second question")
    expect(inbox_link(page, "All").locator("[data-count]")).to_have_text(re.compile(r"^2"))
    expect(page.locator("#rows .row")).to_have_count(1)
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#rows .row")).to_have_count(2)

    page.get_by_role("button", name="Edit").click()
    edit = page.get_by_role("dialog", name=re.compile("Edit"))
    edit.get_by_label("Name").fill("Acme, open ones")
    edit.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Acme, open ones", level=1)).to_be_visible()
    snap("custom-inbox")

    other = browser.new_context(base_url=hub.url, viewport={"width": 1280, "height": 900})
    mia = other.new_page()
    try:
        log_in(mia, "mia@example.com")
        shared = inbox_link(mia, "Acme, open ones")
        expect(shared).to_be_visible()
        mia.get_by_role("button", name="By me").click()
        expect(shared).to_be_hidden()
        mia.get_by_role("button", name="By others").click()
        expect(shared).to_be_visible()
        shared.click()
        expect(mia.locator("[data-custom-list]")).to_contain_text(
            "Shared by Olive Owner · read-only"
        )
        expect(mia.get_by_role("button", name="Edit")).to_have_count(0)
        mia.get_by_role("button", name="About").click()
        about = mia.get_by_role("dialog", name="Acme, open ones")
        expect(about).to_contain_text("Channels: Acme chat")
        expect(about).to_contain_text("Only they can change it")
        mia.screenshot(path=str(artifacts / "custom-inbox-read-only.png"), full_page=True)
        # The API refuses a change from her as well.
        view = mia.locator("#inbox").get_attribute("data-view") or ""
        inbox_id = view.removeprefix("custom:")
        assert api(mia, "PATCH", f"/api/v1/custom-inboxes/{inbox_id}", {"name": "Mine now"}) == 403
    finally:
        other.close()


def test_search_finds_a_message_and_opens_the_conversation_at_it(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "My parcel to Lisbon is late")
    world.customer_writes("grace-hopper", "Do you sell gift cards?")
    log_in(page, "owner@example.com")
    expect(page.locator("#rows .row")).to_have_count(2)

    search = page.get_by_role("searchbox", name="Search messages, comments and contacts")
    search.fill("lisbon")
    search.press("Enter")
    hits = page.locator("#search-hits .hit")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("Ada Lovelace")
    expect(hits.first).to_contain_text("My parcel to Lisbon is late")
    expect(page).to_have_url(re.compile(r"/inbox/search\?q=lisbon"))
    snap("hits")

    async def message_id(db: AsyncSession) -> int | None:
        return await db.scalar(select(Message.id).where(Message.text.like("%Lisbon%")))

    found = hub.query(message_id)
    hits.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"item=message(%3A|:){found}"))
    expect(page.get_by_role("heading", name="Ada Lovelace", level=2)).to_be_visible()
    expect(page.locator(f"#message-{found}")).to_be_visible()


def test_a_restricted_agent_sees_only_mine_and_nothing_else_even_by_url(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    agent = hub.add_user("ann@example.com", role="agent", name="Ann Agent")
    set_visibility(hub, "ann@example.com", "assigned")
    world.customer_writes("ada-lovelace", "For Ann")
    world.customer_writes("grace-hopper", "Not for Ann")

    async def assign(db: AsyncSession) -> tuple[int, int]:
        conversations = (await db.scalars(select(Conversation).order_by(Conversation.id))).all()
        conversations[0].assignee_id = agent.id
        await db.commit()
        return conversations[0].id, conversations[1].id

    hers, other = hub.query(assign)
    log_in(page, "ann@example.com")
    expect(page).to_have_url(re.compile(r"/inbox$"))
    sidebar = page.locator("#inbox-sidebar")
    expect(sidebar.locator("[data-view]")).to_have_count(1)
    expect(inbox_link(page, "Mine")).to_have_attribute("aria-current", "page")
    expect(page.locator("#rows .row")).to_have_count(1)
    expect(page.locator(f"#row-{hers}")).to_contain_text("Ada Lovelace")
    snap("mine-only")

    response = page.goto(f"/inbox/conversations/{other}")
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text("Not for Ann")
    response = page.goto("/inbox?view=all")
    assert response is not None and response.status == 403


def test_the_list_on_a_phone(page: Page, world: InboxWorld, snap: Callable[[str], None]) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    world.customer_writes("ada-lovelace", "Hello from my phone, a rather long first message")
    world.customer_writes("grace-hopper", "Do you ship to Lisbon?")
    log_in(page, "owner@example.com")
    rows = page.locator("#rows .row")
    expect(rows).to_have_count(2)
    # The inboxes fold behind ☰, so the list starts at the top of the screen.
    expect(page.locator("#inbox-side")).to_be_hidden()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide"
    snap("phone-list")
    toggle = page.get_by_role("button", name="Inboxes")
    toggle.click()
    expect(page.locator("#inbox-side")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    snap("phone-inboxes")
    inbox_link(page, "Unassigned").click()
    expect(page.get_by_role("heading", name="Unassigned", level=1)).to_be_visible()
    expect(rows).to_have_count(2)
