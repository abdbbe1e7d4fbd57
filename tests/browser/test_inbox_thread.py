"""The conversation pane in the browser: every kind of item shown (and hostile content
inert), the image viewer, retrying a failed reply, closing with a mandatory note,
snoozing until a near time, assigning, and a copied link that survives a login."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.inbox.workspace import save_workspace_settings
from hub.media.store import media_store_of
from hub.store.models import Attachment, Conversation, Message
from hub.store.types import utcnow
from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub, wait_for
from tests.browser.inbox_world import InboxWorld
from tests.conftest import PASSWORD

# A one-pixel PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f0005000201a5f1e1d90000000049454e44ae426082"
)
HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'


@pytest.fixture
def hub_overrides() -> dict[str, Any]:
    """Snoozes checked every half second; a delivery given up after two tries."""
    return {"snooze_check_seconds": 0.5, "outbox_max_attempts": 2}


def _conversation_id(hub: LiveHub) -> int:
    async def first(db: AsyncSession) -> int:
        return int(await db.scalar(select(Conversation.id).order_by(Conversation.id)) or 0)

    return hub.query(first)


def _open(page: Page, name: str) -> None:
    page.get_by_role("list", name="All").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=2)).to_be_visible()


def _seed_everything(hub: LiveHub, conversation_id: int) -> dict[str, int]:
    """Messages of every kind in the conversation, hostile where they can be."""

    async def seed(db: AsyncSession) -> dict[str, int]:
        conversation = await db.get_one(Conversation, conversation_id)
        now = utcnow()

        def message(text: str | None, minutes: int, **kwargs: Any) -> Message:
            row = Message(
                conversation_id=conversation.id,
                channel_id=conversation.channel_id,
                direction=kwargs.pop("direction", "in"),
                status=kwargs.pop("status", "received"),
                text=text,
                created_at=now - timedelta(minutes=minutes),
                **kwargs,
            )
            db.add(row)
            return row

        photo = message(None, 50)
        parts = [
            {"kind": "location", "latitude": 38.7223, "longitude": -9.1393, "name": HOSTILE},
            {"kind": "contact_card", "name": "Grace Hopper", "phones": ["+1 555 0100"]},
            {"kind": "sticker", "emoji": "🐱"},
            {"kind": "unsupported", "raw_type": "poll", "description": "a poll: " + HOSTILE},
        ]
        message(None, 45, parts=parts)
        edited = message(
            "Now with the right number",
            40,
            edit_history=[{"text": "First try", "parts": [], "replaced_at": now.isoformat()}],
        )
        await db.flush()
        message("That one, yes", 35, reply_to_id=photo.id)
        message(
            "👍",
            30,
            parts=[{"kind": "reaction", "target_external_id": "x", "emoji": "👍"}],
            reply_to_id=edited.id,
        )
        message("Pending one", 20, direction="out", status="pending")
        message("Read one", 10, direction="out", status="read")
        sha = await media_store_of(hub.app, hub.settings).put(PNG)
        db.add(
            Attachment(
                message_id=photo.id,
                sha256=sha,
                filename='"><svg onload=alert(1)>.png',
                content_type="image/png",
                size=len(PNG),
            )
        )
        await db.commit()
        return {"photo": photo.id, "edited": edited.id}

    return hub.query(seed)


def test_every_kind_of_item_shows_and_hostile_content_stays_inert(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", HOSTILE)
    ids = _seed_everything(world.hub, _conversation_id(world.hub))
    log_in(page, "owner@example.com")
    _open(page, "Ada Lovelace")
    thread = page.get_by_role("log")
    expect(thread).to_contain_text("window.pwned=2")  # shown as text
    expect(thread).to_contain_text("Unsupported message")
    expect(thread).to_contain_text("Grace Hopper")
    expect(thread).to_contain_text("🐱")
    expect(thread.get_by_role("link", name=re.compile("<img src=x"))).to_have_attribute(
        "href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat=38\.7223")
    )
    expect(thread.locator(".day-separator").first).to_be_visible()
    expect(page.locator(f"#message-{ids['edited']} .reactions")).to_contain_text("👍")
    expect(thread.locator(".delivery-read")).to_contain_text("Read")
    expect(thread.locator(".delivery-pending")).to_contain_text("Sending")
    page.locator(f"#message-{ids['edited']} summary").click()
    expect(page.locator(f"#message-{ids['edited']} .edits")).to_contain_text("First try")
    assert page.evaluate("window.pwned") is None
    assert page.locator("#timeline svg").count() == 0
    snap("items")

    # The image: previewed, enlarged in a dialog, closed with Escape.
    photo = page.locator(f"#message-{ids['photo']}")
    expect(photo.get_by_role("img")).to_have_js_property("naturalWidth", 1)
    photo.get_by_role("button", name=re.compile("Enlarge")).click()
    viewer = page.locator("#image-dialog")
    expect(viewer).to_be_visible()
    expect(viewer.get_by_role("link", name="Download")).to_have_attribute(
        "href", re.compile(r"/inbox/files/\d+\?download=1")
    )
    snap("image")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    # The quote jumps to the quoted message and highlights it.
    page.locator(".quote").first.click()
    expect(photo).to_have_class(re.compile("highlighted"))

    page.set_viewport_size({"width": 375, "height": 740})
    expect(page.get_by_role("heading", name="Ada Lovelace", level=2)).to_be_visible()
    snap("items-375")


def test_a_failed_reply_shows_its_reason_and_retry_sends_it(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Hello?")
    world.service.status = 500
    log_in(page, "owner@example.com")
    _open(page, "Ada Lovelace")
    page.get_by_role("textbox", name="Message").fill("We are on it")
    page.get_by_role("button", name="Send").click()
    failure = page.locator(".item.outgoing .failure")
    expect(failure).to_be_visible(timeout=30_000)
    expect(failure).to_contain_text("service")
    snap("failed")
    tries = len(world.replies())

    world.service.status = 200
    failure.get_by_role("button", name="Retry").click()
    wait_for(lambda: len(world.replies()) == tries + 1, "the retry reaches the service")
    expect(page.locator(".item.outgoing .delivery")).to_contain_text("Sent")
    expect(page.locator(".item.outgoing .failure")).to_have_count(0)


def test_closing_needs_a_note_when_the_workspace_says_so(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.hub.query(_mandatory_notes)
    world.customer_writes("ada-lovelace", "Thanks, all good")
    log_in(page, "owner@example.com")
    _open(page, "Ada Lovelace")
    page.get_by_role("toolbar").get_by_role("button", name="Close").click()
    dialog = page.get_by_role("dialog", name="Close the conversation")
    dialog.get_by_role("button", name="Close conversation").click()
    expect(dialog.get_by_role("alert")).to_contain_text("closing note is required")
    snap("note-required")
    assert world.hub.count(Conversation, Conversation.status == "closed") == 0

    dialog.get_by_label(re.compile("Closing note")).fill("Refund sent <b>today</b>")
    dialog.get_by_role("button", name="Close conversation").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#pane-head")).to_contain_text("closed")
    expect(page.get_by_role("log")).to_contain_text(
        "Olive Owner closed this with note: “Refund sent <b>today</b>”"
    )
    expect(page.get_by_role("toolbar").get_by_role("button", name="Reopen")).to_be_visible()


async def _mandatory_notes(db: AsyncSession) -> None:
    await save_workspace_settings(db, {"closing_notes": "mandatory"})
    await db.commit()


def test_a_snooze_ends_by_itself(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Call me next week")
    log_in(page, "owner@example.com")
    _open(page, "Ada Lovelace")
    page.get_by_role("toolbar").get_by_role("button", name="Snooze").click()
    dialog = page.get_by_role("dialog", name="Snooze until…")
    expect(dialog.get_by_role("button", name=re.compile("Tomorrow"))).to_be_visible()
    # A few seconds from now, in the browser's time zone, to the second.
    soon = page.evaluate(
        """() => { const d = new Date(Date.now() + 4000); const p = (n) => String(n).padStart(2, "0");
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`; }"""
    )
    dialog.get_by_label(re.compile("Or pick a date")).fill(soon)
    snap("snooze-dialog")
    dialog.get_by_role("button", name="Snooze", exact=True).click()
    expect(dialog).to_be_hidden()
    head = page.locator("#pane-head")
    expect(head).to_contain_text("snoozed")
    expect(page.get_by_role("log")).to_contain_text("Olive Owner snoozed this until")
    # The snooze job wakes it, and the page hears of it live.
    expect(page.get_by_role("log")).to_contain_text("The snooze ended", timeout=30_000)
    expect(head).to_contain_text("open")
    expect(page.get_by_role("toolbar").get_by_role("button", name="Snooze")).to_be_visible()


def test_assigning_to_another_agent(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.hub.add_user("ben@example.com", role="agent", name="Ben Agent")
    world.customer_writes("ada-lovelace", "Who is helping me?")
    log_in(page, "owner@example.com")
    _open(page, "Ada Lovelace")
    page.get_by_role("toolbar").get_by_role("button", name="Assign").click()
    dialog = page.get_by_role("dialog", name="Assign the conversation")
    dialog.get_by_label("Assign to").select_option(label="Ben Agent")
    snap("assign")
    dialog.get_by_role("button", name="Assign", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#pane-head .pane-assignee")).to_have_text("Ben Agent")
    expect(page.get_by_role("log")).to_contain_text("Olive Owner assigned this to Ben Agent")
    ben = world.hub.users["ben@example.com"].id
    assert world.hub.count(Conversation, Conversation.assignee_id == ben) == 1


def test_a_copied_link_opens_the_message_after_logging_in(
    page: Page, world: InboxWorld, browser: Browser, artifacts: Path
) -> None:
    world.customer_writes("ada-lovelace", "The first question")
    for n in range(3):
        world.customer_writes("ada-lovelace", f"Follow-up {n}")
    log_in(page, "owner@example.com")
    _open(page, "Ada Lovelace")
    first = page.locator(".item.message", has_text="The first question")
    first.get_by_role("link", name="Copy link").click()
    expect(first.get_by_role("link", name="Link copied")).to_be_visible()
    link = page.evaluate("navigator.clipboard.readText()")
    assert re.search(r"/inbox/conversations/\d+\?item=message(:|%3A)\d+$", link), link

    fresh = browser.new_context(viewport={"width": 375, "height": 740})
    other = fresh.new_page()
    try:
        other.goto(link)
        expect(other).to_have_url(re.compile(r"/login\?next="))
        other.get_by_label("Email").fill("owner@example.com")
        other.get_by_label("Password").fill(PASSWORD)
        other.get_by_role("button", name="Log in").click()
        expect(other).to_have_url(link)
        target = other.locator(".item.message", has_text="The first question")
        expect(target).to_have_class(re.compile("highlighted"))
        expect(target).to_be_in_viewport()
        expect(other.get_by_role("heading", name="Ada Lovelace", level=2)).to_be_visible()
        other.screenshot(path=str(artifacts / "test_inbox_thread-link-375.png"), full_page=True)
    finally:
        fresh.close()
