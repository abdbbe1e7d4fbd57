"""The composer in the browser: one reply for a double click, drafts that survive a
reload and reach another device, comments with @mentions, snippets and variables from
the keyboard, files checked before upload, reply-to, typing, and the phone layout."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.inbox.snippets import create_snippet
from hub.store.models import Comment, Conversation, Message
from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub, wait_for
from tests.browser.inbox_world import InboxWorld

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000105fe02fea70000000049454e44ae426082"
)


def open_first_conversation(page: Page, name: str) -> None:
    page.get_by_role("list", name="All").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=2)).to_be_visible()


def composer_text(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("textbox", name="Message")


def outgoing(hub: LiveHub) -> list[Message]:
    async def rows(db: AsyncSession) -> list[Message]:
        return list(await db.scalars(select(Message).where(Message.direction == "out")))

    return hub.query(rows)


def test_a_double_click_on_send_sends_one_reply_and_ctrl_enter_sends_the_next(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Where is my parcel?")
    log_in(page, "owner@example.com")
    open_first_conversation(page, "Ada Lovelace")
    composer_text(page).fill("It left the depot this morning.")
    page.get_by_role("button", name="Send").dblclick()
    thread = page.get_by_role("log")
    expect(thread).to_contain_text("It left the depot this morning.")
    wait_for(lambda: len(world.replies()) == 1, "the service has the reply")
    expect(composer_text(page)).to_have_value("")
    time.sleep(1)  # a second send, were there one, would have reached the service by now
    assert [r["text"] for r in world.replies()] == ["It left the depot this morning."]
    assert len(outgoing(world.hub)) == 1

    composer_text(page).fill("Tracking: 1042")
    composer_text(page).press("Control+Enter")
    wait_for(lambda: len(world.replies()) == 2, "the service has the second reply")
    assert world.replies()[1]["text"] == "Tracking: 1042"
    snap("sent")


def test_a_draft_survives_a_reload_and_shows_in_another_browser_of_the_same_user(
    page: Page, world: InboxWorld, browser: Browser, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Can I change my address?")
    log_in(page, "owner@example.com")
    open_first_conversation(page, "Ada Lovelace")
    with page.expect_response(lambda r: r.url.endswith("/draft") and r.request.method == "PUT"):
        composer_text(page).fill("Yes: send me the new address and")
    page.reload()
    expect(composer_text(page)).to_have_value("Yes: send me the new address and")

    other = browser.new_context(base_url=world.hub.url, viewport={"width": 1280, "height": 900})
    try:
        phone = other.new_page()
        phone.set_default_timeout(30_000)
        log_in(phone, "owner@example.com")
        phone.goto(page.url)
        expect(composer_text(phone)).to_have_value("Yes: send me the new address and")
        # Typing on the second device refreshes the first, which is not being typed in.
        page.get_by_role("heading", name="Ada Lovelace", level=2).click()
        composer_text(phone).fill("Yes: send me the new address and I will update it.")
        expect(composer_text(page)).to_have_value(
            "Yes: send me the new address and I will update it.", timeout=15_000
        )
        # Sending deletes the draft: neither device shows it any more.
        composer_text(phone).press("Control+Enter")
        wait_for(lambda: len(world.replies()) == 1, "the service has the reply")
        expect(composer_text(page)).to_have_value("")
        page.reload()
        expect(composer_text(page)).to_have_value("")
    finally:
        other.close()
    snap("after")


def test_an_internal_comment_mentions_a_colleague_chosen_by_keyboard(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    ben = world.hub.add_user("ben@example.com", role="agent", name="Ben Berger")
    world.customer_writes("ada-lovelace", "I need a refund")
    log_in(page, "owner@example.com")
    open_first_conversation(page, "Ada Lovelace")
    page.get_by_label("Internal comment").check()
    form = page.locator("#composer")
    expect(form).to_have_class(re.compile(r"\bcomment-mode\b"))
    composer_text(page).press_sequentially("Can you approve this, @Be")
    options = page.get_by_role("listbox", name="Suggestions").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("Ben Berger <ben@example.com>")
    expect(composer_text(page)).to_have_attribute("aria-activedescendant", "composer-option-0")
    snap("mention-picker")
    composer_text(page).press("Enter")
    expect(composer_text(page)).to_have_value("Can you approve this, @Ben Berger ")
    composer_text(page).press_sequentially("please?")
    composer_text(page).press("Control+Enter")
    expect(page.locator(".item.comment")).to_contain_text(
        "Can you approve this, @Ben Berger please?"
    )

    async def mentions(db: AsyncSession) -> list[list[int]]:
        return [list(c.mentions) for c in await db.scalars(select(Comment))]

    assert world.hub.query(mentions) == [[ben.id]]
    assert world.replies() == []  # a comment never reaches the contact


def test_a_snippet_by_slash_and_a_variable_by_dollar(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    hub = world.hub
    world.customer_writes("ada-lovelace", "Thanks for the help")

    async def snippet(db: AsyncSession) -> None:
        await create_snippet(
            db, hub.viewer(), name="Closing", shortcut="bye", body="Have a good day, $contact.name!"
        )
        await create_snippet(db, hub.viewer(), name="Thanks", shortcut="thanks", body="Thanks!")
        await db.commit()

    hub.query(snippet)
    log_in(page, "owner@example.com")
    open_first_conversation(page, "Ada Lovelace")
    composer_text(page).press_sequentially("/")
    options = page.get_by_role("listbox", name="Suggestions").get_by_role("option")
    expect(options).to_have_count(2)
    composer_text(page).press_sequentially("by")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("/bye — Closing")
    snap("snippets")
    composer_text(page).press("Enter")
    expect(composer_text(page)).to_have_value("Have a good day, Ada Lovelace!")

    composer_text(page).press_sequentially(" $agent.n")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("$agent.name — Olive Owner")
    composer_text(page).press("Escape")
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_hidden()
    composer_text(page).press("Backspace")
    composer_text(page).press_sequentially("n")
    composer_text(page).press("Tab")
    expect(composer_text(page)).to_have_value("Have a good day, Ada Lovelace! Olive Owner")


def test_files_are_checked_before_upload_and_an_accepted_one_is_delivered(
    page: Page, world: InboxWorld, snap: Callable[[str], None], tmp_path: Path
) -> None:
    world.customer_writes("ada-lovelace", "Can you send the invoice?")
    log_in(page, "owner@example.com")
    open_first_conversation(page, "Ada Lovelace")
    uploads: list[str] = []
    page.on(
        "request",
        lambda r: uploads.append(r.url) if r.url.endswith("/api/v1/attachments") else None,
    )
    picker = page.locator("#composer [data-file-input]")
    error = page.locator("#composer .composer-error")

    picker.set_input_files(
        [{"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ" * 10}]
    )
    expect(error).to_contain_text("tool.exe: this type of file cannot be sent")
    # A file on disk, not a buffer: the browser reads it from its path, where 21 MB of
    # buffer would cross the DevTools protocol as base64 (20 s here).
    big = tmp_path / "scan.png"
    with big.open("wb") as file:
        file.truncate(21 * 1024 * 1024)
    picker.set_input_files(big)
    expect(error).to_contain_text("scan.png is 21 MB: files may be at most 20 MB.")
    assert uploads == []  # refused before anything was sent

    picker.set_input_files([{"name": "invoice.png", "mimeType": "image/png", "buffer": PNG}])
    chip = page.get_by_role("list", name="Files to send").get_by_role("listitem")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text("invoice.png")
    expect(chip).not_to_have_attribute("data-attachment-id", "")
    expect(error).to_be_hidden()
    snap("file")
    composer_text(page).fill("Here it is.")
    page.get_by_role("button", name="Send").click()
    wait_for(lambda: len(world.replies()) == 1, "the service has the reply")
    reply = world.replies()[0]
    assert reply["text"] == "Here it is."
    assert [a["filename"] for a in reply["attachments"]] == ["invoice.png"]
    expect(chip).to_have_count(0)
    assert len(uploads) == 1


def test_reply_to_a_message_warns_where_the_channel_cannot_show_it(
    page: Page, world: InboxWorld
) -> None:
    world.customer_writes("ada-lovelace", "Is the blue one in stock?")
    log_in(page, "owner@example.com")
    open_first_conversation(page, "Ada Lovelace")
    message = page.locator(".item.message").first
    message.hover()
    message.get_by_role("button", name="Reply to this message").click()
    quote = page.locator("#composer [data-reply-quote]")
    expect(quote).to_contain_text("Is the blue one in stock?")
    expect(quote).to_contain_text("Acme chat cannot show a reply to a message")
    expect(composer_text(page)).to_be_focused()
    composer_text(page).fill("Yes, it is.")
    composer_text(page).press("Control+Enter")
    wait_for(lambda: len(world.replies()) == 1, "the service has the reply")
    expect(quote).to_be_hidden()
    sent = outgoing(world.hub)
    assert len(sent) == 1 and sent[0].reply_to_id is not None


def test_another_agent_sees_who_is_typing(page: Page, world: InboxWorld, browser: Browser) -> None:
    world.hub.add_user("ana@example.com", role="agent", name="Ana Alves")
    world.customer_writes("ada-lovelace", "Hello?")
    log_in(page, "owner@example.com")
    open_first_conversation(page, "Ada Lovelace")
    other = browser.new_context(base_url=world.hub.url, viewport={"width": 1280, "height": 900})
    try:
        ana = other.new_page()
        ana.set_default_timeout(30_000)
        log_in(ana, "ana@example.com")
        ana.goto(page.url)
        expect(ana.locator("body[data-socket=live]")).to_have_count(1)
        expect(page.locator("body[data-socket=live]")).to_have_count(1)
        composer_text(ana).press_sequentially("Hi Ada")
        expect(page.locator("#typing-indicator")).to_have_text("Ana Alves is typing…")
    finally:
        other.close()


def test_the_composer_on_a_phone_stays_at_the_bottom(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    for n in range(12):
        world.customer_writes("ada-lovelace", f"Message number {n} about my order")
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, "owner@example.com")
    page.get_by_role("link", name=re.compile("Ada Lovelace")).click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=2)).to_be_visible()
    composer = page.locator("#composer")
    expect(composer).to_be_in_viewport()
    box = composer.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 740 + 1
    assert box["width"] <= 375
    page.get_by_role("button", name="Reply to this message").last.click()
    composer_text(page).fill("We are on it, Ada.")
    snap("phone-reply")
    page.get_by_label("Internal comment").check()
    expect(composer).to_have_class(re.compile(r"\bcomment-mode\b"))
    snap("phone-comment")


def test_a_new_conversation_with_a_contact_on_their_channel(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Thanks, all sorted")
    log_in(page, "owner@example.com")
    open_first_conversation(page, "Ada Lovelace")
    page.get_by_role("button", name="Close", exact=True).click()
    # Closing notes are optional by default: the dialog asks for one, none is given.
    page.get_by_role("dialog", name="Close the conversation").get_by_role(
        "button", name="Close conversation"
    ).click()
    expect(page.locator("#pane-head")).to_contain_text("closed")

    page.get_by_role("button", name="New conversation").click()
    dialog = page.get_by_role("dialog", name="New conversation")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Find a contact").fill("ada")
    contact = dialog.get_by_label("Contact", exact=True)
    expect(contact.locator("option")).to_have_count(1)
    expect(contact).to_have_value(re.compile(r"^\d+$"))  # the one found is chosen
    expect(dialog.get_by_label("Channel")).to_have_value(str(world.channel_id))
    dialog.get_by_label("Message").fill("Your new order has shipped.")
    snap("dialog")
    dialog.get_by_role("button", name="Start conversation").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("log")).to_contain_text("Your new order has shipped.")
    wait_for(lambda: len(world.replies()) == 1, "the service has the first message")
    assert world.replies()[0]["text"] == "Your new order has shipped."
    expect(page).to_have_url(re.compile(r"/inbox/conversations/\d+"))
    started = outgoing(world.hub)[0].conversation_id
    assert f"/conversations/{started}?" in page.url
    assert world.hub.count(Conversation) == 2  # a new one beside the closed one
