"""The inbox by keyboard alone: moving through the list, replying, commenting, closing
and landing on the next conversation, the list of shortcuts, and the command bar; and no
shortcut fires while the agent types."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.inbox_world import InboxWorld


def test_keyboard_only_triage_of_three_conversations(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Where is my parcel?")
    world.customer_writes("grace-hopper", "Can I change my address?")
    world.customer_writes("linus-pauling", "Do you sell vitamin C?")
    log_in(page, "owner@example.com")
    rows = page.get_by_role("list", name="All").get_by_role("listitem")
    expect(rows).to_have_count(3)
    conversation = page.locator("#conversation-heading")

    # j opens the first conversation, then the next; k goes back; Alt+↓ forward again.
    page.keyboard.press("j")
    expect(conversation).to_have_text("Linus Pauling")
    page.keyboard.press("j")
    expect(conversation).to_have_text("Grace Hopper")
    page.keyboard.press("k")
    expect(conversation).to_have_text("Linus Pauling")
    page.keyboard.press("Alt+ArrowDown")
    expect(conversation).to_have_text("Grace Hopper")
    expect(page.locator("#row-2 .row-link")).to_have_attribute("aria-current", "true")

    # r: the composer in reply mode, focused. Typing letters that are shortcuts (j, k,
    # e, s, c, a, /, ?) only types them.
    page.keyboard.press("r")
    composer = page.get_by_role("textbox", name="Message")
    expect(composer).to_be_focused()
    expect(page.get_by_role("radio", name="Reply")).to_be_checked()
    text = "Sure: just send the new one, and see? /a ok"
    page.keyboard.type(text)
    expect(composer).to_have_value(text)
    expect(conversation).to_have_text("Grace Hopper")
    expect(page.locator("dialog[open]")).to_have_count(0)
    snap("typing")
    page.keyboard.press("Control+Enter")
    thread = page.get_by_role("log")
    expect(thread).to_contain_text(text)
    expect(composer).to_have_value("")

    # The reply put Grace's conversation at the top (newest first): Linus is next.
    expect(rows.first).to_contain_text("Grace Hopper")
    # Esc leaves the composer; e closes Grace's conversation (the closing note is
    # optional by default: its dialog comes first, and Enter in it closes) and opens the
    # next one.
    page.keyboard.press("Escape")
    expect(composer).not_to_be_focused()
    page.keyboard.press("e")
    closing = page.get_by_role("dialog", name="Close the conversation")
    expect(closing).to_be_visible()
    closing.get_by_role("button", name="Close conversation").press("Enter")
    expect(conversation).to_have_text("Linus Pauling")
    expect(rows).to_have_count(2)  # Grace's left the Open list
    expect(page.get_by_role("list", name="All")).not_to_contain_text("Grace Hopper")

    # c: an internal comment, sent with Ctrl+Enter.
    page.keyboard.press("c")
    expect(composer).to_be_focused()
    expect(page.get_by_role("radio", name="Internal comment")).to_be_checked()
    page.keyboard.type("Ask the pharmacy team")
    page.keyboard.press("Control+Enter")
    expect(thread.locator(".item.comment")).to_contain_text("Ask the pharmacy team")
    page.keyboard.press("Escape")

    # ? lists the shortcuts; Esc closes the list.
    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    expect(shortcuts).to_contain_text("Next conversation")
    # While a dialog is open, shortcuts are off: j moves nothing.
    page.keyboard.press("j")
    expect(conversation).to_have_text("Linus Pauling")
    snap("shortcuts")
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()

    assert [r["text"] for r in world.replies()] == [text]


def test_the_command_bar_goes_to_an_inbox_acts_and_finds_a_contact(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Where is my parcel?")
    world.customer_writes("grace-hopper", "Can I change my address?")
    log_in(page, "owner@example.com")
    conversation = page.locator("#conversation-heading")
    bar = page.get_by_role("dialog", name="Command bar")
    box = bar.get_by_role("combobox")

    # A contact by name opens their conversation.
    page.keyboard.press("Control+k")
    expect(bar).to_be_visible()
    expect(box).to_be_focused()
    box.fill("ada lov")
    option = bar.get_by_role("option", name=re.compile("Open Ada Lovelace"))
    expect(option).to_be_visible()
    snap("contact")
    page.keyboard.press("Enter")
    expect(bar).to_be_hidden()
    expect(conversation).to_have_text("Ada Lovelace")

    # The open conversation's actions: Close.
    page.keyboard.press("Control+k")
    box.fill("close")
    expect(bar.get_by_role("option").first).to_contain_text("Close — Ada Lovelace")
    page.keyboard.press("Enter")
    closing = page.get_by_role("dialog", name="Close the conversation")
    closing.get_by_role("button", name="Close conversation").press("Enter")
    expect(page.locator('#pane-head [data-action="reopen"]')).to_be_visible()

    # Ctrl+K works from the composer too (it types nothing); ↓ and Enter pick an inbox.
    page.get_by_role("textbox", name="Message").click()
    page.keyboard.press("Control+k")
    box.fill("mine")
    expect(bar.get_by_role("option")).to_have_count(1)
    expect(bar.get_by_role("option", name=re.compile("Go to Mine"))).to_have_attribute(
        "aria-selected", "true"
    )
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"view=mine"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mine")

    # On a phone the bar opens from its button.
    page.set_viewport_size({"width": 375, "height": 740})
    page.get_by_role("button", name=re.compile("Jump to")).click()
    expect(bar).to_be_visible()
    box.fill("all")
    snap("phone")
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()
