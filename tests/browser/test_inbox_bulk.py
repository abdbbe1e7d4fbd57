"""Bulk actions and merging in the browser: select rows (click, shift-click, x, Esc, the
page, all matching), assign 200 conversations to an agent in a background job with its
progress and summary, and merge one conversation into another of the same contact."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Contact, Conversation, Message
from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub
from tests.browser.inbox_world import InboxWorld

SEEDED = 200
START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def seed(hub: LiveHub, channel_id: int, how_many: int) -> None:
    """``how_many`` open, unassigned conversations, each with a contact and a message,
    written straight to the store (the UI is what is under test, not the seeding)."""

    async def add(db: AsyncSession) -> None:
        contacts = [Contact(name=f"Customer {i:03}") for i in range(how_many)]
        db.add_all(contacts)
        await db.flush()
        conversations = [
            Conversation(
                contact_id=contact.id,
                channel_id=channel_id,
                last_message_at=START + timedelta(minutes=i),
                last_message_direction="in",
            )
            for i, contact in enumerate(contacts)
        ]
        db.add_all(conversations)
        await db.flush()
        db.add_all(
            Message(
                conversation_id=c.id,
                channel_id=channel_id,
                direction="in",
                status="received",
                text=f"Question {i}",
                created_at=START + timedelta(minutes=i),
            )
            for i, c in enumerate(conversations)
        )
        await db.commit()

    hub.query(add)


def test_bulk_assign_of_200_conversations_shows_progress_and_a_summary(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    ben = hub.add_user("ben@example.com", role="agent", name="Ben Agent")
    seed(hub, world.channel_id, SEEDED)
    log_in(page, "owner@example.com")
    rows = page.locator("#rows > .row")
    expect(rows).to_have_count(25)
    bar = page.locator("#bulk-bar")
    expect(bar).to_be_hidden()

    # Click one box, shift-click a fifth: a range of five.
    boxes = page.locator("#rows > .row [data-select]")
    boxes.nth(0).click()
    expect(bar).to_be_visible()
    expect(bar.locator("[data-bulk-count]")).to_have_text("1 selected")
    boxes.nth(4).click(modifiers=["Shift"])
    expect(bar.locator("[data-bulk-count]")).to_have_text("5 selected")
    expect(page.locator("#rows > .row.selected")).to_have_count(5)
    # Esc clears the selection; x toggles the focused row's.
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()
    rows.nth(2).locator(".row-link").focus()
    page.keyboard.press("x")
    expect(bar.locator("[data-bulk-count]")).to_have_text("1 selected")
    expect(rows.nth(2)).to_have_class("row selected")
    page.keyboard.press("x")
    expect(bar).to_be_hidden()

    # The page's box, then every conversation matching the view (as in Gmail).
    page.get_by_label("Select every conversation on the page").check()
    expect(bar.locator("[data-bulk-count]")).to_have_text("25 selected")
    # The offer counts what the view holds for this user.
    page.get_by_role("button", name=f"Select all {SEEDED} matching this view").click()
    expect(bar.locator("[data-bulk-count]")).to_have_text(f"All {SEEDED} matching selected")
    snap("all-matching-selected")

    bar.get_by_role("button", name="Assign", exact=True).click()
    dialog = page.locator("#bulk-assign-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Assign all {SEEDED} matching conversations")
    dialog.locator("#bulk-assign-to").select_option(label="Ben Agent")
    snap("assign-dialog")
    dialog.get_by_role("button", name="Assign", exact=True).click()

    # Over 25: a background job; the bar follows its progress, then sums it up.
    progress = bar.locator("[data-bulk-progress]")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text(f"of {SEEDED} done")
    snap("progress")
    summary = bar.locator("[data-bulk-summary]")
    expect(summary).to_have_text(f"{SEEDED} assigned.", timeout=60_000)
    expect(progress).to_be_hidden()
    snap("summary")
    # The rows show the new assignee; the store agrees, one event per conversation.
    expect(rows.first.locator(".row-assignee")).to_have_text("Ben Agent")
    expect(page.locator("#rows > .row .row-assignee", has_text="Unassigned")).to_have_count(0)
    assert hub.count(Conversation, Conversation.assignee_id == ben.id) == SEEDED
    expect(page.locator("#rows > .row.selected")).to_have_count(0)
    bar.get_by_role("button", name="Dismiss").click()
    expect(bar).to_be_hidden()

    # On a phone: the boxes and the bar fit.
    page.set_viewport_size({"width": 390, "height": 844})
    boxes.nth(0).click()
    boxes.nth(2).click(modifiers=["Shift"])
    expect(bar.locator("[data-bulk-count]")).to_have_text("3 selected")
    snap("phone-selected")


def test_merging_a_conversation_moves_its_timeline_and_leaves_a_notice(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "My first question")

    async def second(db: AsyncSession) -> tuple[int, int]:
        first = await db.get(Conversation, 1)
        assert first is not None
        first.status = "closed"
        later = Conversation(
            contact_id=first.contact_id,
            channel_id=first.channel_id,
            last_message_at=datetime.now(UTC),
            last_message_direction="in",
        )
        db.add(later)
        await db.flush()
        db.add(
            Message(
                conversation_id=later.id,
                channel_id=first.channel_id,
                direction="in",
                status="received",
                text="Following up on that",
            )
        )
        await db.commit()
        return first.id, later.id

    target_id, source_id = hub.query(second)
    log_in(page, "owner@example.com")
    page.goto(f"/inbox/conversations/{source_id}")
    head = page.locator("#pane-head")
    head.get_by_role("button", name="Merge").click()
    dialog = page.locator("#merge-dialog")
    choice = dialog.get_by_role("button", name=f"#{target_id}")
    expect(choice).to_be_visible()
    snap("merge-dialog")
    choice.click()

    # The target opens, with both conversations' messages in time order and the event.
    expect(page).to_have_url(re.compile(rf"/inbox/conversations/{target_id}(\?|$)"))
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("My first question")
    expect(timeline).to_contain_text("Following up on that")
    expect(timeline).to_contain_text(f"merged #{source_id} into this")
    texts = timeline.locator(".message").all_inner_texts()
    first = next(i for i, t in enumerate(texts) if "My first question" in t)
    then = next(i for i, t in enumerate(texts) if "Following up on that" in t)
    assert first < then
    snap("merged-target")

    # The source's page still opens, pointing at the target.
    page.goto(f"/inbox/conversations/{source_id}")
    notice = page.locator(".merged-notice")
    expect(notice).to_contain_text(f"merged into #{target_id}")
    expect(head.get_by_role("button", name="Merge")).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})
    snap("phone-merged-notice")
    notice.get_by_role("link", name=f"#{target_id}").click()
    expect(page).to_have_url(re.compile(rf"/inbox/conversations/{target_id}(\?|$)"))
