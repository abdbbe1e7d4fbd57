"""Bulk actions and merging in the browser: select rows (click, shift-click, x, Esc, the
page, all matching), assign 200 conversations to an agent in a background job with its
progress and summary, label and prioritise a selection, close one with the closing note
the workspace requires, and merge one conversation into another of the same contact
(which then offers no reply)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from hub.inbox.priority import level
from hub.inbox.workspace import save_workspace_settings
from hub.store.models import (
    Contact,
    Conversation,
    ConversationLabel,
    Label,
    Macro,
    Message,
)
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


def test_bulk_label_and_priority_on_a_selection(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    async def labels(db: AsyncSession) -> int:
        billing = Label(name="Billing", name_key="billing", colour="green")
        db.add_all([billing, Label(name="VIP", name_key="vip", colour="purple")])
        await db.commit()
        return billing.id

    billing_id = hub.query(labels)
    seed(hub, world.channel_id, 30)
    log_in(page, "owner@example.com")
    rows = page.locator("#rows > .row")
    expect(rows).to_have_count(25)
    bar = page.locator("#bulk-bar")
    summary = bar.locator("[data-bulk-summary]")
    carrying = (ConversationLabel.label_id == billing_id,)

    # Every matching conversation (30, past the first page) gets Billing.
    page.get_by_label("Select every conversation on the page").check()
    page.get_by_role("button", name="Select all 30 matching this view").click()
    bar.get_by_role("button", name="Label", exact=True).click()
    dialog = page.locator("#bulk-label-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Labels for all 30 matching conversations")
    # The pane's picker: its filter narrows, Enter ticks the only one left.
    dialog.get_by_label("Filter labels").fill("bill")
    expect(dialog.locator(".label-choice:not([hidden])")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("checkbox", name="Billing")).to_be_checked()
    dialog.get_by_label("Filter labels").fill("")
    snap("label-dialog")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(summary).to_have_text("30 labelled Billing.", timeout=60_000)
    expect(rows.first.locator(".label-chip", has_text="Billing")).to_be_visible()
    assert hub.count(ConversationLabel, *carrying) == 30
    snap("labelled")

    # Two rows: take it off again.
    boxes = page.locator("#rows > .row [data-select]")
    boxes.nth(0).click()
    boxes.nth(1).click(modifiers=["Shift"])
    bar.get_by_role("button", name="Label", exact=True).click()
    dialog.get_by_role("checkbox", name="Billing").check()
    dialog.get_by_role("button", name="Remove", exact=True).click()
    expect(summary).to_have_text("2 unlabelled Billing.")
    expect(rows.nth(0).locator(".label-chip", has_text="Billing")).to_have_count(0)
    assert hub.count(ConversationLabel, *carrying) == 28

    # The page's 25: High priority.
    page.get_by_label("Select every conversation on the page").check()
    bar.get_by_role("button", name="Priority", exact=True).click()
    choosing = page.locator("#bulk-priority-dialog")
    expect(choosing).to_contain_text("Priority of 25 conversations")
    choosing.get_by_role("button", name="Set priority").click()  # nothing chosen yet
    expect(choosing.locator(".dialog-error")).to_have_text("Choose a priority.")
    choosing.get_by_label("High").check()
    expect(choosing.locator(".dialog-error")).to_be_hidden()
    snap("priority-dialog")
    choosing.get_by_role("button", name="Set priority").click()
    expect(summary).to_have_text("25 prioritised as High.")
    expect(rows.first.locator(".priority-tag")).to_have_text(re.compile("high", re.I))
    assert hub.count(Conversation, Conversation.priority == level("high")) == 25

    # On a phone: the bar and the label dialog fit.
    page.set_viewport_size({"width": 390, "height": 844})
    boxes.nth(0).click()
    expect(bar.get_by_role("button", name="Priority", exact=True)).to_be_visible()
    snap("phone-bar-with-label-and-priority")
    bar.get_by_role("button", name="Label", exact=True).click()
    expect(dialog).to_be_visible()
    snap("phone-label-dialog")


def test_bulk_close_asks_for_the_mandatory_closing_note(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    async def mandatory(db: AsyncSession) -> None:
        await save_workspace_settings(db, {"closing_notes": "mandatory"})
        await db.commit()

    hub.query(mandatory)
    seed(hub, world.channel_id, 3)
    log_in(page, "owner@example.com")
    rows = page.locator("#rows > .row")
    expect(rows).to_have_count(3)
    bar = page.locator("#bulk-bar")
    page.get_by_label("Select every conversation on the page").check()
    bar.get_by_role("button", name="Close", exact=True).click()
    dialog = page.locator("#bulk-close-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Close 3 conversations with a note")
    expect(dialog.get_by_label("Closing note (required)")).to_be_focused()
    # Empty: asked again, nothing closed.
    dialog.get_by_role("button", name="Close", exact=True).click()
    expect(dialog.locator(".dialog-error")).to_contain_text("Write a closing note")
    expect(dialog).to_be_visible()
    assert hub.count(Conversation, Conversation.status == "closed") == 0
    dialog.get_by_label("Closing note (required)").fill("Outage over, answered by mail")
    snap("close-dialog")
    dialog.get_by_role("button", name="Close", exact=True).click()
    expect(bar.locator("[data-bulk-summary]")).to_have_text("3 closed.")
    expect(rows).to_have_count(0)  # the Open tab no longer lists them
    note = Conversation.closing_note == "Outage over, answered by mail"
    assert hub.count(Conversation, Conversation.status == "closed", note) == 3
    page.set_viewport_size({"width": 390, "height": 844})
    snap("phone-closed-summary")


def test_a_macro_runs_on_a_selection_each_conversation_all_or_nothing(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    async def macro(db: AsyncSession) -> None:
        actions = [
            {"type": "set_priority", "priority": "urgent"},
            {"type": "snooze", "minutes": 120},
        ]
        db.add(Macro(name="Escalate and wait", actions=actions))
        await db.commit()

    hub.query(macro)
    seed(hub, world.channel_id, 6)
    log_in(page, "owner@example.com")
    rows = page.locator("#rows > .row")
    expect(rows).to_have_count(6)
    bar = page.locator("#bulk-bar")
    page.get_by_label("Select every conversation on the page").check()
    bar.get_by_role("button", name="Macro", exact=True).click()
    dialog = page.locator("#bulk-macro-dialog")
    expect(dialog).to_contain_text("Run a macro on 6 conversations")
    expect(dialog.get_by_label("Macro")).to_have_text("Escalate and wait")
    snap("macro-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    # On a phone: the bar, the dialog, and the run.
    page.set_viewport_size({"width": 390, "height": 844})
    bar.get_by_role("button", name="Macro", exact=True).click()
    expect(dialog).to_be_visible()
    snap("phone-macro-dialog")
    dialog.get_by_role("button", name="Run", exact=True).click()
    expect(bar.locator("[data-bulk-summary]")).to_have_text("Macro “Escalate and wait”: 6 done.")
    expect(rows).to_have_count(0)  # snoozed: no longer on the Open tab
    urgent = Conversation.priority == level("urgent")
    assert hub.count(Conversation, urgent, Conversation.status == "snoozed") == 6
    snap("phone-macro-summary")


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
        db.add(Macro(name="Wrap up", actions=[{"type": "close"}]))  # offered elsewhere
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
    # The target, open and not merged, is offered the macro (what the source is not).
    page.keyboard.press("Control+k")
    command_bar = page.get_by_role("dialog", name="Command bar")
    command_bar.get_by_role("combobox").fill("run macro")
    expect(command_bar.get_by_role("option", name=re.compile("Run macro: Wrap up"))).to_be_visible()
    page.keyboard.press("Escape")
    expect(command_bar).to_be_hidden()

    # The source's page still opens, pointing at the target: no reply box, a notice in
    # its place, and nothing offers to reply, close, reopen or triage it.
    page.goto(f"/inbox/conversations/{source_id}")
    notice = page.locator("#merged-notice")
    expect(notice).to_contain_text(f"Merged into #{target_id} — reply there")
    expect(page.locator("#composer")).to_have_count(0)
    expect(head.get_by_role("button", name="Merge")).to_have_count(0)
    for action in ("close", "reopen", "snooze", "assign", "labels", "priority"):
        expect(head.locator(f'[data-action="{action}"]')).to_have_count(0)
    page.locator("#timeline").focus()
    page.keyboard.press("r")  # the reply shortcut: nothing to focus, nothing breaks
    page.keyboard.press("Control+k")
    command_bar = page.get_by_role("dialog", name="Command bar")
    options = command_bar.get_by_role("option")
    expect(options.first).to_be_visible()
    command_bar.get_by_role("combobox").fill("Search")  # what it does offer
    expect(options.filter(has_text=re.compile(r"^Search —"))).to_have_count(1)
    for word in ("Close", "Reopen", "Reply", "Run macro", "Assign", "Add label", "Set priority"):
        command_bar.get_by_role("combobox").fill(word)
        expect(options.filter(has_text=re.compile(rf"^{word}\b"))).to_have_count(0)
    page.keyboard.press("Escape")
    expect(command_bar).to_be_hidden()
    snap("merged-notice")
    page.set_viewport_size({"width": 390, "height": 844})
    snap("phone-merged-notice")
    notice.get_by_role("link", name=f"#{target_id}").click()
    expect(page).to_have_url(re.compile(rf"/inbox/conversations/{target_id}(\?|$)"))


def test_the_merge_picker_filters_a_contact_with_many_conversations(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Where is my parcel?")

    async def many(db: AsyncSession) -> int:
        first = await db.get(Conversation, 1)
        assert first is not None
        older = [
            Conversation(
                contact_id=first.contact_id,
                channel_id=first.channel_id,
                subject="Old invoice" if i == 0 else f"Question {i}",
                status="closed",
                last_message_at=START + timedelta(minutes=i),
            )
            for i in range(55)
        ]
        db.add_all(older)
        await db.commit()
        return older[0].id

    invoice_id = hub.query(many)
    log_in(page, "owner@example.com")
    page.goto("/inbox/conversations/1")
    page.locator("#pane-head").get_by_role("button", name="Merge").click()
    dialog = page.locator("#merge-dialog")
    targets = dialog.locator("[data-merge-into]")
    expect(targets).to_have_count(50)  # the latest 50; the oldest needs the filter
    expect(dialog.locator(f'[data-merge-into="{invoice_id}"]')).to_have_count(0)
    dialog.get_by_label("Filter by number, subject or message").fill("invoice")
    expect(targets).to_have_count(1)
    expect(targets.first).to_contain_text(f"#{invoice_id}")
    expect(dialog.get_by_label("Filter by number, subject or message")).to_be_focused()
    snap("merge-filter")
    page.set_viewport_size({"width": 390, "height": 844})
    snap("phone-merge-filter")
    page.keyboard.press("Escape")  # closes, not only clears the box
    expect(dialog).to_be_hidden()
